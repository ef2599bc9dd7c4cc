"""``chanaudit analyze``, ``reproduce`` and ``check-published``."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from chanaudit.core.contract import CHANNELS
from chanaudit.core.numbers import fmt_ci, fmt_pct
from chanaudit.errors import UserError, friendly_errors

console = Console()


def _sites(audit_dir: Path):
    from chanaudit.core.tables import read_csv

    path = audit_dir / "sites.csv"
    if not path.exists():
        raise UserError(f"{path}: no such file (is {audit_dir} an audit folder?)")
    return read_csv(path)


def analyze(
    audit_dir: Path = typer.Argument(..., help="An audit folder (holds sites.csv)."),
    by: list[str] = typer.Option(None, "--by", help="Compare groups by this input column (repeatable): city, segment..."),
    method: str = typer.Option("wilson", "--method", help="Interval: wilson, clopper-pearson, agresti-coull."),
    conf: float = typer.Option(0.95, "--conf", help="Confidence level."),
    lang: str = typer.Option("ru", "--lang", help="Labels: ru or en."),
    min_group_n: int = typer.Option(10, "--min-group-n",
                                    help="With --by: groups with fewer audited sites are folded into one "
                                         "'other' group (1 keeps every group)."),
) -> None:
    """Prevalence of each channel with intervals, channel counts and combinations (and group comparisons)."""
    from chanaudit.analysis.combinations import channel_counts, combinations
    from chanaudit.analysis.compare import OTHER_GROUP, grouped_comparison
    from chanaudit.analysis.intervals import UnknownMethod
    from chanaudit.analysis.prevalence import prevalence
    from chanaudit.core.tables import write_csv

    folded_notes = []
    with friendly_errors(UnknownMethod, KeyError):
        _check_lang(lang)
        sites = _sites(audit_dir)
        prev = prevalence(sites, method=method, conf=conf)
        write_csv(prev, audit_dir / "prevalence.csv")
        write_csv(channel_counts(sites, method, conf), audit_dir / "channel_counts.csv")
        write_csv(combinations(sites, method, conf), audit_dir / "combinations.csv")
        for col in by or []:
            table, tests = grouped_comparison(sites, col, CHANNELS, method, conf, min_group_n)
            write_csv(table, audit_dir / f"groups-{col}.csv")
            write_csv(tests, audit_dir / f"groups-{col}-tests.csv")
            members = int(table["members"].max()) if len(table) else 1
            if members > 1:
                folded_notes.append(f"groups-{col}.csv: {members} groups with fewer than {min_group_n} sites "
                                    f"folded into '{OTHER_GROUP}' (--min-group-n 1 keeps them apart)")
    table = Table(title=f"{'доля сайтов с каналом' if lang == 'ru' else 'share of sites with the channel'}"
                        f" (n = {prev['n'].max()}, {method} {conf:.0%})")
    for col in ("channel / канал", "k", "n", "share / доля", "CI / интервал"):
        table.add_column(col)
    for _, r in prev.iterrows():
        table.add_row(r[f"label_{lang}"], str(r["k"]), str(r["n"]), fmt_pct(r["estimate"], lang),
                      fmt_ci(r["ci_low"], r["ci_high"], lang))
    console.print(table)
    console.print("written: prevalence.csv, channel_counts.csv, combinations.csv"
                  + "".join(f", groups-{c}.csv" for c in by or []) + f" in {audit_dir}")
    for note in folded_notes:
        console.print(note)


def _check_lang(lang: str) -> None:
    if lang not in ("ru", "en"):
        raise UserError(f"--lang {lang}: must be ru or en")


def reproduce_cmd(
    data: Path = typer.Argument(..., help="An audit folder (sites.csv) or, for survey studies, a survey CSV."),
    study: str = typer.Option("okdesk-2016-it-outsourcing", "--study", help="A shipped study id or a YAML spec."),
    method: str = typer.Option("wilson", "--method", help="Interval: wilson, clopper-pearson, agresti-coull."),
    conf: float = typer.Option(0.95, "--conf", help="Confidence level."),
    lang: str = typer.Option("ru", "--lang", help="Labels: ru or en."),
    margin: float = typer.Option(None, "--equivalence-margin",
                                 help="Call a figure equivalent when the difference interval lies within "
                                      "+- this share (0.05 = 5 points)."),
) -> None:
    """Published vs reproduced: every figure of a study with its interval, the difference and a verdict."""
    from chanaudit.analysis.expr import ExpressionError
    from chanaudit.analysis.intervals import UnknownMethod
    from chanaudit.analysis.reproduce import InvalidMargin, display_rows, reproduce, sample_caveat
    from chanaudit.analysis.studies import StudySpecError, load_study
    from chanaudit.core.tables import read_csv, write_csv

    with friendly_errors(StudySpecError, ExpressionError, UnknownMethod, InvalidMargin):
        _check_lang(lang)
        spec = load_study(study)
        frame = _sites(data) if data.is_dir() else read_csv(data)
        evidence = read_csv(data / "evidence.csv") if data.is_dir() and (data / "evidence.csv").exists() else None
        result = reproduce(frame, spec, method, conf, evidence=evidence, equivalence_margin=margin)
        out = (data if data.is_dir() else data.parent) / f"reproduce-{spec.id}.csv"
        write_csv(result, out)
    table = Table(title=spec.title_ru if lang == "ru" else spec.title_en)
    for col in ("figure / показатель", "published / опубл.", f"reproduced / воспр. ({conf:.0%} CI / ДИ)", "k/n",
                "difference / разница (CI / ДИ)", "p Holm", "verdict / вывод"):
        # a narrow terminal wraps, never cuts; the verdict keeps «опубликованного» in one piece
        table.add_column(col, overflow="fold", min_width=15 if col.startswith("verdict") else None)
    for row in display_rows(result, lang):
        table.add_row(*row)
    console.print(table)
    for line in sample_caveat(spec, lang, margin):
        console.print(line, markup=False)
    console.print(f"written: {out}")


def check_published(
    study: str = typer.Argument("okdesk-2016-it-outsourcing", help="A shipped study id or a YAML spec."),
    n_min: int = typer.Option(100, "--n-min", help="Smallest sample size to try."),
    n_max: int = typer.Option(1000, "--n-max", help="Largest sample size to try."),
    figure: list[str] = typer.Option(None, "--figure", help="Only these figure ids (repeatable)."),
) -> None:
    """Which sample sizes are compatible with the rounded published figures, one by one and together
    (relations such as "both <= each"), under each rounding convention."""
    from chanaudit.analysis.consistency import UnknownFigure, check_summary
    from chanaudit.analysis.studies import StudySpecError, load_study

    with friendly_errors(StudySpecError, UnknownFigure):
        lines = check_summary(load_study(study), n_min, n_max, figure or None)
    for line in lines:
        console.print(line, markup=False, highlight=False)


def register(app: typer.Typer) -> None:
    app.command("analyze")(analyze)
    app.command("reproduce")(reproduce_cmd)
    app.command("check-published")(check_published)
