"""Turning named exceptions into a clear message and an exit code (sqlite-utils style)."""

from __future__ import annotations

import contextlib
import sys

import typer

from chanaudit.core.errors import ChanauditError


class UserError(ChanauditError):
    """An error the user can fix (bad file, bad option); printed without a traceback."""


@contextlib.contextmanager
def friendly_errors(*kinds: type[BaseException]):
    """Print ``error: <message>`` and exit 2 for every :class:`ChanauditError` and the kinds named."""
    try:
        yield
    except (ChanauditError, FileNotFoundError, *kinds) as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)
