"""Turning named exceptions into a clear message and an exit code (sqlite-utils style)."""

from __future__ import annotations

import contextlib
import errno
import sys

import typer

from chanaudit.core.errors import ChanauditError


class UserError(ChanauditError):
    """An error the user can fix (bad file, bad option); printed without a traceback."""


@contextlib.contextmanager
def friendly_errors():
    """Print ``error: <message>`` and exit 2 for a :class:`ChanauditError` (and its subclasses) only;
    an error with an ``exit_code`` (a run stopped by SIGTERM: 143) exits with that code.

    Every error meant for the user is named and raised where the problem is found, with a message that
    names the file, line or option; anything else is a bug and keeps its traceback. A full disk is no
    bug either: ``error: FILE: no space left on device``, exit 2."""
    try:
        yield
    except ChanauditError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(getattr(exc, "exit_code", 2))
    except OSError as exc:
        if exc.errno not in (errno.ENOSPC, errno.EDQUOT):
            raise
        typer.echo(f"error: {exc.filename or 'output'}: no space left on device; free space and run the command "
                   "again", err=True)
        sys.exit(2)
