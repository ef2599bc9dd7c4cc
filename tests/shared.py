"""The folders of ../shared that tests read (the labelled real sites, the vendor checklists): where they
are, and the rule that a test needing one skips on a developer's machine without it but fails under CI."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


def shared_folder(name: str, env: str, marker: str) -> Path:
    """``$env`` when set, else ``shared/<name>`` beside the checkout (or one level up): the first candidate
    holding ``marker``, or the first candidate when none does (``available`` then says no)."""
    if os.environ.get(env):
        return Path(os.environ[env])
    checkout = Path(__file__).resolve().parents[1]
    candidates = [checkout.parent / "shared" / name, checkout.parent.parent / "shared" / name]
    return next((c for c in candidates if (c / marker).exists()), candidates[0])


def skip_unless(available: bool, root: Path, env: str):
    """Skip when the folder is missing, except under CI (CI=true), where a missing folder fails the test."""
    return pytest.mark.skipif(not available and not os.environ.get("CI"), reason=f"{root} not present (set {env})")
