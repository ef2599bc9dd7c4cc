"""``chanaudit analyze``, ``reproduce`` and ``check-published``."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from chanaudit.commands import console as make_console
from chanaudit.commands.options import OVERRIDES, say_overrides
from chanaudit.core.folder import AuditFolder
from chanaudit.core.numbers import fmt_ci, fmt_pct
from chanaudit.errors import UserError, friendly_errors

console = make_console()


def analyze(
    audit_dir: Path = typer.Argument(..., help="An audit folder (holds sites.csv)."),
    by: list[str] = typer.Option(None, "--by", help="Compare groups by this input column (repeatable): city, segment..."),
    method: str = typer.Option("wilson", "--method", help="Interval: wilson, clopper-pearson, agresti-coull."),
    conf: float = typer.Option(0.95, "--conf", help="Confidence level."),
    lang: str = typer.Option("ru", "--lang", help="Labels: ru or en."),
    min_group_n: int = typer.Option(10, "--min-group-n",
                                    help="With --by: groups with fewer audited sites are folded into one "
                                         "'other' group (1 keeps every group)."),
    overrides: Path = OVERRIDES,
) -> None:
    """Prevalence of each channel with intervals, channel counts and combinations (and group comparisons)."""
    from chanaudit.analysis import run
    from chanaudit.analysis.compare import OTHER_GROUP
    from chanaudit.analysis.flow import base_lines

    with friendly_errors():
        _check_lang(lang)
        tables = run(audit_dir, by or (), method=method, conf=conf, min_group_n=min_group_n, overrides=overrides)
    prev = tables[AuditFolder.PREVALENCE]
    table = Table(title=f"{'доля сайтов с каналом' if lang == 'ru' else 'share of sites with the channel'}"
                        f" (n = {prev['n'].max()}, {method} {conf:.0%})")
    for col in ("channel / канал", "k", "n", "share / доля", "CI / интервал"):
        table.add_column(col)
    for _, r in prev.iterrows():
        table.add_row(r[f"label_{lang}"], str(r["k"]), str(r["n"]), fmt_pct(r["estimate"], lang),
                      fmt_ci(r["ci_low"], r["ci_high"], lang))
    console.print(table)
    for line in base_lines(tables[AuditFolder.FLOW], lang):
        console.print(line, markup=False, highlight=False, soft_wrap=True)
    folder = AuditFolder(audit_dir)
    console.print("written: " + ", ".join(folder.csv(name).name for name in tables
                                          if not name.endswith("-tests")) + f" in {audit_dir}")
    for col in by or []:
        groups = tables[AuditFolder.groups(col)]
        members = int(groups["members"].max()) if len(groups) else 1
        if members > 1:
            console.print(f"{folder.csv(AuditFolder.groups(col)).name}: {members} groups with fewer than "
                          f"{min_group_n} sites folded into '{OTHER_GROUP}' (--min-group-n 1 keeps them apart)")
    if overrides is not None:
        say_overrides(console, audit_dir)


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
    margins: Path = typer.Option(None, "--margins",
                                 help="Survey studies: YAML of population margins; respondents are raked to them "
                                      "and every share, interval and comparison is weighted."),
    overrides: Path = OVERRIDES,
) -> None:
    """Published vs reproduced: every figure of a study with its interval, the difference and a verdict."""
    from chanaudit.analysis import reproduce_study
    from chanaudit.analysis.flow import base_lines
    from chanaudit.analysis.reproduce import display_rows, sample_caveat
    from chanaudit.survey import run_reproduce

    with friendly_errors():
        _check_lang(lang)
        if margins is not None:
            done = run_reproduce(data, study, margins, method, conf, equivalence_margin=margin,
                                 overrides=overrides)
        else:
            done = reproduce_study(data, study, method, conf, equivalence_margin=margin, overrides=overrides)
    spec, result = done.study, done.table
    weighted = bool(result["weighted"].any()) if "weighted" in result else False
    table = Table(title=(spec.title_ru if lang == "ru" else spec.title_en)
                  + (" (взвешено / weighted)" if weighted else ""))
    for col in ("figure / показатель", "published / опубл.", f"reproduced / воспр. ({conf:.0%} CI / ДИ)", "k/n",
                "difference / разница (CI / ДИ)", "p Holm", "verdict / вывод"):
        # a narrow terminal wraps, never cuts; the verdict keeps «опубликованного» in one piece
        table.add_column(col, overflow="fold", min_width=15 if col.startswith("verdict") else None)
    for row in display_rows(result, lang):
        table.add_row(*row)
    console.print(table)
    if done.flow is not None and spec.data == "audit":
        for line in base_lines(done.flow, lang):
            console.print(line, markup=False, highlight=False, soft_wrap=True)
    for line in sample_caveat(spec, lang, margin):
        console.print(line, markup=False)
    console.print(f"written: {done.path}")
    if overrides is not None:
        say_overrides(console, data)


def check_published(
    study: str = typer.Argument("okdesk-2016-it-outsourcing", help="A shipped study id or a YAML spec."),
    n_min: int = typer.Option(100, "--n-min", help="Smallest sample size to try."),
    n_max: int = typer.Option(1000, "--n-max", help="Largest sample size to try."),
    figure: list[str] = typer.Option(None, "--figure", help="Only these figure ids (repeatable)."),
) -> None:
    """Which sample sizes are compatible with the rounded published figures, one by one and together
    (relations such as "both <= each"), under each rounding convention."""
    from chanaudit.analysis.consistency import check_summary
    from chanaudit.analysis.studies import load_study

    with friendly_errors():
        lines = check_summary(load_study(study), n_min, n_max, figure or None)
    for line in lines:
        console.print(line, markup=False, highlight=False)


def register(app: typer.Typer) -> None:
    app.command("analyze")(analyze)
    app.command("reproduce")(reproduce_cmd)
    app.command("check-published")(check_published)
