"""The report stage: the tables of an audit folder drawn into charts, ``report.html``, ``report.pdf`` and
``evidence.html``, with the weights the scores used."""

from __future__ import annotations

import os
from collections.abc import Callable

import pandas as pd

from chanaudit.analysis import check_options
from chanaudit.analysis.combinations import channel_counts, combinations
from chanaudit.analysis.compare import grouped_comparison
from chanaudit.analysis.flow import sample_flow
from chanaudit.analysis.prevalence import prevalence
from chanaudit.core.contract import CHANNELS
from chanaudit.core.errors import InvalidOption
from chanaudit.core.folder import AuditFolder
from chanaudit.reports.document import CHROMIUM, ReportPaths, build_report
from chanaudit.scoring import used_weights

LANGS = ("ru", "en")
FORMATS = ("png", "svg", "pdf")

Say = Callable[[str], None]


def load_tables(folder: AuditFolder | str | os.PathLike, min_group_n: int = 10,
                say: Say | None = None) -> dict[str, pd.DataFrame]:
    """Every table of an audit folder by name; the sample flow computed from sites.csv, and prevalence, counts
    and combinations computed if absent.

    A group comparison (``groups-<column>.csv``) written without folding (no ``members`` column) that has
    groups of fewer than ``min_group_n`` sites is computed again from sites.csv with those groups folded into
    one "other" group (Wilson 95%, the analysis defaults); the CSV itself is left as it is."""
    folder = AuditFolder.of(folder)
    tables = folder.tables()
    sites = tables[AuditFolder.SITES]
    tables[AuditFolder.FLOW] = sample_flow(sites)  # always from sites.csv: the base the tables below are over
    tables.setdefault(AuditFolder.PREVALENCE, prevalence(sites))
    tables.setdefault(AuditFolder.CHANNEL_COUNTS, channel_counts(sites))
    tables.setdefault(AuditFolder.COMBINATIONS, combinations(sites))
    for name in [k for k in tables if k.startswith(AuditFolder.groups("")) and not k.endswith("-tests")]:
        refolded = _refold(tables[name], sites, min_group_n)
        if refolded is not None:
            tables[name], tables[AuditFolder.group_tests(name.removeprefix(AuditFolder.groups("")))] = refolded
            members = int(tables[name]["members"].max())
            if say and members > 1:
                say(f"{name}: {members} groups with fewer than {min_group_n} sites folded into 'other' for the "
                    f"report (Wilson 95%; {AuditFolder.csv_name(name)} unchanged; --min-group-n 1 keeps every "
                    f"group)")
    return tables


def _refold(table: pd.DataFrame, sites: pd.DataFrame, min_group_n: int):
    """(table, tests) with small groups folded, or None when the table is already folded or needs no folding."""
    needed = {"group_var", "group", "n"}
    if "members" in table or not needed <= set(table.columns) or not len(table) or min_group_n <= 1:
        return None
    column = str(table["group_var"].iloc[0])
    if column not in sites or (table["n"] >= min_group_n).all():
        return None
    channels = [c for c in CHANNELS if c in set(table["channel"])]
    return grouped_comparison(sites, column, channels, min_n=min_group_n)


def build(folder: AuditFolder | str | os.PathLike, lang: str = "ru", out: str | os.PathLike | None = None,
          formats=FORMATS, min_group_n: int = 10, say: Say | None = None,
          chromium: str | None = CHROMIUM) -> ReportPaths:
    """Draw the charts (``formats``: png, svg, pdf at 300 dpi) and write ``report.html``, ``report.pdf`` and
    ``evidence.html`` for the audit ``folder`` into ``out`` (default ``DIR/report``), in ``lang`` (ru or en).

    The scores are described with the weights recorded by :func:`chanaudit.scoring.run` (``scoring.json``);
    without it the report shows the study's defaults and says that no scoring run was recorded. Group
    comparisons are shown with groups of fewer than ``min_group_n`` sites folded (``say`` hears when).
    ``chromium`` prints the PDF (None: the charts, one per page)."""
    folder = AuditFolder.of(folder)
    if lang not in LANGS:
        raise InvalidOption(f"lang must be ru or en, not {lang!r}")
    formats = tuple(formats)
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise InvalidOption(f"chart formats must be among {', '.join(FORMATS)}, not {', '.join(unknown) or 'none'}")
    check_options(min_group_n=min_group_n)
    tables = load_tables(folder, min_group_n, say)
    return build_report(tables, folder.report_dir if out is None else out, lang, folder.manifest(), formats,
                        weights=used_weights(folder), chromium=chromium)
