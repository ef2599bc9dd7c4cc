"""The scoring stage: score and rank the audited sites of a folder, pick the winners, measure how the
ranking moves with the weights, and record the weights used (``scoring.json``) for the report."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial

import pandas as pd

from chanaudit.core.errors import InvalidOption
from chanaudit.core.folder import AuditFolder
from chanaudit.core.overrides import apply_to_folder
from chanaudit.scoring.rank import score_flags, score_sites, top_n
from chanaudit.scoring.sensitivity import rank_sensitivity
from chanaudit.scoring.weights import default_weights, validate


@dataclass
class ScoringResult:
    """What :func:`run` computed and wrote."""

    scores: pd.DataFrame  # sites.csv with score, channels, rank, rank_dense
    top: pd.DataFrame  # the winners, ties at the cut included
    sensitivity: pd.DataFrame  # per site: base rank, median rank, 5-95% range, share of draws in the top
    weights: dict[str, float]  # the weights the scores used
    stats: dict  # n_draws, concentration, top, seed, kendall_tau_mean, kendall_tau_p05

    def tables(self) -> dict[str, pd.DataFrame]:
        return {AuditFolder.SCORES: self.scores, AuditFolder.TOP: self.top,
                AuditFolder.SENSITIVITY: self.sensitivity}


def site_scorer(weights: Mapping[str, float] | None = None) -> Callable[[Mapping[str, int]], float]:
    """The score of one site's channel flags under ``weights`` (default: the study's): what the crawler's
    output writer calls to fill the ``score`` column of sites.csv (``run_audit(..., scorer=...)``)."""
    return partial(score_flags, weights=validate(weights) if weights is not None else default_weights())


def run(folder: AuditFolder | str | os.PathLike, weights: Mapping[str, float] | None = None, top: int = 10,
        draws: int = 1000, concentration: float = 50.0, seed: int = 0,
        overrides: str | os.PathLike | None = None) -> ScoringResult:
    """Score every site of the audit ``folder`` with ``weights`` (the study's defaults when None).

    Writes ``scores.csv``, ``top.csv`` (the ``top`` best, with ties), ``sensitivity.csv`` (``draws``
    Dirichlet perturbations of the weights, ``concentration`` x weights, seeded) and ``scoring.json``
    (the weights and the sensitivity summary), and returns them. With ``overrides`` (a file of human
    decisions, :mod:`chanaudit.core.overrides`) the channels are those after review: every table gets a column
    ``overridden`` (per site: channel values the review changed) and ``scoring.json`` the summary.
    """
    folder = AuditFolder.of(folder)
    for name, value, low in (("top", top, 1), ("draws", draws, 1)):
        if value < low:
            raise InvalidOption(f"{name} must be at least {low}, not {value}")
    if not concentration > 0:
        raise InvalidOption(f"concentration must be positive, not {concentration}")
    weights = validate(default_weights() if weights is None else weights)
    sites = folder.read_sites()
    applied = None
    if overrides is not None:
        applied = apply_to_folder(folder, overrides, "score", scorer=site_scorer(weights))
        sites = applied.sites
    scored = score_sites(sites, weights)
    winners = top_n(scored, top)
    sensitivity, stats = rank_sensitivity(sites, weights, n_draws=draws, concentration=concentration, top=top,
                                          seed=seed)
    if applied is not None:
        per_site = dict(zip(sites["site_id"], sites["overridden"], strict=True))
        sensitivity["overridden"] = sensitivity["site_id"].map(per_site).fillna(0).astype(int)
        stats = {**stats, "overrides": applied.summary()}
    result = ScoringResult(scored, winners, sensitivity, weights, stats)
    for name, table in result.tables().items():
        folder.write(name, table)
    folder.write_json(AuditFolder.SCORING, {"weights": weights, **stats})
    return result


def used_weights(folder: AuditFolder | str | os.PathLike) -> dict[str, float] | None:
    """The weights the folder's scores were computed with (``scoring.json``), or None when scoring has not run."""
    recorded = AuditFolder.of(folder).read_json(AuditFolder.SCORING).get("weights")
    return validate(recorded, source=str(AuditFolder.of(folder).file(AuditFolder.SCORING))) if recorded else None
