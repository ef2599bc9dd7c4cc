"""``chanaudit review AUDIT``: the review page."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

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


def register(app: typer.Typer) -> None:
    app.command("review")(review)
