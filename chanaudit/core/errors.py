"""Named errors a user can fix. The CLI turns these, and only these, into ``error: <message>``."""

from __future__ import annotations


class ChanauditError(Exception):
    """Base of every error whose message is meant for the user (a bad file, a bad option, a folder in use).
    The message names the file, line or option and says what is wrong."""


class InvalidOption(ChanauditError, ValueError):
    """An option outside its range (``--draws 0``, ``--conf 95``); the message names the option."""


class UnknownColumn(ChanauditError, KeyError):
    """A column a table does not have (to group by, to join on); the message names the file and lists the
    columns it has."""

    def __str__(self) -> str:  # a KeyError shows its message in quotes
        return str(self.args[0]) if self.args else ""
