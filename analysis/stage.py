"""The analysis stage: the statistics of an audit folder, and a study reproduced on an audit or a survey.

:func:`run` writes prevalence, channel counts, combinations and, per ``by`` column, a group comparison
and its tests; :func:`reproduce_study` writes the published-vs-reproduced table of a study spec.
Both read and write through :class:`~chanaudit.core.folder.AuditFolder`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from chanaudit.analysis.combinations import channel_counts, combinations
from chanaudit.analysis.compare import check_group_column, grouped_comparison
from chanaudit.analysis.flow import sample_flow
from chanaudit.analysis.intervals import interval_method
from chanaudit.analysis.prevalence import prevalence
from chanaudit.analysis.reproduce import reproduce
from chanaudit.analysis.studies import Study, load_study
from chanaudit.core.contract import CHANNELS
from chanaudit.core.errors import InvalidOption
from chanaudit.core.folder import AuditFolder
from chanaudit.core.overrides import Applied, apply_to_folder
from chanaudit.core.tables import TableError, read_csv
from chanaudit.scoring import site_scorer, used_weights

#: The study ``chanaudit reproduce`` checks unless told otherwise.
DEFAULT_STUDY = "okdesk-2016-it-outsourcing"


def check_options(method: str = "wilson", conf: float = 0.95, min_group_n: int = 10) -> None:
    """:class:`UnknownMethod` or :class:`InvalidOption` before anything is computed or written."""
    interval_method(method)
    if not 0 < conf < 1:
        raise InvalidOption(f"conf must be between 0 and 1 (0.95 for 95%), not {conf}")
    if min_group_n < 1:
        raise InvalidOption(f"min_group_n must be at least 1, not {min_group_n}")


def audit_sites(folder: AuditFolder, overrides: str | os.PathLike | None, stage: str
                ) -> tuple[pd.DataFrame, pd.DataFrame | None, Applied | None]:
    """(sites, evidence, applied) of an audit folder: as the crawler wrote them, or with the human decisions of
    ``overrides`` applied (then recorded in the folder by ``stage``, :func:`chanaudit.core.overrides.apply_to_folder`)."""
    if overrides is None:
        evidence = folder.read(AuditFolder.EVIDENCE) if folder.has(AuditFolder.EVIDENCE) else None
        return folder.read_sites(), evidence, None
    applied = apply_to_folder(folder, overrides, stage, scorer=site_scorer(used_weights(folder)))
    return applied.sites, applied.evidence, applied


def run(folder: AuditFolder | str | os.PathLike, by: Iterable[str] = (), method: str = "wilson",
        conf: float = 0.95, min_group_n: int = 10,
        overrides: str | os.PathLike | None = None) -> dict[str, pd.DataFrame]:
    """Prevalence of each channel, channel counts and combinations of the audited sites of ``folder``, and
    for every column of ``by`` (city, segment...) a group comparison where groups with fewer than
    ``min_group_n`` audited sites are folded into one ``other`` group (1 keeps every group).

    Intervals by ``method`` (wilson, clopper-pearson, agresti-coull) at level ``conf``. Returns the
    tables by name (``flow``, the base of every share: :func:`chanaudit.analysis.flow.sample_flow`;
    ``prevalence``, ``channel_counts``, ``combinations``, ``groups-<col>``, ``groups-<col>-tests``), each
    also written to the folder. With ``overrides`` (human decisions, :mod:`chanaudit.core.overrides`) the
    statistics are those of the reviewed channels and every table has a column ``overridden``: the values
    the review changed (in the row's channel, or in all).
    """
    folder = AuditFolder.of(folder)
    by = list(by)
    check_options(method, conf, min_group_n)
    folder.check()
    sites = folder.read_sites()
    for col in by:
        check_group_column(sites, col, str(folder.sites))
    sites, _, applied = audit_sites(folder, overrides, "analyze")
    tables = {
        AuditFolder.FLOW: sample_flow(sites),
        AuditFolder.PREVALENCE: prevalence(sites, method=method, conf=conf),
        AuditFolder.CHANNEL_COUNTS: channel_counts(sites, method, conf),
        AuditFolder.COMBINATIONS: combinations(sites, method, conf),
    }
    for col in by:
        table, tests = grouped_comparison(sites, col, CHANNELS, method, conf, min_group_n)
        tables[AuditFolder.groups(col)], tables[AuditFolder.group_tests(col)] = table, tests
    if applied is not None:
        tables = {name: applied.annotate(table) for name, table in tables.items()}
    for name, table in tables.items():
        folder.write(name, table)
    return tables


@dataclass
class Reproduction:
    """A study reproduced: the spec, the table (:data:`chanaudit.analysis.reproduce.COLUMNS`) and its file, and
    for an audit the flow of its sample (the base of every share; None for a survey CSV)."""

    study: Study
    table: pd.DataFrame
    path: Path
    flow: pd.DataFrame | None = None


def reproduce_study(data: AuditFolder | str | os.PathLike, study: str | os.PathLike | Study = DEFAULT_STUDY,
                    method: str = "wilson", conf: float = 0.95,
                    out: AuditFolder | str | os.PathLike | None = None,
                    equivalence_margin: float | None = None,
                    weigh: Callable[[pd.DataFrame], pd.Series] | None = None,
                    overrides: str | os.PathLike | None = None) -> Reproduction:
    """Every figure of ``study`` (a shipped id, a YAML spec or a loaded :class:`Study`) computed on ``data``
    with its interval and a verdict.

    ``data`` is an audit folder (its ``sites.csv``) or, for survey studies, a CSV such as an imported
    ``survey.csv``. The table ``reproduce-<study id>`` is written to ``out``: by default the audit folder,
    or the folder of the CSV. An audit folder's ``evidence.csv`` gives the evidence-level fields
    (``form_request``, ``form_callback_only``); ``equivalence_margin`` adds the equivalence verdict.
    ``weigh`` computes weights from the table read (e.g. raking a survey to population margins,
    :func:`chanaudit.survey.run_reproduce`): the reproduction is then weighted.
    ``overrides`` (human decisions on an audit folder's findings) reproduces the study on the reviewed
    channels, the rejected findings left out of the evidence; the table gets a column ``overridden``.
    """
    check_options(method, conf)
    spec = study if isinstance(study, Study) else load_study(study)
    applied = None
    if isinstance(data, AuditFolder) or Path(data).is_dir():
        folder = AuditFolder.of(data)
        folder.check()
        frame, evidence, applied = audit_sites(folder, overrides, "reproduce")
        if applied is not None and evidence is not None:
            evidence = evidence[evidence["decision"].astype(str) != "rejected"]
    elif overrides is not None:
        raise InvalidOption(f"--overrides: {data} is not an audit folder (overrides apply to an audit's findings)")
    elif Path(data).is_file():
        folder = AuditFolder(Path(data).parent)
        frame = read_csv(data)
        evidence = None
    else:
        raise TableError(f"{data}: no such file or folder")
    target = folder if out is None else AuditFolder.of(out)
    weights = weigh(frame) if weigh is not None else None
    table = reproduce(frame, spec, method, conf, evidence=evidence, equivalence_margin=equivalence_margin,
                      weights=weights)
    if applied is not None:
        table = applied.annotate(table)
    flow = sample_flow(frame) if "status" in frame else None
    return Reproduction(spec, table, target.write(AuditFolder.reproduction(spec.id), table), flow)
