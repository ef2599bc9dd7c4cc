"""Options shared by several commands, defined once so that every command speaks one dialect."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

#: ``--overrides FILE``: review decisions (the review page's export) applied before anything is computed.
OVERRIDES = typer.Option(None, "--overrides",
                         help="Review decisions (overrides.csv from `chanaudit review`): channels confirmed, "
                              "rejected or set by hand are applied before anything is computed.")


def say_overrides(console: Console, folder: Path) -> None:
    """One line on what the review decisions changed, from the manifest's record."""
    from chanaudit.core.folder import AuditFolder

    done = AuditFolder(folder).manifest().get("overrides") or {}
    if done:
        by = ", ".join(f"{ch} {n}" for ch, n in done.get("by_channel", {}).items() if n) or "none"
        console.print(f"overrides: {done.get('reviewed', 0)} decisions from {done.get('file')}; channel values "
                      f"changed {done.get('changed', 0)} ({by}) in {done.get('sites_changed', 0)} sites; written "
                      f"{AuditFolder.csv_name(AuditFolder.OVERRIDES_APPLIED)}, "
                      f"{AuditFolder.csv_name(AuditFolder.EVIDENCE_REVIEWED)}", markup=False, highlight=False)
