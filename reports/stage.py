"""The report stage: the tables of an audit folder drawn into charts, ``report.html``, ``report.pdf`` and the
review page ``review.html``, with the weights the scores used and, given a file of review decisions, the
reviewed channels."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import asdict

import pandas as pd

from chanaudit.analysis import check_options
from chanaudit.analysis.combinations import channel_counts, combinations
from chanaudit.analysis.compare import grouped_comparison
from chanaudit.analysis.flow import sample_flow
from chanaudit.analysis.prevalence import prevalence
from chanaudit.analysis.reproduce import reproduce
from chanaudit.analysis.studies import StudySpecError, load_study
from chanaudit.core.contract import CHANNELS
from chanaudit.core.errors import InvalidOption
from chanaudit.core.folder import AuditFolder
from chanaudit.core.overrides import Applied, apply_to_folder, audit_id
from chanaudit.reports.document import CHROMIUM, ReportPaths, build_report
from chanaudit.scoring import site_scorer, used_weights
from chanaudit.scoring.rank import score_sites, top_n
from chanaudit.scoring.weights import default_weights

LANGS = ("ru", "en")
FORMATS = ("png", "svg", "pdf")

Say = Callable[[str], None]


def load_tables(folder: AuditFolder | str | os.PathLike, min_group_n: int = 10,
                say: Say | None = None, overrides: str | os.PathLike | None = None) -> dict[str, pd.DataFrame]:
    """Every table of an audit folder by name; the sample flow computed from sites.csv (or the reviewed
    sites), and prevalence, counts and combinations computed if absent.

    A group comparison (``groups-<column>.csv``) written without folding (no ``members`` column) that has
    groups of fewer than ``min_group_n`` sites is computed again from sites.csv with those groups folded into
    one "other" group (Wilson 95%, the analysis defaults); the CSV itself is left as it is. With ``overrides``
    (review decisions) every table computed from the channels is computed again from the reviewed ones, with
    a column ``overridden``; ``sites`` and ``evidence`` stay the crawler's (the review page shows both)."""
    return _load(folder, min_group_n, say, overrides)[0]


def _load(folder, min_group_n: int, say: Say | None, overrides) -> tuple[dict[str, pd.DataFrame], Applied | None]:
    folder = AuditFolder.of(folder)
    tables = folder.tables()
    applied = None
    if overrides is not None:
        applied = apply_to_folder(folder, overrides, "report", scorer=site_scorer(used_weights(folder)))
        tables.update(_reviewed_tables(folder, tables, applied, min_group_n))
    sites = tables[AuditFolder.SITES] if applied is None else applied.sites
    tables[AuditFolder.FLOW] = sample_flow(sites)  # always from the sites: the base the tables below are over
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
    return tables, applied


def _reviewed_tables(folder: AuditFolder, tables: dict[str, pd.DataFrame], applied: Applied,
                     min_group_n: int) -> dict[str, pd.DataFrame]:
    """The tables a report shows, computed from the reviewed channels (``applied``), each with ``overridden``:
    prevalence, counts, combinations, and those the folder has: scores and the winners, group comparisons,
    reproductions of audit studies (the rejected findings left out of the evidence)."""
    sites = applied.sites
    out = {AuditFolder.PREVALENCE: prevalence(sites), AuditFolder.CHANNEL_COUNTS: channel_counts(sites),
           AuditFolder.COMBINATIONS: combinations(sites)}
    if AuditFolder.SCORES in tables or AuditFolder.TOP in tables:  # shown when scoring has run
        scored = score_sites(sites, used_weights(folder) or default_weights())
        top = int(folder.read_json(AuditFolder.SCORING).get("top", 10))
        out.update({AuditFolder.SCORES: scored, AuditFolder.TOP: top_n(scored, top)})
    for name in [k for k in tables if k.startswith(AuditFolder.groups("")) and not k.endswith("-tests")]:
        column = name.removeprefix(AuditFolder.groups(""))
        if column in sites:
            out[name], out[AuditFolder.group_tests(column)] = grouped_comparison(sites, column, min_n=min_group_n)
    evidence = applied.evidence
    if evidence is not None:
        evidence = evidence[evidence["decision"].astype(str) != "rejected"]
    for name in [k for k in tables if k.startswith(AuditFolder.reproduction(""))]:
        try:
            study = load_study(name.removeprefix(AuditFolder.reproduction("")))
        except StudySpecError:
            continue
        if study.data == "audit":
            out[name] = reproduce(sites, study, evidence=evidence)
    return {name: applied.annotate(table) for name, table in out.items()}


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
          chromium: str | None = CHROMIUM, overrides: str | os.PathLike | None = None) -> ReportPaths:
    """Draw the charts (``formats``: png, svg, pdf at 300 dpi) and write ``report.html``, ``report.pdf`` and
    the review page ``review.html`` for the audit ``folder`` into ``out`` (default ``DIR/report``), in ``lang``
    (ru or en).

    The scores are described with the weights recorded by :func:`chanaudit.scoring.run` (``scoring.json``);
    without it the report shows the study's defaults and says that no scoring run was recorded. Group
    comparisons are shown with groups of fewer than ``min_group_n`` sites folded (``say`` hears when).
    ``chromium`` prints the PDF (None: the charts, one per page). ``overrides``, a file of review decisions
    (:mod:`chanaudit.core.overrides`), makes every figure that of the reviewed channels, says so in the report
    and opens the review page with those decisions."""
    folder = AuditFolder.of(folder)
    if lang not in LANGS:
        raise InvalidOption(f"lang must be ru or en, not {lang!r}")
    formats = tuple(formats)
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise InvalidOption(f"chart formats must be among {', '.join(FORMATS)}, not {', '.join(unknown) or 'none'}")
    check_options(min_group_n=min_group_n)
    folder.check()
    tables, applied = _load(folder, min_group_n, say, overrides)
    meta = folder.manifest()
    seed = None
    if applied is not None:
        seed = pd.DataFrame([asdict(d) for d in applied.overrides.decisions]) if applied.overrides.decisions else None
    elif not any("overridden" in t.columns for name, t in tables.items() if name != AuditFolder.SITES):
        meta.pop("overrides", None)  # an earlier stage's review, not behind these tables
    return build_report(tables, folder.report_dir if out is None else out, lang, meta, formats,
                        weights=used_weights(folder), chromium=chromium, audit=audit_id(folder), review_seed=seed)
