"""``chanaudit demo``: the whole toolkit on an embedded synthetic market."""

from __future__ import annotations

import time
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from chanaudit.commands import console as make_console
from chanaudit.core.numbers import fmt_ci, fmt_pct, is_missing
from chanaudit.errors import friendly_errors

console = make_console()


def demo(
    out: Path = typer.Option(Path("demo-out"), "--out", "-o", help="Output folder."),
    sites: int = typer.Option(320, "--sites", help="Size of the synthetic market."),
    seed: int = typer.Option(2016, "--seed", help="Seed of the market and the survey."),
    lang: str = typer.Option("ru", "--lang", help="Language of charts and report: ru or en."),
    render: str = typer.Option("auto", "--render", help="Browser rendering policy: auto, never, always."),
) -> None:
    """Generate a synthetic market (labelled synthetic), serve it on 127.0.0.1, audit, score,
    reproduce the 2016 study and the 2026 survey, and write charts, the report, the review page,
    prospects and a benchmark."""
    from chanaudit.demo.run import STUDY_2016, run_demo

    started = time.monotonic()
    with friendly_errors(), Progress(TextColumn("    [bold]audit"), BarColumn(), MofNCompleteColumn(),
                                     TimeElapsedColumn(), console=console, transient=True) as bar:
        task = bar.add_task("audit", total=None)
        result = run_demo(out, n_sites=sites, seed=seed, lang=lang, render=render, say=console.print,
                          progress=lambda done, total: bar.update(task, completed=done, total=total))
    _print_accuracy(result.tables["accuracy"], lang)
    _print_reproduce(result.tables[f"reproduce-{STUDY_2016}"], lang)
    console.print(f"\nreport: {result.paths['html']}\n        {result.paths['pdf']}\n"
                  f"review page: {result.paths['review']}\nprospects: {result.paths['prospects']}"
                  + (f"\nbenchmark: {result.paths['benchmark']}" if "benchmark" in result.paths else ""))
    console.print(f"done in {time.monotonic() - started:.0f} s ({result.seconds})")


HEADERS = {
    "accuracy_title": {"ru": "Обнаружение каналов против разметки синтетического рынка",
                       "en": "Channel detection vs the synthetic market's ground truth"},
    "accuracy": {"ru": ("канал", "найдено верно", "лишние", "пропущено", "точность", "полнота"),
                 "en": ("channel", "true pos.", "false pos.", "missed", "precision", "recall")},
    "reproduce_title": {"ru": "Okdesk 2016: опубликовано и воспроизведено",
                        "en": "Okdesk 2016: published vs reproduced"},
    "reproduce": {"ru": ("показатель", "опубликовано", "воспроизведено (95% ДИ)", "вывод"),
                  "en": ("figure", "published", "reproduced (95% CI)", "verdict")},
}


def _print_accuracy(acc, lang: str = "ru") -> None:
    from chanaudit.analysis.labels import label
    from chanaudit.reports.style import lang_of

    lang = lang_of(lang)
    table = Table(title=HEADERS["accuracy_title"][lang])
    for i, col in enumerate(HEADERS["accuracy"][lang]):
        table.add_column(col, justify="right" if i else "left")
    for _, r in acc.iterrows():
        name = ("все каналы" if lang == "ru" else "all channels") if r["channel"] == "all" else label(r["channel"], lang)
        table.add_row(name, str(r["tp"]), str(r["fp"]), str(r["fn"]),
                      "" if r["precision"] != r["precision"] else f"{r['precision']:.3f}",
                      "" if r["recall"] != r["recall"] else f"{r['recall']:.3f}")
    console.print(table)


def _print_reproduce(rep, lang: str) -> None:
    from chanaudit.analysis.reproduce import verdict_label
    from chanaudit.reports.style import lang_of

    lang = lang_of(lang)
    table = Table(title=HEADERS["reproduce_title"][lang])
    for i, col in enumerate(HEADERS["reproduce"][lang]):
        # a narrow terminal wraps, never cuts; the verdict keeps «опубликованного» in one piece
        table.add_column(col, overflow="fold", min_width=15 if i == 3 else None)
    for _, r in rep.iterrows():
        pub = (r.get("published_text_ru") if lang == "ru" else None) or r.get("published_text") or "—"
        rep_v = fmt_pct(r["reproduced"], lang)
        if not is_missing(r["ci_low"]):
            rep_v += f" ({fmt_ci(r['ci_low'], r['ci_high'], lang)})"
        variant = r.get(f"variant_label_{lang}") or r.get("variant")
        name = r[f"label_{lang}"] + (f" — {variant}" if r.get("variant") else "")
        verdict = r.get(f"verdict_label_{lang}") or verdict_label(r["verdict"], lang)
        table.add_row(name, str(pub), rep_v, str(verdict))
    console.print(table)


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
