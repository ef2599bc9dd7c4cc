"""``chanaudit report DIR``: charts, the HTML/PDF report and the evidence review page."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console

from chanaudit.errors import UserError, friendly_errors


def load_tables(audit_dir: Path) -> dict:
    """Every known table present in an audit folder; prevalence, counts and combinations computed if absent."""
    from analysis.combinations import channel_counts, combinations
    from analysis.prevalence import prevalence
    from chanaudit.tables import read_csv

    tables = {}
    for path in sorted(audit_dir.glob("*.csv")):
        tables[path.stem] = read_csv(path)
    if "sites" not in tables:
        raise UserError(f"{audit_dir / 'sites.csv'}: no such file (is {audit_dir} an audit folder?)")
    sites = tables["sites"]
    tables.setdefault("prevalence", prevalence(sites))
    tables.setdefault("channel_counts", channel_counts(sites))
    tables.setdefault("combinations", combinations(sites))
    for name in ("evidence", "pages"):
        tables.setdefault(name, None)
    return {k: v for k, v in tables.items() if v is not None}


def report(
    audit_dir: Path = typer.Argument(..., help="An audit folder (sites.csv, evidence.csv and any analysis CSVs)."),
    lang: str = typer.Option("ru", "--lang", help="Language of charts and report: ru or en."),
    out: Path = typer.Option(None, "--out", "-o", help="Output folder (default: DIR/report)."),
    formats: str = typer.Option("png,svg,pdf", "--formats", help="Chart formats, comma-separated."),
) -> None:
    """Draw the charts (PNG, SVG, PDF at 300 dpi) and write report.html, report.pdf and evidence.html."""
    from reports.document import build_report

    if lang not in ("ru", "en"):
        typer.echo("error: --lang must be ru or en", err=True)
        raise typer.Exit(2)
    with friendly_errors():
        tables = load_tables(audit_dir)
        manifest_path = audit_dir / "manifest.json"
        meta = json.loads(manifest_path.read_text(encoding="utf-8")) if manifest_path.exists() else {}
        paths = build_report(tables, out or audit_dir / "report", lang, meta, tuple(formats.split(",")))
    console = Console()
    console.print(f"charts: {len(paths.charts)} in {paths.html.parent / 'charts'}")
    console.print(f"report: {paths.html}\n        {paths.pdf}\nevidence review: {paths.evidence_html}")


def register(app: typer.Typer) -> None:
    app.command("report")(report)
