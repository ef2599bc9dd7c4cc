"""``chanaudit sample AUDIT --n 100 --by city --out DIR`` and ``chanaudit validate AUDIT LABELS --out DIR``."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from chanaudit.commands import console as make_console
from chanaudit.core.numbers import fmt_ci, fmt_num, fmt_pct
from chanaudit.errors import UserError, friendly_errors

console = make_console()

HEADERS = {
    "ru": ("канал", "n", "верно найдено", "лишние", "пропущено", "точность (95% ДИ)", "полнота (95% ДИ)",
           "каппа (95% ДИ)", "PABAK"),
    "en": ("channel", "n", "tp", "fp", "fn", "precision (95% CI)", "recall (95% CI)", "kappa (95% CI)", "PABAK"),
}
CORRECTED_HEADERS = {
    "ru": ("канал", "доля в аудите (95% ДИ)", "с поправкой на ошибки (95% ДИ)"),
    "en": ("channel", "raw share (95% CI)", "corrected for misclassification (95% CI)"),
}


def _check_lang(lang: str) -> None:
    if lang not in ("ru", "en"):
        raise UserError(f"--lang {lang}: must be ru or en")


def sample(
    audit: Path = typer.Argument(..., help="An audit folder (holds sites.csv)."),
    n: int = typer.Option(100, "--n", help="Sites to draw (from the audited, status ok, sites)."),
    by: list[str] = typer.Option(None, "--by", help="Stratify by this input column (repeatable): city, segment..."),
    min_per_stratum: int = typer.Option(0, "--min-per-stratum",
                                        help="At least this many sites per stratum (or the whole stratum)."),
    seed: int = typer.Option(0, "--seed", help="Random seed: the same audit and seed give the same sample."),
    out: Path = typer.Option(..., "--out", "-o", help="Folder for coding_sheet.csv/.xlsx and sample_key.csv."),
) -> None:
    """Draw a stratified validation sample and write a blind coding sheet (no detector answers) and its key."""
    from chanaudit.analysis.validation import sample_audit

    with friendly_errors():
        result = sample_audit(audit, out, n, by or None, seed, min_per_stratum)
    table = Table(title=f"validation sample: {len(result.sheet)} sites, seed {seed}")
    for col in ("stratum", "audited", "sampled"):
        table.add_column(col)
    for _, r in result.allocation.iterrows():
        table.add_row(str(r["stratum"]), str(r["stratum_size"]), str(r["stratum_sample"]))
    console.print(table)
    console.print("fill the channel columns with 1 (present) or 0 (absent) by looking at each site; "
                  "then run `chanaudit validate`")
    console.print("written: " + ", ".join(str(p) for p in result.written))


def validate(
    audit: Path = typer.Argument(..., help="An audit folder (holds sites.csv)."),
    labels: Path = typer.Argument(..., help="Human labels, CSV or XLSX: a domain or url column and 1/0 columns "
                                            "email, phone, chat, form, portal (blank: not coded)."),
    out: Path = typer.Option(..., "--out", "-o", help="Folder for validation.csv and prevalence_corrected.csv."),
    conf: float = typer.Option(0.95, "--conf", help="Confidence level."),
    lang: str = typer.Option("ru", "--lang", help="Labels of the printed tables: ru or en."),
) -> None:
    """Precision, recall, Cohen's kappa and PABAK per channel against human labels; shares corrected for errors."""
    from chanaudit.analysis.labels import label
    from chanaudit.analysis.validation import validate_audit

    with friendly_errors():
        _check_lang(lang)
        result = validate_audit(audit, labels, out, conf)
    table = Table(title=(f"Сверка с ручной разметкой ({result.matched} сайтов)" if lang == "ru"
                         else f"Checked against human labels ({result.matched} sites)"))
    for col in HEADERS[lang]:
        table.add_column(col)
    for _, r in result.validation.iterrows():
        table.add_row(label(r["channel"], lang), str(r["n"]), str(r["tp"]), str(r["fp"]), str(r["fn"]),
                      f"{fmt_pct(r['precision'], lang)} ({fmt_ci(r['precision_ci_low'], r['precision_ci_high'], lang)})",
                      f"{fmt_pct(r['recall'], lang)} ({fmt_ci(r['recall_ci_low'], r['recall_ci_high'], lang)})",
                      f"{fmt_num(r['kappa'], lang)} ({fmt_num(r['kappa_ci_low'], lang)} – "
                      f"{fmt_num(r['kappa_ci_high'], lang)})" if r["kappa"] == r["kappa"] else "—",
                      fmt_num(r["pabak"], lang))
    console.print(table)
    corrected = Table(title="Rogan–Gladen, Lang–Reiczigel")
    for col in CORRECTED_HEADERS[lang]:
        corrected.add_column(col)
    for _, r in result.corrected.iterrows():
        corrected.add_row(label(r["channel"], lang),
                          f"{fmt_pct(r['raw'], lang)} ({fmt_ci(r['raw_ci_low'], r['raw_ci_high'], lang)})",
                          f"{fmt_pct(r['corrected'], lang)} ({fmt_ci(r['ci_low'], r['ci_high'], lang)})"
                          if r["corrected"] == r["corrected"] else "—")
    console.print(corrected)
    console.print("written: " + ", ".join(str(p) for p in result.written))


def register(app: typer.Typer) -> None:
    app.command("sample")(sample)
    app.command("validate")(validate)
