"""``chanaudit inspect FILE_OR_URL``: the findings of one page, and why."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from chanaudit.errors import UserError, friendly_errors


def inspect(
    target: str = typer.Argument(..., help="An HTML file or an http(s) URL."),
    url: str = typer.Option(None, "--url", help="The page's public URL when TARGET is a file (sets region and site)."),
    region: str = typer.Option(None, "--region", help="Phone region (ISO code), when TLD and language mislead."),
    as_json: bool = typer.Option(False, "--json", help="JSON instead of a table."),
    allow_private: bool = typer.Option(False, "--allow-private", help="Allow a URL on a private/loopback address."),
) -> None:
    """Run the five detectors on one page and print every finding with its rule and snippet."""
    from chanaudit.core.contract import site_channels
    from chanaudit.crawler.detectors import detect
    from chanaudit.crawler.fetch import fetch_page
    from chanaudit.crawler.page import Page

    with friendly_errors():
        if target.startswith(("http://", "https://")):
            page = fetch_page(target, allow_private=allow_private)
            if region:
                page.region = region
        else:
            path = Path(target)
            if not path.is_file():
                raise UserError(f"{target}: no such file (and not an http(s) URL)")
            from chanaudit.crawler.decoding import decode_html

            html, _enc, _how = decode_html(path.read_bytes(), None)
            page = Page(url or path.resolve().as_uri().replace("file://", "http://localhost"), html, region=region)
        evidence = detect(page)
    flags = site_channels(evidence)
    if as_json:
        typer.echo(json.dumps({"url": page.url, "channels": flags, "evidence": [e.as_dict() for e in evidence]},
                              ensure_ascii=False, indent=2))
        return
    console = Console()
    table = Table(title=f"{page.url}")
    for col in ("channel", "value", "rule", "counted", "snippet"):
        table.add_column(col, no_wrap=col != "snippet", overflow="ellipsis")
    for ev in evidence:
        snippet = ev.snippet if len(ev.snippet) <= 48 else ev.snippet[:47] + "…"
        table.add_row(ev.channel, ev.value, ev.rule, "yes" if ev.counted else "no", snippet)
    console.print(table)
    console.print("channels: " + ", ".join(f"{k}={v}" for k, v in flags.items()))


def register(app: typer.Typer) -> None:
    app.command("inspect")(inspect)
