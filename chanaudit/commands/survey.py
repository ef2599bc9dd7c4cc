"""``chanaudit survey import|summary|join|generate``."""

from __future__ import annotations

from pathlib import Path

import typer
import yaml
from rich.console import Console
from rich.table import Table

from chanaudit.core.numbers import fmt_ci, fmt_pct
from chanaudit.errors import UserError, friendly_errors

survey_app = typer.Typer(help="Survey exports: import, summary, join with an audit, synthetic data.",
                         no_args_is_help=True)
console = Console()


def _errors():
    from chanaudit.survey.codebook import CodebookError
    from chanaudit.survey.importer import UnknownColumns
    from chanaudit.survey.pseudonymise import MissingSalt
    from chanaudit.survey.weighting import WeightingError

    return friendly_errors(CodebookError, UnknownColumns, MissingSalt, WeightingError)


@survey_app.command("import")
def import_cmd(
    file: Path = typer.Argument(..., help="Survey export: CSV (utf-8/cp1251, , or ;) or XLSX."),
    out: Path = typer.Option(Path("survey-out"), "--out", "-o", help="Folder for survey.csv and issues.csv."),
    codebook: Path = typer.Option(None, "--codebook", help="Codebook YAML (default: the 2026 survey codebook)."),
    salt: str = typer.Option(None, "--salt", help="Secret for pseudonyms (or CHANAUDIT_SURVEY_SALT)."),
) -> None:
    """Import an export through the codebook: values coded, bad values reported, personal data pseudonymised."""
    from chanaudit.core.tables import write_csv
    from chanaudit.survey.codebook import load_codebook
    from chanaudit.survey.importer import import_survey

    with _errors():
        result = import_survey(file, load_codebook(codebook), salt)
        write_csv(result.frame, out / "survey.csv")
        write_csv(result.issues_frame(), out / "issues.csv")
    console.print(f"{file}: format [bold]{result.format}[/], encoding {result.encoding or '-'}, "
                  f"delimiter {result.delimiter!r}; {len(result.frame)} respondents, {len(result.issues)} issues")
    for issue in result.issues[:20]:
        console.print(f"  [yellow]{issue}[/]")
    if len(result.issues) > 20:
        console.print(f"  ... and {len(result.issues) - 20} more in {out / 'issues.csv'}")
    console.print(f"personal data columns pseudonymised, not written: {', '.join(result.pii_columns) or 'none'}")
    console.print(f"written: {out / 'survey.csv'}, {out / 'issues.csv'}")


@survey_app.command("summary")
def summary_cmd(
    file: Path = typer.Argument(..., help="An imported survey.csv (from `chanaudit survey import`)."),
    margins: Path = typer.Option(None, "--margins", help="YAML of population margins to rake to."),
    lang: str = typer.Option("ru", "--lang", help="Labels: ru or en."),
) -> None:
    """The 2026 headline figures (weighted when margins are given) and tool type vs SLA control."""
    from chanaudit.core.tables import read_csv, write_csv
    from chanaudit.survey.analyses import headline_figures, tool_vs_sla
    from chanaudit.survey.weighting import design_effect, rake

    with _errors():
        if not file.exists():
            raise UserError(f"{file}: no such file")
        frame = read_csv(file)
        weights = None
        if margins:
            weights = rake(frame, yaml.safe_load(margins.read_text(encoding="utf-8")))
        figures = headline_figures(frame, weights)
        write_csv(figures, file.parent / "survey_figures.csv")
        shares, test = tool_vs_sla(frame)
        write_csv(shares, file.parent / "tool_vs_sla.csv")
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
    console.print(f"SLA control, specialised platform vs email and spreadsheets: OR {test['odds_ratio']:.2f} "
                  f"({test['ci_low']:.2f}–{test['ci_high']:.2f}); chi2({test['dof']}) = {test['chi2']:.1f}, "
                  f"p = {test['p_val']:.2g}")


@survey_app.command("join")
def join_cmd(
    survey_file: Path = typer.Argument(..., help="An imported survey.csv."),
    audit_dir: Path = typer.Argument(..., help="An audit folder (sites.csv)."),
    key: str = typer.Option(None, "--key", help="Audit column holding the domain (default: final_url, url, input)."),
) -> None:
    """Join respondents with audited sites by registrable domain; report what did not match on both sides."""
    from chanaudit.core.tables import read_csv, write_csv
    from chanaudit.survey.join import join_audit

    with _errors():
        for path in (survey_file, audit_dir / "sites.csv"):
            if not path.exists():
                raise UserError(f"{path}: no such file")
        result = join_audit(read_csv(survey_file), read_csv(audit_dir / "sites.csv"), audit_key=key)
        out = survey_file.parent
        write_csv(result.frame, out / "joined.csv")
        write_csv(result.unmatched_survey, out / "unmatched_survey.csv")
        write_csv(result.unmatched_sites, out / "unmatched_sites.csv")
    console.print(f"matched {result.match_rate:.0%} of respondents; unmatched respondents "
                  f"{len(result.unmatched_survey)}, sites without a respondent {len(result.unmatched_sites)}")
    console.print(f"written: {out / 'joined.csv'}, unmatched_survey.csv, unmatched_sites.csv")


@survey_app.command("generate")
def generate_cmd(
    out: Path = typer.Option(Path("survey-export.csv"), "--out", "-o", help="CSV to write."),
    n: int = typer.Option(400, "--n", help="Respondents."),
    seed: int = typer.Option(0, "--seed", help="Random seed."),
) -> None:
    """Write a SYNTHETIC Google-Forms-style export calibrated to the 2026 published marginals."""
    from chanaudit.demo.survey import generate_survey

    generate_survey(n, seed).to_csv(out, index=False, encoding="utf-8")
    console.print(f"written {out}: {n} SYNTHETIC respondents (seed {seed})")


def register(app: typer.Typer) -> None:
    app.add_typer(survey_app, name="survey")
