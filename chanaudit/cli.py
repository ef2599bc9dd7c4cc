"""The ``chanaudit`` command line: a thin layer over the Python API.

Each area registers its commands from ``chanaudit/commands/<area>.py`` through a
``register(app)`` function; shared error handling lives in :mod:`chanaudit.errors`.
"""

from __future__ import annotations

import importlib

import typer

app = typer.Typer(
    name="chanaudit",
    help="Support-channel audits: crawl sites, detect email/phone/chat/form/portal, score, "
    "reproduce published studies, chart.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# Order = order in --help.
_COMMAND_MODULES = ("inspect", "audit", "worker", "scoring", "analysis", "compare", "validation", "plan", "survey", "report", "review",
                    "demo")


def _register_all() -> None:
    from chanaudit.options import check_all

    for name in _COMMAND_MODULES:
        importlib.import_module(f"chanaudit.commands.{name}").register(app)
    check_all(app)  # every command's options checked once, before it runs (chanaudit/options.py)


@app.callback()
def main(
    version: bool = typer.Option(False, "--version", help="Print the version and exit.", is_eager=True),
) -> None:
    """chanaudit — support-channel audits / аудит каналов обращений в поддержку."""
    if version:
        from chanaudit import __version__

        typer.echo(__version__)
        raise typer.Exit()


_register_all()


if __name__ == "__main__":
    app()
