"""The survey stage: import an export into a survey folder, summarise it, join it with an audit.

A survey folder is an :class:`~chanaudit.core.folder.AuditFolder` without ``sites.csv``:
:func:`run_import` writes the coded answers (``survey``) and the import's issues, :func:`run_summary`
the 2026 headline figures and tool type vs SLA control, :func:`run_join` the answers joined with an
audit's sites and what matched on neither side.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from chanaudit.core.errors import ChanauditError, UnknownColumn
from chanaudit.core.folder import AuditFolder
from chanaudit.core.tables import TableError, read_csv
from chanaudit.survey.analyses import headline_figures, tool_vs_sla
from chanaudit.survey.codebook import Codebook, load_codebook, read_spec
from chanaudit.survey.importer import SurveyImport, import_survey
from chanaudit.survey.join import JoinResult, join_audit
from chanaudit.survey.weighting import WeightingError, rake

Source = AuditFolder | str | os.PathLike


class EmptySurvey(ChanauditError, ValueError):
    """An imported survey without respondents: there is nothing to summarise."""


def read_survey(source: Source) -> tuple[pd.DataFrame, AuditFolder]:
    """(answers, folder): ``source`` is a survey folder (its ``survey.csv``) or an imported CSV."""
    if isinstance(source, AuditFolder) or Path(source).is_dir():
        folder = AuditFolder.of(source)
        return folder.read(AuditFolder.SURVEY), folder
    if Path(source).is_file():
        return read_csv(source), AuditFolder(Path(source).parent)
    raise TableError(f"{source}: no such file or folder")


def run_import(export: str | os.PathLike, out: Source, codebook: str | os.PathLike | Codebook | None = None,
               salt: str | None = None) -> SurveyImport:
    """Import a survey export (CSV or XLSX; Google Forms, Yandex Forms, LimeSurvey, Excel) through the
    codebook (default: the 2026 survey's) and write the coded answers and the issues to the folder ``out``.

    Personal data is pseudonymised with ``salt`` (or ``CHANAUDIT_SURVEY_SALT``) and never written."""
    book = codebook if isinstance(codebook, Codebook) else load_codebook(codebook)
    result = import_survey(export, book, salt)
    folder = AuditFolder.of(out)
    folder.write(AuditFolder.SURVEY, result.frame)
    folder.write(AuditFolder.SURVEY_ISSUES, result.issues_frame())
    return result


@dataclass
class SurveySummary:
    """The 2026 headline figures (weighted when margins were given) and tool type vs SLA control."""

    figures: pd.DataFrame
    tool_vs_sla: pd.DataFrame  # row shares of SLA control by tool type
    test: dict  # chi2, dof, p_val, n, odds_ratio, ci_low, ci_high
    weights: pd.Series | None  # raking weights (mean 1), None without margins


def load_margins(path: str | os.PathLike) -> dict:
    """Population margins from YAML: ``{variable: {level: share}}``, every share a number in [0, 1]."""
    return check_margins(read_spec(path, WeightingError, "margins file"), str(path))


def check_margins(margins, where: str = "margins") -> dict:
    """``margins`` itself when it is ``{variable: {level: share}}`` with shares in [0, 1], else
    :class:`WeightingError` naming the variable and level."""
    shape = "expected variables with their level shares (variable: {level: share})"
    if not isinstance(margins, Mapping) or not margins:
        raise WeightingError(f"{where}: {shape}")
    for variable, levels in margins.items():
        if not isinstance(levels, Mapping) or not levels:
            raise WeightingError(f"{where}: {variable}: {shape}")
        for level, share in levels.items():
            if isinstance(share, bool) or not isinstance(share, int | float) or not 0 <= share <= 1:
                raise WeightingError(f"{where}: {variable}: {level}: a share is a number from 0 to 1, not {share!r}")
    return dict(margins)


def run_summary(source: Source, margins: Mapping | str | os.PathLike | None = None,
                out: Source | None = None) -> SurveySummary:
    """The headline figures of the imported survey ``source`` (a survey folder or CSV), raked to
    ``margins`` (a mapping or a YAML file) when given, and tool type vs SLA control. Writes
    ``survey_figures``, ``tool_vs_sla`` and its test to ``out`` (default: the survey's folder)."""
    frame, folder = read_survey(source)
    for column in ("tool_type", "sla_control"):
        if column not in frame:
            raise UnknownColumn(f"{source}: no column {column!r}; is it a survey imported with "
                                f"`chanaudit survey import`? (columns: {', '.join(map(str, frame.columns))})")
    if not len(frame):
        raise EmptySurvey(f"{source}: no respondents to summarise (the import kept 0 rows; its issues say why)")
    if margins is not None:
        margins = check_margins(margins) if isinstance(margins, Mapping) else load_margins(margins)
    weights = rake(frame, margins) if margins else None
    figures = headline_figures(frame, weights)
    shares, test = tool_vs_sla(frame, weights)
    target = folder if out is None else AuditFolder.of(out)
    target.write(AuditFolder.SURVEY_FIGURES, figures)
    target.write(AuditFolder.TOOL_VS_SLA, shares)
    target.write_json(AuditFolder.TOOL_VS_SLA_TEST,
                      {k: v if isinstance(v, bool | str) else float(v) for k, v in test.items()})
    return SurveySummary(figures, shares, test, weights)


def run_reproduce(source: Source, study: str | os.PathLike, margins: Mapping | str | os.PathLike,
                  method: str = "wilson", conf: float = 0.95, out: Source | None = None,
                  equivalence_margin: float | None = None, overrides: str | os.PathLike | None = None):
    """A survey study reproduced on the imported survey ``source`` with its respondents raked to
    ``margins`` (a mapping or a YAML file): the same weighted shares and intervals as
    :func:`run_summary`'s headline table, with the study's comparisons (``weighted`` is true)."""
    from chanaudit.analysis import reproduce_study

    if not isinstance(margins, Mapping):
        margins = load_margins(margins)
    return reproduce_study(source, study, method, conf, out=out, equivalence_margin=equivalence_margin,
                           weigh=lambda frame: rake(frame, margins), overrides=overrides)


def run_join(source: Source, audit: Source, key: str | None = None, out: Source | None = None) -> JoinResult:
    """Join the imported survey ``source`` with the sites of the audit folder ``audit`` by registrable
    domain (``key``: the audit column holding the domain; default final_url, then url, then input).
    Each respondent gets the site's status, channels and score (from the last scoring run when the folder
    has one). Writes the joined answers and the unmatched respondents and sites to ``out`` (default: the
    survey's folder)."""
    frame, folder = read_survey(source)
    audit = AuditFolder.of(audit).check()
    sites = audit.read(AuditFolder.SCORES) if audit.has(AuditFolder.SCORES) else audit.read_sites()
    if key is not None and key not in sites:
        raise UnknownColumn(f"{audit.sites}: no column {key!r} to join on (columns: {', '.join(map(str, sites.columns))})")
    result = join_audit(frame, sites, audit_key=key)
    target = folder if out is None else AuditFolder.of(out)
    target.write(AuditFolder.JOINED, result.frame)
    target.write(AuditFolder.UNMATCHED_SURVEY, result.unmatched_survey)
    target.write(AuditFolder.UNMATCHED_SITES, result.unmatched_sites)
    return result
