"""Survey estimates by design: a weighted share with an interval that holds it, and Rao–Scott tests.

The design is the one our surveys have: each respondent is its own sampling unit, drawn with
replacement, with a weight (from post-stratification or raking); no strata, no clusters. Under it
(Wolter 2007, ch. 6; Lumley 2010, ch. 2):

* Kish's (1965) design effect of unequal weights: deff = n * sum(w^2) / (sum w)^2 and the effective
  sample size n_eff = n / deff = (sum w)^2 / sum(w^2);
* a weighted share p = sum(w y) / sum(w) gets a Wilson interval on the effective sample size, with
  p and n_eff used as they are (unrounded): the Wilson interval always contains its estimate, so a
  weighted figure is never shown outside its own interval;
* the linearised (Taylor) covariance of weighted cell shares, V = n/(n-1) * sum_i z_i z_i' with
  z_i = w_i (y_i - p) / sum(w), is what R's ``survey`` package computes for
  ``svydesign(ids = ~1, weights = ~w)``;
* Rao & Scott's (1981, 1984) corrections of Pearson's X^2 for a weighted r x c table: the first-order
  X^2 / mean(delta) on (r-1)(c-1) dof, and the second-order F = X^2 / sum(delta) on (d0, d0 (n-1))
  dof with d0 = (sum delta)^2 / sum(delta^2), the delta being the eigenvalues of the generalised design
  effect matrix (as R's ``survey::svychisq``, statistic "Chisq" and "F").
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy.stats import chi2
from scipy.stats import f as f_dist

from chanaudit.analysis.intervals import wilson
from chanaudit.core.errors import ChanauditError


class DesignError(ChanauditError, ValueError):
    """Weights that cannot be used (negative, missing, all zero) or a table too small to test."""


def _weights(weights, index) -> pd.Series:
    if weights is None:
        return pd.Series(1.0, index=index)
    w = pd.Series(np.asarray(weights, dtype=float), index=index) if not isinstance(weights, pd.Series) \
        else weights.astype(float)
    if w.isna().any() or (w < 0).any() or not np.isfinite(w).all():
        raise DesignError("weights must be finite and non-negative, with no missing value")
    return w


def kish(weights) -> tuple[float, float]:
    """(deff, n_eff) of Kish: deff = n sum(w^2) / (sum w)^2, n_eff = (sum w)^2 / sum(w^2)."""
    w = np.asarray(weights, dtype=float)
    if not len(w) or w.sum() <= 0:
        return math.nan, 0.0
    n_eff = w.sum() ** 2 / (w ** 2).sum()
    return float(len(w) / n_eff), float(n_eff)


def weighted_share(values, weights=None, conf: float = 0.95) -> dict:
    """A weighted share of a 0/1 series (missing values dropped, with their weights):

    ``estimate, ci_low, ci_high, n, n_eff, deff, k`` — ``k`` is the weighted count scaled to n_eff
    (estimate * n_eff, unrounded), ``n`` the respondents used. Wilson interval on (estimate, n_eff);
    without weights this is the ordinary Wilson interval on k/n."""
    v = pd.Series(values)
    v = pd.to_numeric(v.astype("object").where(v.notna(), None), errors="coerce")
    w = _weights(weights, v.index) if weights is not None else pd.Series(1.0, index=v.index)
    mask = v.notna()
    v, w = v[mask].astype(float), w.reindex(v.index)[mask]
    if not len(v) or w.sum() <= 0:
        return {"estimate": math.nan, "ci_low": math.nan, "ci_high": math.nan, "n": int(len(v)),
                "n_eff": 0.0, "deff": math.nan, "k": 0.0}
    est = float((v * w).sum() / w.sum())
    deff, n_eff = kish(w)
    low, high = _wilson_continuous(est, n_eff, conf)
    return {"estimate": est, "ci_low": low, "ci_high": high, "n": int(len(v)), "n_eff": n_eff, "deff": deff,
            "k": est * n_eff}


def _wilson_continuous(p: float, n: float, conf: float) -> tuple[float, float]:
    """Wilson's interval for a share p on a (possibly fractional) sample size n; equals
    :func:`intervals.wilson` at whole counts."""
    if n <= 0:
        return math.nan, math.nan
    if float(n).is_integer() and float(p * n).is_integer():
        return wilson(int(round(p * n)), int(n), conf)
    from scipy.stats import norm

    z = float(norm.ppf(1 - (1 - conf) / 2))
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, min(p, centre - half)), min(1.0, max(p, centre + half))


def linearised_cov(indicators: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(p, V): weighted shares of the columns of an (n x m) 0/1 array and their linearised covariance
    V = n/(n-1) sum_i z_i z_i', z_i = w_i (y_i - p) / sum(w) (one-stage, with replacement)."""
    y = np.asarray(indicators, dtype=float)
    w = np.asarray(weights, dtype=float)
    n = len(w)
    total = w.sum()
    p = w @ y / total
    z = w[:, None] * (y - p) / total
    return p, n / (n - 1) * z.T @ z


def rao_scott(rows, cols, weights=None) -> dict:
    """Rao–Scott adjusted chi-square test of independence for a weighted r x c table.

    Returns ``statistic`` (first-order X^2 / mean(delta)), ``dof``, ``p_val``; ``f`` (second-order
    X^2 / sum(delta)), ``ndf``, ``ddf``, ``p_val_f``; ``pearson`` (X^2 of the weighted table scaled to
    n, before correction), ``mean_deff`` (mean of the delta), ``n`` and ``table`` (weighted counts).
    Rows with a missing row or column value, or a zero weight, are dropped."""
    r = pd.Series(rows).reset_index(drop=True)
    c = pd.Series(cols).reset_index(drop=True)
    w = _weights(None if weights is None else np.asarray(weights, dtype=float), r.index)
    keep = r.notna() & c.notna() & (w > 0)
    r, c, w = r[keep], c[keep], w[keep]
    r_levels = sorted(r.unique(), key=str)
    c_levels = sorted(c.unique(), key=str)
    nr, nc, n = len(r_levels), len(c_levels), int(keep.sum())
    if nr < 2 or nc < 2 or n < 3:
        raise DesignError(f"a {nr} x {nc} table of {n} respondents: nothing to test")
    # cells in R's expand.grid order (the row index runs fastest)
    cell = r.map({v: i for i, v in enumerate(r_levels)}).to_numpy() \
        + nr * c.map({v: j for j, v in enumerate(c_levels)}).to_numpy()
    y = np.zeros((n, nr * nc))
    y[np.arange(n), cell] = 1.0
    p, v = linearised_cov(y, w.to_numpy())
    # Pearson's X^2 of the weighted table scaled to n
    table = p.reshape(nc, nr).T * n
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / n
    with np.errstate(divide="ignore", invalid="ignore"):
        pearson = float(np.nansum(np.where(expected > 0, (table - expected) ** 2 / expected, 0.0)))
    # interaction contrasts: the part of the saturated model's interaction columns not in rows + cols
    ri = np.tile(np.arange(nr), nc)
    ci = np.repeat(np.arange(nc), nr)
    x1 = np.column_stack([np.ones(nr * nc)] + [(ri == i).astype(float) for i in range(1, nr)]
                         + [(ci == j).astype(float) for j in range(1, nc)])
    x2 = np.column_stack([((ri == i) & (ci == j)).astype(float) for j in range(1, nc) for i in range(1, nr)])
    q, _ = np.linalg.qr(x1)
    cmat = x2 - q @ (q.T @ x2)
    inv_d = np.where(p > 0, 1 / np.where(p > 0, p, 1), 0.0)
    denom = cmat.T @ (inv_d[:, None] * cmat) / n
    numr = cmat.T @ (inv_d[:, None] * v * inv_d[None, :]) @ cmat
    delta = np.linalg.solve(denom, numr)
    trace = float(np.trace(delta))
    dof = (nr - 1) * (nc - 1)
    d0 = trace ** 2 / float(np.trace(delta @ delta))
    first = pearson / (trace / dof)
    second = pearson / trace
    return {"statistic": first, "dof": dof, "p_val": float(chi2.sf(first, dof)),
            "f": second, "ndf": d0, "ddf": d0 * (n - 1), "p_val_f": float(f_dist.sf(second, d0, d0 * (n - 1))),
            "pearson": pearson, "mean_deff": trace / dof, "n": n,
            "table": pd.DataFrame(table * w.sum() / n, index=r_levels, columns=c_levels)}
