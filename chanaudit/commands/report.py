"""``chanaudit report DIR``: charts, the HTML/PDF report and the evidence review page."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console

from chanaudit.errors import UserError, friendly_errors


def load_tables(audit_dir: Path, min_group_n: int = 10, say=None) -> dict:
    """Every known table present in an audit folder; prevalence, counts and combinations computed if absent.

    A group comparison (``groups-<column>.csv``) written without folding (no ``members`` column) that has
    groups of fewer than ``min_group_n`` sites is computed again from sites.csv with those groups folded into
    one "other" group (Wilson 95%, the analysis defaults); the CSV itself is left as it is."""
    from chanaudit.analysis.combinations import channel_counts, combinations
    from chanaudit.analysis.prevalence import prevalence
    from chanaudit.core.tables import read_csv

    tables = {}
    for path in sorted(audit_dir.glob("*.csv")):
        tables[path.stem] = read_csv(path)
    if "sites" not in tables:
        raise UserError(f"{audit_dir / 'sites.csv'}: no such file (is {audit_dir} an audit folder?)")
    sites = tables["sites"]
    tables.setdefault("prevalence", prevalence(sites))
    tables.setdefault("channel_counts", channel_counts(sites))
    tables.setdefault("combinations", combinations(sites))
    for name in [k for k in tables if k.startswith("groups-") and not k.endswith("-tests")]:
        refolded = _refold(tables[name], sites, min_group_n)
        if refolded is not None:
            tables[name], tables[f"{name}-tests"] = refolded
            members = int(tables[name]["members"].max())
            if say and members > 1:
                say(f"{name}: {members} groups with fewer than {min_group_n} sites folded into 'other' for the "
                    f"report (Wilson 95%; {name}.csv unchanged; --min-group-n 1 keeps every group)")
    for name in ("evidence", "pages"):
        tables.setdefault(name, None)
    return {k: v for k, v in tables.items() if v is not None}


def _refold(table, sites, min_group_n: int):
    """(table, tests) with small groups folded, or None when the table is already folded or needs no folding."""
    from chanaudit.analysis.compare import grouped_comparison
    from chanaudit.core.contract import CHANNELS

    needed = {"group_var", "group", "n"}
    if "members" in table or not needed <= set(table.columns) or not len(table) or min_group_n <= 1:
        return None
    column = str(table["group_var"].iloc[0])
    if column not in sites or (table["n"] >= min_group_n).all():
        return None
    channels = [c for c in CHANNELS if c in set(table["channel"])]
    return grouped_comparison(sites, column, channels, min_n=min_group_n)


def report(
    audit_dir: Path = typer.Argument(..., help="An audit folder (sites.csv, evidence.csv and any analysis CSVs)."),
    lang: str = typer.Option("ru", "--lang", help="Language of charts and report: ru or en."),
    out: Path = typer.Option(None, "--out", "-o", help="Output folder (default: DIR/report)."),
    formats: str = typer.Option("png,svg,pdf", "--formats", help="Chart formats, comma-separated."),
    min_group_n: int = typer.Option(10, "--min-group-n",
                                    help="Group comparisons: groups with fewer sites are shown folded into one "
                                         "'other' group (1 shows every group)."),
) -> None:
    """Draw the charts (PNG, SVG, PDF at 300 dpi) and write report.html, report.pdf and evidence.html."""
    from chanaudit.reports.document import build_report

    if lang not in ("ru", "en"):
        typer.echo("error: --lang must be ru or en", err=True)
        raise typer.Exit(2)
    console = Console()
    with friendly_errors():
        tables = load_tables(audit_dir, min_group_n, say=console.print)
        manifest_path = audit_dir / "manifest.json"
        meta = json.loads(manifest_path.read_text(encoding="utf-8")) if manifest_path.exists() else {}
        paths = build_report(tables, out or audit_dir / "report", lang, meta, tuple(formats.split(",")))
    console.print(f"charts: {len(paths.charts)} in {paths.html.parent / 'charts'}")
    console.print(f"report: {paths.html}\n        {paths.pdf}\nevidence review: {paths.evidence_html}")


def register(app: typer.Typer) -> None:
    app.command("report")(report)
