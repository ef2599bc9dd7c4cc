"""``chanaudit demo``: the whole toolkit on an embedded synthetic market."""

from __future__ import annotations

import time
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

console = Console()


def demo(
    out: Path = typer.Option(Path("demo-out"), "--out", "-o", help="Output folder."),
    sites: int = typer.Option(320, "--sites", help="Size of the synthetic market."),
    seed: int = typer.Option(2016, "--seed", help="Seed of the market and the survey."),
    lang: str = typer.Option("ru", "--lang", help="Language of charts and report: ru or en."),
    render: str = typer.Option("auto", "--render", help="Browser rendering policy: auto, never, always."),
) -> None:
    """Generate a synthetic market (labelled synthetic), serve it on 127.0.0.1, audit, score,
    reproduce the 2016 study and the 2026 survey, and write charts and the report."""
    from chanaudit.demo import STUDY_2016, run_demo

    started = time.monotonic()
    with Progress(TextColumn("    [bold]audit"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=True) as bar:
        task = bar.add_task("audit", total=None)
        result = run_demo(out, n_sites=sites, seed=seed, lang=lang, render=render, say=console.print,
                          progress=lambda done, total: bar.update(task, completed=done, total=total))
    _print_accuracy(result.tables["accuracy"])
    _print_reproduce(result.tables[f"reproduce-{STUDY_2016}"], lang)
    console.print(f"\nreport: {result.paths['html']}\n        {result.paths['pdf']}\n"
                  f"evidence review: {result.paths['evidence']}")
    console.print(f"done in {time.monotonic() - started:.0f} s ({result.seconds})")


def _print_accuracy(acc) -> None:
    table = Table(title="detection vs ground truth / обнаружение против разметки")
    for col in ("channel", "tp", "fp", "fn", "precision", "recall"):
        table.add_column(col, justify="right" if col != "channel" else "left")
    for _, r in acc.iterrows():
        table.add_row(r["channel"], str(r["tp"]), str(r["fp"]), str(r["fn"]),
                      "" if r["precision"] != r["precision"] else f"{r['precision']:.3f}",
                      f"{r['recall']:.3f}")
    console.print(table)


def _print_reproduce(rep, lang: str) -> None:
    label = "label_ru" if lang == "ru" else "label_en"
    table = Table(title="Okdesk 2016: published vs reproduced / опубликовано и воспроизведено")
    for col in ("figure", "published", "reproduced", "95% CI", "verdict"):
        table.add_column(col)
    for _, r in rep.iterrows():
        pub = (r.get("published_text_ru") if lang == "ru" else None) or r.get("published_text") or ""
        rep_v = "" if r["reproduced"] != r["reproduced"] else f"{r['reproduced']:.1%}"
        ci = "" if r["ci_low"] != r["ci_low"] else f"{r['ci_low']:.1%}–{r['ci_high']:.1%}"
        name = r[label] + (f" ({r['variant']})" if r.get("variant") else "")
        table.add_row(name, str(pub), rep_v, ci, str(r["verdict"]))
    console.print(table)


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
