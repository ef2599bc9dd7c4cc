"""``chanaudit survey import|summary|join|generate``."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from chanaudit.commands import console as make_console
from chanaudit.core.folder import AuditFolder
from chanaudit.core.numbers import fmt_ci, fmt_pct
from chanaudit.errors import friendly_errors

survey_app = typer.Typer(help="Survey exports: import, summary, join with an audit, synthetic data.",
                         no_args_is_help=True)
console = make_console()


@survey_app.command("import")
def import_cmd(
    file: Path = typer.Argument(..., help="Survey export: CSV (utf-8/cp1251, , or ;) or XLSX."),
    out: Path = typer.Option(Path("survey-out"), "--out", "-o", help="Folder for survey.csv and issues.csv."),
    codebook: Path = typer.Option(None, "--codebook", help="Codebook YAML (default: the 2026 survey codebook)."),
    salt: str = typer.Option(None, "--salt", help="Secret for pseudonyms (or CHANAUDIT_SURVEY_SALT)."),
) -> None:
    """Import an export through the codebook: values coded, bad values reported, personal data pseudonymised."""
    from chanaudit.survey import run_import

    with friendly_errors():
        result = run_import(file, out, codebook, salt)
    folder = AuditFolder(out)
    survey_csv, issues_csv = folder.csv(AuditFolder.SURVEY), folder.csv(AuditFolder.SURVEY_ISSUES)
    console.print(f"{file}: format {result.format}, encoding {result.encoding or '-'}, "
                  f"delimiter {result.delimiter!r}; {len(result.frame)} respondents, {len(result.issues)} issues")
    for issue in result.issues[:20]:
        console.print(f"  {issue}", style="yellow")
    if len(result.issues) > 20:
        console.print(f"  ... and {len(result.issues) - 20} more in {issues_csv}")
    console.print(f"personal data columns pseudonymised, not written: {', '.join(result.pii_columns) or 'none'}")
    console.print(f"written: {survey_csv}, {issues_csv}")


@survey_app.command("summary")
def summary_cmd(
    file: Path = typer.Argument(..., help="An imported survey.csv (from `chanaudit survey import`)."),
    margins: Path = typer.Option(None, "--margins", help="YAML of population margins to rake to."),
    lang: str = typer.Option("ru", "--lang", help="Labels: ru or en."),
) -> None:
    """The 2026 headline figures (weighted when margins are given) and tool type vs SLA control."""
    from chanaudit.survey import run_summary
    from chanaudit.survey.weighting import design_effect

    with friendly_errors():
        summary = run_summary(file, margins)
    figures, weights, test = summary.figures, summary.weights, summary.test
    table = Table(title=("Опрос 2026: ключевые показатели" if lang == "ru" else "2026 survey: headline figures")
                  + (" (взвешено / weighted)" if weights is not None else ""))
    for col in ("figure", "published", "estimate", "95% CI", "n"):
        table.add_column(col)
    for _, r in figures.iterrows():
        published = (r.get("published_text_ru") if lang == "ru" else None) or r["published_text"]
        table.add_row(r[f"label_{lang}"], str(published), fmt_pct(r["estimate"], lang),
                      fmt_ci(r["ci_low"], r["ci_high"], lang), str(r["n"]))
    console.print(table)
    if weights is not None:
        deff, n_eff = design_effect(weights)
        console.print(f"design effect {deff:.2f}, effective n {n_eff:.0f}")
    console.print(_sla_line(test, lang))


def _sla_line(test: dict, lang: str) -> str:
    """The tool type vs SLA control result, saying whether (and how) it is weighted."""
    ru = lang == "ru"
    head = ("Контроль SLA, специализированная платформа против почты и таблиц" if ru
            else "SLA control, specialised platform vs email and spreadsheets")
    if test["chi2"] != test["chi2"]:  # NaN: fewer than two tool types or SLA answers
        return head + (f": не вычисляется — нужны хотя бы два типа инструментов и оба ответа о SLA (n = {test['n']})"
                       if ru else f": not computable — needs two tool types and both SLA answers (n = {test['n']})")
    odds = f"OR {test['odds_ratio']:.2f} ({test['ci_low']:.2f}–{test['ci_high']:.2f})"
    if test.get("weighted"):
        how = ("взвешено: ОШ и интервал по взвешенной логистической регрессии с линеаризованной дисперсией, "
               "критерий Рао — Скотта" if ru else "weighted: OR and interval from a survey-weighted logistic "
               "regression with linearised variance; Rao–Scott test")
        stat = (f"Rao–Scott chi2({test['dof']}) = {test['chi2']:.1f}, p = {test['p_val']:.2g}; "
                f"F({test['ndf']:.2f}, {test['ddf']:.1f}) = {test['f']:.2f}, p = {test['p_val_f']:.2g}")
    else:
        how = ("без весов: ОШ с интервалом Вульфа, критерий хи-квадрат Пирсона" if ru
               else "unweighted: OR with Woolf's interval, Pearson's chi-square")
        stat = f"chi2({test['dof']}) = {test['chi2']:.1f}, p = {test['p_val']:.2g}"
    return f"{head}: {odds}; {stat} ({how})"


@survey_app.command("join")
def join_cmd(
    survey_file: Path = typer.Argument(..., help="An imported survey.csv."),
    audit_dir: Path = typer.Argument(..., help="An audit folder (sites.csv)."),
    key: str = typer.Option(None, "--key", help="Audit column holding the domain (default: final_url, url, input)."),
) -> None:
    """Join respondents with audited sites by registrable domain; report what did not match on both sides."""
    from chanaudit.survey import run_join

    with friendly_errors():
        result = run_join(survey_file, audit_dir, key=key)
    folder = AuditFolder(survey_file if survey_file.is_dir() else survey_file.parent)
    console.print(f"matched {result.match_rate:.0%} of respondents; unmatched respondents "
                  f"{len(result.unmatched_survey)}, sites without a respondent {len(result.unmatched_sites)}")
    console.print(f"written: {folder.csv(AuditFolder.JOINED)}, {folder.csv(AuditFolder.UNMATCHED_SURVEY).name}, "
                  f"{folder.csv(AuditFolder.UNMATCHED_SITES).name}")


@survey_app.command("generate")
def generate_cmd(
    out: Path = typer.Option(AuditFolder(".").csv(AuditFolder.SURVEY_EXPORT), "--out", "-o", help="CSV to write."),
    n: int = typer.Option(400, "--n", help="Respondents."),
    seed: int = typer.Option(0, "--seed", help="Random seed."),
) -> None:
    """Write a SYNTHETIC Google-Forms-style export calibrated to the 2026 published marginals."""
    from chanaudit.demo.survey import generate_survey

    with friendly_errors():
        out.parent.mkdir(parents=True, exist_ok=True)
        generate_survey(n, seed).to_csv(out, index=False, encoding="utf-8")
    console.print(f"written {out}: {n} SYNTHETIC respondents (seed {seed})")


def register(app: typer.Typer) -> None:
    app.add_typer(survey_app, name="survey")
