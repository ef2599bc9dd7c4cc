"""The documentation keeps up with the CLI (sqlite-utils' tests/test_docs.py).

Every command and sub-command of ``chanaudit`` has help text and is shown in the docs as
``chanaudit <command>`` (README.md or docs/*.md); every option has a help string and is listed
by ``chanaudit <command> --help``; the README stays a user's page of at most 250 lines.
A new command without docs, or an option without help, fails here.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from chanaudit.cli import app

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
README_MAX_LINES = 250


def walk(command, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], object]]:
    """(path, command) of every command and group below ``command``, sub-groups included.

    ``typer.main.get_command`` gives a click-style group (recent Typer vendors click, so groups are
    recognised by their ``commands``, not by a class)."""
    out = []
    if isinstance(getattr(command, "commands", None), dict):
        for name, sub in sorted(command.commands.items()):
            out.append(((*path, name), sub))
            out.extend(walk(sub, (*path, name)))
    return out


ROOT_COMMAND = typer.main.get_command(app)
COMMANDS = walk(ROOT_COMMAND)
IDS = [" ".join(path) for path, _ in COMMANDS]


def docs_text() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in [README, *sorted(DOCS.glob("*.md"))])


def options(command) -> list:
    return [p for p in command.params if p.param_type_name == "option" and not getattr(p, "hidden", False)]


def test_commands_found():
    # guards the walk itself: the CLI has top-level commands and the survey sub-group
    assert {"audit", "inspect", "score", "report", "demo"} <= {path[0] for path, _ in COMMANDS}
    assert ("survey", "import") in {path for path, _ in COMMANDS}


def test_readme_is_short():
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= README_MAX_LINES, (
        f"README.md has {len(lines)} lines (at most {README_MAX_LINES}): move reference material to docs/")


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=IDS)
def test_command_has_help(path, command):
    text = (command.help or command.short_help or "").strip()
    assert text, f"`chanaudit {' '.join(path)}` has no help text (a docstring or help=...)"


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=IDS)
def test_command_is_documented(path, command):
    shown = "chanaudit " + " ".join(path)
    pattern = re.compile(re.escape(shown) + r"(?![\w-])")
    assert pattern.search(docs_text()), f"`{shown}` appears neither in README.md nor in docs/*.md"


@pytest.mark.parametrize(("path", "command"), [((), ROOT_COMMAND), *COMMANDS], ids=["chanaudit", *IDS])
def test_every_option_has_help(path, command):
    result = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "240", "TERMINAL_WIDTH": "240"})
    assert result.exit_code == 0, result.output
    for option in options(command):
        names = [o for o in [*option.opts, *option.secondary_opts] if o.startswith("--")]
        assert (option.help or "").strip(), f"chanaudit {' '.join(path)} {names[0]}: no help string"
        for name in names:
            assert re.search(re.escape(name) + r"(?![\w-])", result.output), (
                f"`chanaudit {' '.join(path)} --help` does not list {name}")
