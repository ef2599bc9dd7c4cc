"""``chanaudit inspect FILE_OR_URL``: the findings of one page, and why."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from chanaudit.commands import console as make_console
from chanaudit.errors import UserError, friendly_errors


def inspect(
    target: str = typer.Argument(..., help="An HTML file or an http(s) URL."),
    url: str = typer.Option(None, "--url", help="The page's public URL when TARGET is a file (sets region and site)."),
    region: str = typer.Option(None, "--region", help="Phone region (ISO code), when TLD and language mislead."),
    as_json: bool = typer.Option(False, "--json", help="JSON instead of a table."),
    allow_private: bool = typer.Option(False, "--allow-private", help="Allow a URL on a private/loopback address."),
    render: str = typer.Option("auto", "--render", help="For a URL: browser rendering, as in audit: auto, never, always."),
    timeout: float = typer.Option(20.0, "--timeout", help="For a URL: seconds per download, as in audit."),
) -> None:
    """Run the five detectors on one page and print every finding with its rule and snippet.

    A URL goes through the audit's own crawler (home page only): the same address guard on every hop, size and time limits, robots.txt and statuses; a page that is not ok (not_html, too_large, blocked_address, timeout...) prints `error:` and exits with 1."""
    from chanaudit.crawler.decoding import decode_html
    from chanaudit.crawler.detectors import detect
    from chanaudit.crawler.page import Page

    with friendly_errors():
        if target.startswith(("http://", "https://")):
            _inspect_url(target, region, as_json, allow_private, render, timeout)
            return
        path = Path(target)
        if not path.is_file():
            raise UserError(f"{target}: no such file (and not an http(s) URL)")
        html, _enc, _how = decode_html(path.read_bytes(), None)
        page = Page(url or path.resolve().as_uri().replace("file://", "http://localhost"), html, region=region)
        evidence = detect(page)
    _print(page.url, evidence, as_json)


def _inspect_url(url: str, region: str | None, as_json: bool, allow_private: bool, render: str,
                 timeout: float) -> None:
    from chanaudit.crawler.config import AuditConfig
    from chanaudit.crawler.fetch import inspect_url

    config = AuditConfig(render=render, allow_private=allow_private, timeout=timeout, delay=0, retries=0,
                         region=region)
    page = inspect_url(url, config)
    if page.status == "invalid_input":
        raise UserError(f"{url}: {page.status_detail}")
    if not page.ok:
        if as_json:
            typer.echo(json.dumps({"url": page.url, "status": page.status, "status_detail": page.status_detail,
                                   "http_status": page.http_status}, ensure_ascii=False, indent=2))
        typer.echo(f"error: {page.url}: {page.status}: {page.status_detail}", err=True)
        raise typer.Exit(1)
    _print(page.final_url, page.evidence, as_json, status=page.status)


def _print(url: str, evidence: list, as_json: bool, status: str | None = None) -> None:
    from chanaudit.core.contract import site_channels

    flags = site_channels(evidence)
    if as_json:
        typer.echo(json.dumps({"url": url, **({"status": status} if status else {}), "channels": flags,
                               "evidence": [e.as_dict() for e in evidence]}, ensure_ascii=False, indent=2))
        return
    console = make_console()  # markup off: scraped snippets print as they are
    table = Table(title=f"{url}")
    for col in ("channel", "value", "rule", "counted", "snippet"):
        table.add_column(col, no_wrap=col != "snippet", overflow="ellipsis")
    for ev in evidence:
        snippet = ev.snippet if len(ev.snippet) <= 48 else ev.snippet[:47] + "…"
        table.add_row(ev.channel, ev.value, ev.rule, "yes" if ev.counted else "no", snippet)
    console.print(table)
    console.print("channels: " + ", ".join(f"{k}={v}" for k, v in flags.items()))


def register(app: typer.Typer) -> None:
    app.command("inspect")(inspect)
