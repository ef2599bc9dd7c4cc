"""``chanaudit demo``: the whole toolkit on an embedded synthetic market."""

from __future__ import annotations

import time
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from chanaudit.commands import console as make_console
from chanaudit.core.numbers import fmt_ci, fmt_num, fmt_p, fmt_pct, is_missing
from chanaudit.errors import friendly_errors

console = make_console()


def demo(
    out: Path = typer.Option(Path("demo-out"), "--out", "-o", help="Output folder."),
    sites: int = typer.Option(320, "--sites", help="Size of the synthetic market."),
    seed: int = typer.Option(2016, "--seed", help="Seed of the market and the survey."),
    lang: str = typer.Option("ru", "--lang", help="Language of charts and report: ru or en."),
    render: str = typer.Option("auto", "--render", help="Browser rendering policy: auto, never, always."),
) -> None:
    """Generate a synthetic market (labelled synthetic) and the same companies ten years on with known
    change, serve them on 127.0.0.1, audit, score, reproduce the 2016 study and the 2026 survey, check a
    validation sample coded by a synthetic coder, compare the 2016 and 2026 audits against the true
    change, and write charts, the reports, the review page, prospects and a benchmark."""
    from chanaudit.demo.run import STUDY_2016, run_demo

    started = time.monotonic()
    with friendly_errors(), Progress(TextColumn("    [bold]audit"), BarColumn(), MofNCompleteColumn(),
                                     TimeElapsedColumn(), console=console, transient=True) as bar:
        task = bar.add_task("audit", total=None)
        result = run_demo(out, n_sites=sites, seed=seed, lang=lang, render=render, say=console.print,
                          progress=lambda done, total: bar.update(task, completed=done, total=total))
    _print_accuracy(result.tables["accuracy"], lang)
    _print_reproduce(result.tables[f"reproduce-{STUDY_2016}"], lang)
    if "validation" in result.tables:
        _print_validation(result.tables["validation"], result.tables["prevalence_corrected"], lang)
    _print_reaudit(result.tables["reaudit"], lang)
    console.print(_misses(result.tables["accuracy_2026"], lang))
    console.print(f"\nreport: {result.paths['html']}\n        {result.paths['pdf']}\n"
                  f"re-audit 2026: {result.paths['html_2026']}\n"
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
    "validation_title": {"ru": "Выборка для проверки: согласие краулера с разметкой ({n} сайтов)",
                         "en": "Validation sample: the crawler against the labels ({n} sites)"},
    "validation": {"ru": ("канал", "TP/FP/FN/TN", "точность", "полнота", "каппа (95% ДИ)",
                          "доля → с поправкой (95% ДИ)"),
                   "en": ("channel", "TP/FP/FN/TN", "precision", "recall", "kappa (95% CI)",
                          "share → corrected (95% CI)")},
    "coder": {"ru": "Кто размечал: ", "en": "Coded by: "},
    "misses": {"ru": "обнаружение на сайтах 2026 против их разметки: пропущено — {fn}; лишнее — {fp}",
               "en": "detection on the 2026 sites against their truth: missed {fn}; false finds {fp}"},
    "reaudit_title": {"ru": "2016 → 2026: те же компании, найдено / на самом деле (синтетический рынок)",
                      "en": "2016 → 2026: the same companies, found / true (synthetic market)"},
    "reaudit": {"ru": ("канал", "пар", "2016", "2026", "появился", "пропал", "изменение, п. п. (95% ДИ)", "p"),
                "en": ("channel", "pairs", "2016", "2026", "adopted", "dropped", "change, pp (95% CI)", "p")},
    "reaudit_note": {"ru": "появился, пропал: найдено аудитами / заложено генератором (вероятности "
                           "datasets/market/waves.yaml); p: точный тест Мак-Немара; интервал Ньюкомба",
                     "en": "adopted, dropped: found by the audits / dealt by the generator (probabilities in "
                           "datasets/market/waves.yaml); p: McNemar exact; Newcombe's interval"},
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


def _print_validation(val, corrected, lang: str) -> None:
    """Agreement per channel beside the raw and corrected shares; the labels' origin printed above."""
    from chanaudit.analysis.labels import label
    from chanaudit.reports.style import lang_of

    lang = lang_of(lang)
    n = int(val["n"].max()) if len(val) else 0
    table = Table(title=HEADERS["validation_title"][lang].format(n=n))
    for i, col in enumerate(HEADERS["validation"][lang]):
        table.add_column(col, justify="right" if i else "left", overflow="fold")
    shares = corrected.set_index("channel")
    for _, r in val.iterrows():
        c = shares.loc[r["channel"]]
        kappa = "" if is_missing(r["kappa"]) else (
            f"{fmt_num(r['kappa'], lang)} ({fmt_num(r['kappa_ci_low'], lang)} – {fmt_num(r['kappa_ci_high'], lang)})")
        fixed = fmt_pct(c["raw"], lang) + ("" if is_missing(c["corrected"]) else (
            f" → {fmt_pct(c['corrected'], lang)} ({fmt_ci(c['ci_low'], c['ci_high'], lang)})"))
        table.add_row(label(r["channel"], lang), f"{r['tp']}/{r['fp']}/{r['fn']}/{r['tn']}",
                      fmt_pct(r["precision"], lang), fmt_pct(r["recall"], lang), kappa, fixed)
    console.print(table)
    if "coder" in val:
        console.print(HEADERS["coder"][lang] + str(val["coder"].iloc[0]))


def _misses(acc, lang: str) -> str:
    """«missed phone 1; false finds none»: where the second audit's detection differs from the truth."""
    from chanaudit.analysis.labels import label
    from chanaudit.reports.style import lang_of

    lang = lang_of(lang)
    rows = acc[acc["channel"] != "all"]

    def listed(col: str) -> str:
        said = [f"{label(r['channel'], lang).lower()} {int(r[col])}" for _, r in rows.iterrows() if r[col]]
        return ", ".join(said) or ("нет" if lang == "ru" else "none")

    return HEADERS["misses"][lang].format(fn=listed("fn"), fp=listed("fp"))


def _print_reaudit(check, lang: str) -> None:
    """The comparison of the two audits, adopted and dropped found beside the generator's true counts."""
    from chanaudit.analysis.labels import label
    from chanaudit.reports.charts import fmt_signed_pp
    from chanaudit.reports.style import lang_of

    lang = lang_of(lang)

    def pp(value) -> str:
        return fmt_signed_pp(value, lang, unit=False)

    table = Table(title=HEADERS["reaudit_title"][lang])
    for i, col in enumerate(HEADERS["reaudit"][lang]):
        table.add_column(col, justify="right" if i else "left", overflow="fold")
    for _, r in check.iterrows():
        pairs = str(r["n_pairs"]) + ("" if r["n_pairs"] == r["true_n_pairs"] else f" / {r['true_n_pairs']}")
        table.add_row(label(r["channel"], lang), pairs, fmt_pct(r["before"], lang), fmt_pct(r["after"], lang),
                      f"{r['adopted']} / {r['true_adopted']}", f"{r['dropped']} / {r['true_dropped']}",
                      f"{pp(r['diff'])} ({pp(r['ci_low'])} … {pp(r['ci_high'])})",
                      fmt_p(r["p_val"], lang))
    console.print(table)
    console.print(HEADERS["reaudit_note"][lang])


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
