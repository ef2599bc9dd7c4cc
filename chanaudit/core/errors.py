"""Named errors a user can fix. The CLI turns these, and only these, into ``error: <message>``."""

from __future__ import annotations


class ChanauditError(Exception):
    """Base of every error whose message is meant for the user (a bad file, a bad option, a folder in use).
    The message names the file, line or option and says what is wrong."""


class InvalidOption(ChanauditError, ValueError):
    """An option outside its range (``--draws 0``, ``--conf 95``); the message names the option."""
