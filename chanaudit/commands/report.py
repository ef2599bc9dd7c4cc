"""``chanaudit report DIR``: charts, the HTML/PDF report and the review page."""

from __future__ import annotations

from pathlib import Path

import typer

from chanaudit.commands import console as make_console
from chanaudit.commands.options import OVERRIDES, say_overrides
from chanaudit.core.folder import AuditFolder
from chanaudit.errors import friendly_errors


def report(
    audit_dir: Path = typer.Argument(..., help="An audit folder (sites.csv, evidence.csv and any analysis CSVs)."),
    lang: str = typer.Option("ru", "--lang", help="Language of charts and report: ru or en."),
    out: Path = typer.Option(None, "--out", "-o", help="Output folder (default: DIR/report)."),
    formats: str = typer.Option("png,svg,pdf", "--formats", help="Chart formats, comma-separated."),
    min_group_n: int = typer.Option(10, "--min-group-n",
                                    help="Group comparisons: groups with fewer sites are shown folded into one "
                                         "'other' group (1 shows every group)."),
    overrides: Path = OVERRIDES,
) -> None:
    """Draw the charts (PNG, SVG, PDF at 300 dpi) and write report.html, report.pdf and the review page."""
    from chanaudit.reports import build

    console = make_console()
    with friendly_errors():
        paths = build(audit_dir, lang, out, tuple(formats.split(",")), min_group_n, say=console.print,
                      overrides=overrides)
    console.print(f"charts: {len(paths.charts)} in {paths.html.parent / AuditFolder.CHARTS}")
    console.print(f"report: {paths.html}\n        {paths.pdf}\nreview page: {paths.review_html}")
    if overrides is not None:
        say_overrides(console, audit_dir)


def register(app: typer.Typer) -> None:
    app.command("report")(report)
