"""``chanaudit review AUDIT``: the review page; ``chanaudit prospects AUDIT``: a vendor's CRM list;
``chanaudit benchmark DOMAIN --against AUDIT``: one company against the market."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from chanaudit.commands.options import OVERRIDES, say_overrides
from chanaudit.core.folder import AuditFolder
from chanaudit.errors import UserError, friendly_errors

console = Console()


def _check_lang(lang: str) -> None:
    if lang not in ("ru", "en"):
        raise UserError(f"--lang {lang}: must be ru or en")


def review(
    audit: Path = typer.Argument(..., help="An audit folder (sites.csv, evidence.csv)."),
    out: Path = typer.Option(None, "--out", "-o", help="The page to write (default: AUDIT/report/review.html)."),
    lang: str = typer.Option("ru", "--lang", help="Language of the page: ru or en."),
    overrides: Path = typer.Option(None, "--overrides",
                                   help="Decisions the page opens with (an overrides.csv exported before) in a "
                                        "browser that holds none for this audit."),
) -> None:
    """Write the review page: filter, search, confirm or reject findings, set channels by hand, export overrides.csv."""
    from chanaudit.reports.review import write_review

    with friendly_errors():
        _check_lang(lang)
        path = write_review(audit, out, lang, overrides)
    console.print(f"review page: {path}", markup=False, highlight=False)
    console.print("open it in a browser (no server needed); decisions stay in the browser until exported as "
                  f"{AuditFolder.csv_name(AuditFolder.OVERRIDES)}, which `chanaudit score|analyze|reproduce|compare|"
                  "report --overrides` apply", markup=False, highlight=False)


def prospects(
    audit: Path = typer.Argument(..., help="An audit folder (sites.csv, evidence.csv)."),
    out: Path = typer.Option(None, "--out", "-o", help="The workbook to write (default: AUDIT/prospects.xlsx); "
                                                       "the CSV goes beside it."),
    missing: list[str] = typer.Option(None, "--missing", help="Only companies without this channel (repeatable: "
                                                              "without all of them)."),
    min_channels: int = typer.Option(0, "--min-channels", help="Only companies with at least this many channels."),
    city: list[str] = typer.Option(None, "--city", help="Only companies in this city (repeatable; the city column, "
                                                        "else the phone region)."),
    lang: str = typer.Option("ru", "--lang", help="Language of channel names and regions: ru or en."),
    overrides: Path = OVERRIDES,
) -> None:
    """One row per company for a CRM: name, domain, emails, phones (E.164), ИНН/ОГРН, region, channels, score, rank."""
    from chanaudit.reports.prospects import write_prospects

    with friendly_errors():
        _check_lang(lang)
        result = write_prospects(audit, out, lang, missing or (), min_channels, city or (), overrides)
    table = result.table
    console.print(f"{len(table)} of {result.audited} audited companies"
                  + (f"; with emails {int(table['emails'].astype(bool).sum())}, phones "
                     f"{int(table['phones'].astype(bool).sum())}, ИНН {int(table['inn'].astype(bool).sum())}"
                     if len(table) else ""), markup=False, highlight=False)
    console.print("written: " + ", ".join(str(p) for p in result.written), markup=False, highlight=False)
    if overrides is not None:
        say_overrides(console, audit)


def benchmark(
    domain: str = typer.Argument(..., help="The company's domain (firm.ru; www. and scheme ignored)."),
    against: Path = typer.Option(..., "--against", help="The audit folder of the market."),
    out: Path = typer.Option(None, "--out", "-o", help="Folder for the table and the chart (default: AUDIT/report)."),
    lang: str = typer.Option("ru", "--lang", help="Language of the table and the chart: ru or en."),
    formats: str = typer.Option("png,svg,pdf", "--formats", help="Chart formats, comma-separated."),
    place: str = typer.Option(None, "--place", help="Column naming the local peers (default: city, else region, "
                                                   "else the phone region)."),
    overrides: Path = OVERRIDES,
) -> None:
    """One company's channels and score against the market: percentile, peers' shares, local peers; table and chart."""
    from chanaudit.core.numbers import fmt_ci, fmt_num, fmt_pct
    from chanaudit.reports.benchmark import write_benchmark
    from chanaudit.reports.charts import local_label
    from chanaudit.reports.style import texts

    with friendly_errors():
        _check_lang(lang)
        done = write_benchmark(domain, against, out, lang, tuple(formats.split(",")), place, overrides)
    words = {k: v[lang] for k, v in texts()["benchmark"].items()}
    s = done.benchmark.summary
    pct = "—" if s["percentile"] != s["percentile"] else f"{s['percentile']:.0f}"
    console.print(f"{s['name'] or s['domain']} ({s['domain']}): " + words["subtitle"].format(
        score=fmt_num(s["score"], lang), rank=s["rank"], n=s["n"], pct=pct, pct_word=f"{pct}%"),
        markup=False, highlight=False)
    local = local_label(s, lang) or words["no_local"]
    table = Table(title=words["market"].format(n=s["peers"]) + "; " + local)
    for col in (words["metric"], words["company_col"], words["market_col"], words["local_col"]):
        table.add_column(col, overflow="fold")
    for _, r in done.benchmark.table.iterrows():
        if r["metric"] == "channels":  # a count beside the peers' means
            cells = [str(int(r["company"])), fmt_num(r["market"], lang, 1), fmt_num(r["local"], lang, 1)]
        elif r["metric"] == "score":
            cells = [fmt_num(r["company"], lang), fmt_num(r["market"], lang), fmt_num(r["local"], lang)]
        else:
            cells = [words["has"] if r["company"] == 1 else words["lacks"],
                     f"{fmt_pct(r['market'], lang)} ({fmt_ci(r['market_ci_low'], r['market_ci_high'], lang)})",
                     f"{fmt_pct(r['local'], lang)} ({int(r['local_k'])}/{int(r['local_n'])})" if r["local_n"] else "—"]
        table.add_row(r[f"label_{lang}"], *cells)
    console.print(table)
    console.print("written: " + ", ".join(str(p) for p in [done.table, *done.charts]), markup=False, highlight=False)


def register(app: typer.Typer) -> None:
    app.command("review")(review)
    app.command("prospects")(prospects)
    app.command("benchmark")(benchmark)
