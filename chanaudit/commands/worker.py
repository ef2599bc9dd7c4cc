"""``chanaudit worker redis://HOST:PORT/DB``: crawl the sites of queued audits, on any machine."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.text import Text

from chanaudit.commands import console as make_console
from chanaudit.errors import UserError, friendly_errors

console = make_console(stderr=True)


def worker(
    url: str = typer.Argument(
        None, envvar="CHANAUDIT_QUEUE", metavar="redis://HOST:PORT/DB", show_envvar=True,
        help="The queue's Redis server (a password as redis://:PASSWORD@HOST:PORT/DB); taken from CHANAUDIT_QUEUE "
             "when not given, which keeps a password out of the process list."),
    concurrency: int = typer.Option(
        None, "--concurrency", help="Requests in flight in this worker (default: the run's --concurrency)."),
    until_empty: bool = typer.Option(
        False, "--until-empty", help="End when no open run has sites queued or under way (else wait for runs)."),
    chromium: str = typer.Option(
        None, "--chromium", metavar="PATH",
        help="This machine's browser for runs that render (default: the run's, /usr/bin/chromium). A run that "
             "renders is left to other workers when there is none."),
    log: Path = typer.Option(None, "--log", metavar="FILE",
                             help="Append the crawls' log here (default: warnings and errors on stderr)."),
    allow_private: bool = typer.Option(
        False, "--allow-private",
        help="Take runs that allow private/loopback addresses (audit --allow-private). Off: such runs are left "
             "to other workers, so that a run cannot reach this machine's own networks."),
) -> None:
    """Crawl sites of any open queued audit (`chanaudit audit --queue`), with each run's own configuration."""
    from chanaudit.crawler.worker import WorkerOptions, serve

    with friendly_errors():
        if not url:
            raise UserError("name the queue: chanaudit worker redis://HOST:PORT/DB (or set CHANAUDIT_QUEUE)")
        options = WorkerOptions(concurrency=concurrency, until_empty=until_empty, chromium=chromium,
                                log_file=str(log.resolve()) if log else None, allow_private=allow_private)
        code = serve(url, options, say=lambda message: console.print(Text(message)))
    raise typer.Exit(code)


def register(app: typer.Typer) -> None:
    app.command("worker")(worker)
