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
        message = _path_problem(exc)
        if message is None:
            raise
        typer.echo(f"error: {message}", err=True)
        sys.exit(2)


def _path_problem(exc: OSError) -> str | None:
    """The message for an OS error the user fixes by freeing space or naming another path; None for the rest
    (a missing file the code should have checked for is a bug and keeps its traceback)."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"{exc.filename or 'output'}: no space left on device; free space and run the command again"
    if exc.filename is None:
        return None
    if isinstance(exc, FileExistsError):
        return f"{exc.filename}: a file is in the way where a folder is to be written; name a folder"
    if isinstance(exc, NotADirectoryError):
        return f"{exc.filename}: goes through a file, not a folder"
    if isinstance(exc, IsADirectoryError):
        return f"{exc.filename}: a folder, where a file is to be read or written"
    if isinstance(exc, PermissionError) or exc.errno == errno.EROFS:
        return f"{exc.filename}: {exc.strerror}"
    return None
