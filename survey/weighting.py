"""Weights to known population margins: post-stratification and raking, with design effect.

Kish's design effect of unequal weights: deff = n * sum(w^2) / (sum w)^2 and
effective n = (sum w)^2 / sum(w^2). Weighted proportions get a Wilson interval
on the effective n (a common approximation; documented in the output).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from chanaudit.analysis.intervals import wilson
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
    levels = frame[var].astype(str)
    sample = levels.value_counts(normalize=True)
    weights = levels.map(lambda lvl: target[lvl] / sample[lvl]).astype(float)
    return weights / weights.mean()


def rake(frame: pd.DataFrame, margins: Mapping[str, Mapping[str, float]], max_iter: int = 100,
         tol: float = 1e-10) -> pd.Series:
    """Iterative proportional fitting to several margins at once (mean weight 1)."""
    for var, target in margins.items():
        _check(frame, var, target)
    w = pd.Series(1.0, index=frame.index)
    for _ in range(max_iter):
        change = 0.0
        for var, target in margins.items():
            levels = frame[var].astype(str)
            shares = w.groupby(levels).sum() / w.sum()
            factor = levels.map(lambda lvl, s=shares, t=target: t[lvl] / s[lvl])
            change = max(change, float((factor - 1).abs().max()))
            w = w * factor
        if change < tol:
            return w / w.mean()
    raise WeightingError(f"raking did not converge in {max_iter} iterations (last change {change:.2e})")


def design_effect(weights: pd.Series) -> tuple[float, float]:
    """(deff, effective n) of Kish."""
    w = np.asarray(weights, float)
    n_eff = w.sum() ** 2 / (w ** 2).sum()
    return len(w) / n_eff, n_eff


def weighted_proportion(values: pd.Series, weights: pd.Series | None = None, conf: float = 0.95) -> dict:
    """estimate, ci_low, ci_high, n, n_eff, deff for a 0/1 series (missing values dropped)."""
    mask = values.notna()
    v = values[mask].astype(float)
    w = pd.Series(1.0, index=v.index) if weights is None else weights[mask].astype(float)
    est = float((v * w).sum() / w.sum()) if len(v) else float("nan")
    deff, n_eff = design_effect(w) if len(v) else (float("nan"), 0.0)
    low, high = wilson(round(est * n_eff), round(n_eff), conf) if n_eff >= 1 else (float("nan"),) * 2
    return {"estimate": est, "ci_low": low, "ci_high": high, "n": int(len(v)), "n_eff": n_eff, "deff": deff}
