"""The signature tables: the detectors' vocabulary as data, one YAML file per concern.

``chat.yaml``, ``forms.yaml``, ``portal.yaml``, ``contact.yaml`` (email and phone),
``navigation.yaml`` (the one-click rule) and ``render.yaml`` (when a page needs a
browser). Every row carries a test (tests/test_signatures*.py and the detector tests).

Each reader follows one pattern: :func:`load` reads a file (once per process), and the
reader compiles it into its own frozen ``Table`` in a ``table()`` function cached with
:func:`functools.cache`, so the work happens on the first page, never at import::

    @cache
    def table() -> Table:
        data = signatures.load("forms")
        return Table(...)
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

FOLDER = Path(__file__).resolve().parent


@cache
def load(name: str) -> dict[str, Any]:
    """The table ``crawler/signatures/<name>.yaml``, read once per process. Shared by every
    caller: compile it, never change it."""
    return yaml.safe_load((FOLDER / f"{name}.yaml").read_text(encoding="utf-8"))
