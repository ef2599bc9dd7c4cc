"""``chanaudit compare OLD NEW [MORE...] --out DIR``: two or more audits of the same companies."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from chanaudit.commands import console as make_console
from chanaudit.core.numbers import fmt_p, fmt_pct
from chanaudit.errors import UserError, friendly_errors

console = make_console()

HEADERS = {
    "ru": ("канал", "пар", "было", "стало", "появился", "пропал", "изменение", "95% ДИ", "p", "p (Холм)"),
    "en": ("channel", "pairs", "before", "after", "adopted", "dropped", "change", "95% CI", "p", "p (Holm)"),
}


def compare(
    audits: list[Path] = typer.Argument(..., help="Audit folders of the same companies, oldest first (two or "
                                                  "more; three or more add Cochran's Q)."),
    out: Path = typer.Option(..., "--out", "-o", help="Folder for compare.csv, unpaired.csv (and cochran.csv, "
                                                      "waves.csv) and charts/."),
    mid_p: bool = typer.Option(False, "--mid-p", help="McNemar mid-p instead of the exact conditional p-value."),
    conf: float = typer.Option(0.95, "--conf", help="Confidence level of Newcombe's interval."),
    key: str = typer.Option(None, "--key", help="Column holding the site's domain (default: domain, final_url, "
                                                "url, input — the first that gives one)."),
    lang: str = typer.Option("ru", "--lang", help="Labels of the printed table and the chart: ru or en."),
    formats: str = typer.Option("png,svg,pdf", "--formats", help="Chart formats, comma-separated."),
    overrides: list[str] = typer.Option(None, "--overrides",
                                        help="Review decisions, one file per audit in the order of the audits "
                                             "('-' for an audit without; repeat the option)."),
) -> None:
    """Pair sites by registrable domain and test, per channel, whether its share changed (McNemar, Newcombe)."""
    from chanaudit.analysis.labels import label
    from chanaudit.analysis.paired import compare_audits
    from chanaudit.reports.charts import fmt_pp_ci, fmt_signed_pp

    with friendly_errors():
        if lang not in ("ru", "en"):
            raise UserError(f"--lang {lang}: must be ru or en")
        result = compare_audits(audits, out, conf=conf, mid_p=mid_p, key=key, overrides=overrides or None)
    table = Table(title=("Изменения между аудитами" if lang == "ru" else "Changes between audits")
                  + f" ({audits[0]} → {audits[-1]})")
    for col in HEADERS[lang]:
        table.add_column(col)
    for _, r in result.compare.iterrows():
        table.add_row(label(r["channel"], lang), str(r["n_pairs"]), fmt_pct(r["before"], lang),
                      fmt_pct(r["after"], lang), str(r["adopted"]), str(r["dropped"]),
                      fmt_signed_pp(r["diff"], lang), fmt_pp_ci(r["ci_low"], r["ci_high"], lang), fmt_p(r["p_val"], lang),
                      fmt_p(r["p_holm"], lang))
    console.print(table)
    test = "McNemar mid-p" if mid_p else ("точный тест Мак-Немара" if lang == "ru" else "McNemar exact")
    console.print(f"p: {test}; {'интервал Ньюкомба для парных долей' if lang == 'ru' else 'Newcombe paired interval'}")
    if result.cochran is not None:
        for _, r in result.cochran.iterrows():
            console.print(f"Cochran's Q, {label(r['channel'], lang)}: Q = {r['statistic']:.2f}, "
                          f"df = {r['dof']}, p = {fmt_p(r['p_val'], lang)} (n = {r['n_sites']})")
    reasons = result.unpaired["reason"].value_counts()
    console.print(("не в паре: " if lang == "ru" else "not paired: ")
                  + ("; ".join(f"{k}: {v}" for k, v in reasons.items()) or "0"))
    if overrides and "overridden" in result.compare:
        console.print("overridden by review (paired sites): " + ", ".join(
            f"{r['channel']} {r['overridden']}" for _, r in result.compare.iterrows()))
    charts = _chart(result.compare, out, lang, tuple(formats.split(",")))
    console.print("written: " + ", ".join(str(p) for p in [*result.written, *charts]))


def _chart(table, out: Path, lang: str, formats) -> list[Path]:
    from chanaudit.reports.charts import plot_transitions, save_figure

    ax = plot_transitions(table, lang=lang)
    return save_figure(ax.figure, Path(out) / "charts" / f"transitions-{lang}", formats)


def register(app: typer.Typer) -> None:
    app.command("compare")(compare)
