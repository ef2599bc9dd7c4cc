"""Weights to known population margins: post-stratification and raking, with design effect.

Kish's design effect of unequal weights: deff = n * sum(w^2) / (sum w)^2 and
effective n = (sum w)^2 / sum(w^2). Weighted proportions get a Wilson interval
on the effective n (a common approximation; documented in the output), computed with
the unrounded share and n_eff so that the estimate is always inside its interval
(:func:`chanaudit.analysis.design.weighted_share`).

A respondent with no value of a weighting variable is left out of that variable's
adjustment and keeps the weight the other margins give it (as the ANES raking method,
Pasek's ``anesrake``, does); the margins are then matched among those who answered.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from chanaudit.analysis.design import kish, weighted_share
from chanaudit.core.errors import ChanauditError


class WeightingError(ChanauditError, ValueError):
    """Weighting impossible: an empty cell, an unknown level, margins that do not sum to 1, no convergence."""


def _check(frame: pd.DataFrame, var: str, target: Mapping[str, float]) -> None:
    if var not in frame:
        raise WeightingError(f"no variable {var!r} in the survey")
    total = sum(target.values())
    if abs(total - 1) > 1e-6:
        raise WeightingError(f"margins of {var} sum to {total:g}, not 1")
    present = set(frame[var].dropna().astype(str))
    empty = [lvl for lvl, share in target.items() if share > 0 and lvl not in present]
    if empty:
        raise WeightingError(f"{var}: no respondent in {', '.join(empty)}; collapse levels before weighting")
    unknown = present - set(target)
    if unknown:
        raise WeightingError(f"{var}: levels {', '.join(sorted(unknown))} have no population margin")


def poststratify(frame: pd.DataFrame, var: str, target: Mapping[str, float]) -> pd.Series:
    """Weights making the weighted shares of ``var`` equal ``target`` (mean weight 1)."""
    _check(frame, var, target)
    weights = pd.Series(1.0, index=frame.index) * _factor(_levels(frame, var), pd.Series(1.0, index=frame.index),
                                                          target)
    return weights / weights.mean()


def _levels(frame: pd.DataFrame, var: str) -> pd.Series:
    """The levels of ``var`` as text, missing values kept missing (``astype(str)`` would make them "nan")."""
    return frame[var].astype("string").astype(object).where(frame[var].notna(), None)


def _factor(levels: pd.Series, w: pd.Series, target: Mapping[str, float]) -> pd.Series:
    """Per respondent: target share / current weighted share of the respondent's level, among the
    respondents who have a level; 1 for those who have none."""
    known = levels.notna()
    shares = w[known].groupby(levels[known]).sum() / w[known].sum()
    factor = pd.Series(1.0, index=levels.index)
    factor[known] = [target[lvl] / shares[lvl] for lvl in levels[known]]
    return factor


def rake(frame: pd.DataFrame, margins: Mapping[str, Mapping[str, float]], max_iter: int = 100,
         tol: float = 1e-10) -> pd.Series:
    """Iterative proportional fitting to several margins at once (mean weight 1)."""
    for var, target in margins.items():
        _check(frame, var, target)
    levels = {var: _levels(frame, var) for var in margins}
    w = pd.Series(1.0, index=frame.index)
    for _ in range(max_iter):
        change = 0.0
        for var, target in margins.items():
            factor = _factor(levels[var], w, target)
            change = max(change, float((factor - 1).abs().max()))
            w = w * factor
        if change < tol:
            return w / w.mean()
    raise WeightingError(f"raking did not converge in {max_iter} iterations (last change {change:.2e})")


def design_effect(weights: pd.Series) -> tuple[float, float]:
    """(deff, effective n) of Kish."""
    return kish(weights)


def weighted_proportion(values: pd.Series, weights: pd.Series | None = None, conf: float = 0.95) -> dict:
    """estimate, ci_low, ci_high, n, n_eff, deff for a 0/1 series (missing values dropped): Wilson on the
    unrounded (estimate, n_eff), so the estimate is always inside its interval."""
    res = weighted_share(values, None if weights is None else weights.reindex(values.index), conf)
    return {key: res[key] for key in ("estimate", "ci_low", "ci_high", "n", "n_eff", "deff")}
