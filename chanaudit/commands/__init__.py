"""CLI commands by area; each module exposes ``register(app)``."""

from __future__ import annotations

from rich.console import Console


def console(stderr: bool = False) -> Console:
    """The console commands print with: Rich markup off, so that what comes from the user's files and the
    web (company names, cells, paths, page snippets) prints as it is — ``[/b]`` in a name is text, not a
    style tag that stops the command with a MarkupError. Styled words use ``rich.text.Text``."""
    return Console(stderr=stderr, markup=False)
