"""``chanaudit audit SITES --out DIR``: the one-click audit of a site list."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from chanaudit.commands import console as make_console
from chanaudit.errors import friendly_errors

console = make_console(stderr=True)


def audit(
    sites: Path = typer.Argument(..., help="CSV or XLSX site list: a url/domain/site column; other columns pass through."),
    out: Path = typer.Option(..., "--out", "-o", help="Output folder: sites.csv, evidence.csv, pages.csv, manifest.json."),
    resume: bool = typer.Option(False, "--resume", help="Continue a stopped run in OUT (same input file)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Discard a previous run in OUT and start again."),
    column: str = typer.Option(None, "--column", help="Name of the site column, when not url/domain/site."),
    render: str = typer.Option("auto", "--render", help="Browser rendering: auto (only pages that need it), never, always."),
    chromium: str = typer.Option(
        None, "--chromium", metavar="PATH",
        help="The browser that renders pages (default /usr/bin/chromium, Debian's chromium). Without it, "
             "--render auto or always stops with an error before crawling."),
    third_party_scripts: bool = typer.Option(
        True, "--third-party-scripts/--no-third-party-scripts",
        help="When rendering, the browser runs scripts from other public hosts as a visitor's would (tag "
             "managers, widget loaders: chats injected through Google Tag Manager); analytics and ad hosts stay "
             "blocked. --no-third-party-scripts: only the site's own scripts (attempts are still evidence)."),
    allow_private: bool = typer.Option(False, "--allow-private", help="Allow targets on private/loopback addresses (tests, intranets)."),
    concurrency: int = typer.Option(32, "--concurrency", help="Requests in flight overall."),
    per_site: int = typer.Option(1, "--per-site", help="Requests in flight per site."),
    workers: int = typer.Option(0, "--workers", help="Crawler processes (0 = one per core for lists over 200 sites; with "
                                "--queue, local workers on the queue, 0 = none)."),
    delay: float = typer.Option(1.0, "--delay", help="Seconds between requests to one site."),
    timeout: float = typer.Option(20.0, "--timeout", help="Seconds per download."),
    max_pages: int = typer.Option(4, "--max-pages", help="Pages per site: home + contacts + support."),
    max_mb: float = typer.Option(5.0, "--max-mb", help="Largest download in MB (after decompression)."),
    no_robots: bool = typer.Option(False, "--ignore-robots", help="Do not obey robots.txt (only for your own sites)."),
    messenger_as_chat: bool = typer.Option(False, "--messenger-as-chat", help="Count messenger links (t.me, wa.me) as chat: a sensitivity run."),
    offsite_redirects: str = typer.Option(
        "audit", "--offsite-redirects", metavar="audit|skip",
        help="A home page that redirects to another registrable domain: audit the target and flag the row "
             "(moved=1, final_domain), or skip the site (status moved)."),
    ai_chat_as_chat: bool = typer.Option(
        True, "--ai-chat-as-chat/--no-ai-chat-as-chat",
        help="Count AI chat widgets (a bot answers) as chat, as by default; --no-ai-chat-as-chat counts human "
             "live chat only: a sensitivity run."),
    user_agent: str = typer.Option(None, "--user-agent", help="User-Agent header; the default names chanaudit."),
    queue: str = typer.Option(
        None, "--queue", metavar="redis://HOST:PORT/DB",
        help="Crawl through a shared queue on Redis: the sites are queued there and crawled by `chanaudit worker` "
             "processes on any machine (and --workers N local ones); the outputs are written here as usual "
             "(docs/scale-out.md)."),
    lease: float = typer.Option(
        60.0, "--lease", metavar="SECONDS",
        help="With --queue: how long a site stays with a worker that has gone silent (killed, machine lost) "
             "before another worker takes it."),
    fmt: str = typer.Option(
        "csv", "--format", metavar="csv|parquet",
        help="Format of evidence and pages: csv, or parquet (for lists of millions of sites; every later "
             "stage reads either). sites.csv stays CSV."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> None:
    """Audit every site of SITES within one click of its home page; one result row per input row."""
    from chanaudit.crawler.config import AuditConfig
    from chanaudit.crawler.runner import run_audit
    from chanaudit.crawler.sites import read_sites
    from chanaudit.scoring import site_scorer

    scorer = site_scorer()

    with friendly_errors():
        config = AuditConfig(
            render=render, allow_private=allow_private, obey_robots=not no_robots, concurrency=concurrency,
            per_site=per_site, workers=workers, delay=delay, timeout=timeout, max_pages=max_pages,
            max_bytes=int(max_mb * 1024 * 1024), messenger_as_chat=messenger_as_chat, ai_chat_as_chat=ai_chat_as_chat,
            third_party_scripts=third_party_scripts, offsite_redirects=offsite_redirects,
            **({"user_agent": user_agent} if user_agent else {}), **({"chromium": chromium} if chromium else {}),
        )
        site_list = read_sites(sites, column=column)
        for warning in site_list.warnings:
            console.print(Text.assemble(("warning:", "yellow"), f" {warning}"))
        for site in site_list.invalid:
            console.print(Text.assemble(("invalid input:", "yellow"), f" {site.error}"))
        console.print(f"{sites}: {len(site_list.sites)} rows, column {site_list.column}, "
                      f"{site_list.format} {site_list.encoding} {site_list.delimiter!r}".rstrip())
        started = time.monotonic()
        queued = {"queue": queue, "lease": lease, "fmt": fmt}
        _say_queue_messages()
        if quiet:
            result = run_audit(site_list, out, config, resume=resume, overwrite=overwrite, scorer=scorer, **queued)
        else:
            with Progress(TextColumn("[bold]sites"), BarColumn(), MofNCompleteColumn(),
                          TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), TextColumn("ETA"),
                          TimeRemainingColumn(), console=console, transient=False) as bar:
                task = bar.add_task("audit", total=None, rate="")

                def progress(done: int, total: int) -> None:
                    elapsed = max(time.monotonic() - started, 1e-6)
                    bar.update(task, completed=done, total=total, rate=f"{done / elapsed:.1f}/s")

                result = run_audit(site_list, out, config, resume=resume, overwrite=overwrite, progress=progress,
                                   scorer=scorer, **queued)
    _summary(result)
    if result.manifest.get("state") != "complete":
        console.print(f"the run is incomplete: {result.manifest.get('not_crawled', 0)} sites not crawled "
                      f"(crawler exit code {result.returncode}); rerun with --resume to finish", style="red")
        raise typer.Exit(1)


class _Say(logging.Handler):
    """The queue's messages (run queued, connection lost and back, sites queued again) above the bar."""

    def emit(self, record: logging.LogRecord) -> None:
        warn = record.levelno >= logging.WARNING
        console.print(Text.assemble(("warning:", "yellow") if warn else "", " " if warn else "", record.getMessage()))


def _say_queue_messages() -> None:
    logger = logging.getLogger("chanaudit.queue")
    if not any(isinstance(h, _Say) for h in logger.handlers):
        logger.addHandler(_Say())
        logger.setLevel(logging.INFO)
        logger.propagate = False


def _summary(result) -> None:
    m = result.manifest
    table = Table(title=f"audit → {result.out}")
    table.add_column("status / статус")
    table.add_column("sites / сайтов", justify="right")
    for status, n in m["counts"].items():
        table.add_row(status, str(n))
    console.print(table)
    if m.get("queue"):
        q = m["queue"]
        console.print(f"queue {q['url']}, run {q['run_id']}: duplicates dropped {q.get('duplicates_dropped', 0)}, "
                      f"sites queued again {q.get('queued_again', 0)}, connection losses {q.get('outages', 0)}",
                      markup=False, highlight=False)
    scripts = f", script files {m['scripts_fetched']}" if m.get("scripts_fetched") else ""
    console.print(f"pages fetched {m['pages_fetched']}, rendered {m['pages_rendered']} "
                  f"({m['rendered_share']:.0%}){scripts}, evidence rows {m['evidence_rows']}")


def register(app: typer.Typer) -> None:
    app.command("audit")(audit)
