"""Named errors a user can fix. The CLI turns these, and only these, into ``error: <message>``."""

from __future__ import annotations


class ChanauditError(Exception):
    """Base of every error whose message is meant for the user (a bad file, a bad option, a folder in use).
    The message names the file, line or option and says what is wrong."""
