"""Logistic regression helpers: odds ratios with Wald intervals, as a tidy frame.

:func:`logistic` is the ordinary maximum-likelihood fit (model-based variance);
:func:`weighted_logistic` is the survey fit: weighted estimating equations with the linearised
(sandwich) variance of a one-stage with-replacement design (Binder 1983), which is what R's
``survey::svyglm(family = quasibinomial, design = svydesign(ids = ~1, weights = ~w))`` computes.

Before fitting, both check by linear programming (Konis 2007) that the maximum-likelihood estimate
exists: when a combination of the predictors separates the outcomes completely, or quasi-completely
(some ties on the boundary), an odds ratio is infinite and the fit would only report a huge number
with an interval (0, inf); :class:`SeparationError` is raised instead, naming the terms involved.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy.optimize import linprog
from scipy.stats import norm
from statsmodels.tools.sm_exceptions import PerfectSeparationError, PerfectSeparationWarning

from chanaudit.core.errors import ChanauditError

COLUMNS = ["term", "odds_ratio", "ci_low", "ci_high", "p_val", "n", "reference"]


class ModelError(ChanauditError, ValueError):
    """A model that cannot be fitted as asked: a constant outcome, a predictor with one value, no rows."""


class SeparationError(ModelError):
    """An outcome perfectly predicted by a predictor: odds ratios are infinite; collapse categories."""


def design_matrix(frame: pd.DataFrame, outcome: str, predictors: list[str],
                  extra: list[str] | None = None) -> tuple[pd.Series, pd.DataFrame, pd.DataFrame]:
    """(y, X, rows used): rows with a missing value dropped; categorical predictors become dummies of the
    levels present (first present level as reference) — a level nobody has is not a term.
    ``X.attrs["reference"]`` maps each dummy to its reference level."""
    data = frame[[outcome, *predictors, *(extra or [])]].dropna()
    if not len(data):
        raise ModelError(f"{outcome} ~ {' + '.join(predictors)}: no row has every value")
    y = pd.to_numeric(data[outcome], errors="coerce").astype(float)
    if y.isna().any() or not y.isin([0.0, 1.0]).all():
        raise ModelError(f"{outcome}: the outcome must be 0/1")
    if y.nunique() < 2:
        raise ModelError(f"{outcome}: every one of the {len(y)} rows used has the value {int(y.iloc[0])}; "
                         "nothing to model")
    x_parts, reference = [], {}
    for col in predictors:
        values = data[col]
        if isinstance(values.dtype, pd.CategoricalDtype) or not pd.api.types.is_numeric_dtype(values):
            cat = values if isinstance(values.dtype, pd.CategoricalDtype) else values.astype("category")
            cat = cat.cat.remove_unused_categories()
            if len(cat.cat.categories) < 2:
                raise ModelError(f"{col}: only the level {cat.cat.categories[0]!r} among the {len(cat)} rows "
                                 "used; drop it from the model")
            dummies = pd.get_dummies(cat.rename(col), prefix=col, drop_first=True, dtype=float)
            reference.update(dict.fromkeys(dummies.columns, str(cat.cat.categories[0])))
            x_parts.append(dummies)
        else:
            num = values.astype(float)
            if num.nunique() < 2:
                raise ModelError(f"{col}: the same value for all {len(num)} rows used; drop it from the model")
            x_parts.append(num.to_frame(col))
    x = sm.add_constant(pd.concat(x_parts, axis=1), has_constant="add")
    x.attrs["reference"] = reference
    return y, x, data


def separation(y, x: pd.DataFrame, weights=None, tol: float = 1e-7) -> list[str]:
    """Terms of a direction that separates the outcomes (completely or quasi-completely); [] when the
    maximum-likelihood estimate exists. Konis's (2007) linear program: maximise sum_i s_i x_i'b subject
    to s_i x_i'b >= 0 and -1 <= b <= 1, s_i = +1 for y = 1 and -1 for y = 0; an optimum above 0 is a
    separating direction."""
    yv = np.asarray(y, dtype=float)
    xv = np.asarray(x, dtype=float)
    if weights is not None:
        keep = np.asarray(weights, dtype=float) > 0
        yv, xv = yv[keep], xv[keep]
    scale = np.abs(xv).max(axis=0)
    scale[scale == 0] = 1.0
    xs = xv / scale
    signed = np.where(yv == 1, 1.0, -1.0)[:, None] * xs
    res = linprog(-signed.sum(axis=0), A_ub=-signed, b_ub=np.zeros(len(signed)),
                  bounds=[(-1, 1)] * xs.shape[1], method="highs")
    if res.status != 0 or -res.fun <= tol * len(signed):
        return []
    names = list(x.columns)
    return [names[i] for i in np.flatnonzero(np.abs(res.x) > 1e-6) if names[i] != "const"] or ["const"]


def _separation_error(outcome: str, predictors: list[str], terms: list[str]) -> SeparationError:
    return SeparationError(f"{outcome} ~ {' + '.join(predictors)}: the outcome is (quasi-)completely separated "
                           f"by {', '.join(terms)}; an odds ratio is infinite — collapse or drop those levels")


def logistic(frame: pd.DataFrame, outcome: str, predictors: list[str], conf: float = 0.95) -> pd.DataFrame:
    """Columns: term, odds_ratio, ci_low, ci_high, p_val, n, reference (the reference level of a dummy's
    variable, "" for other terms). Categorical predictors become dummies
    (first level present as reference); rows with a missing value are dropped (n says how many were used).
    :class:`SeparationError` on complete or quasi-complete separation, :class:`ModelError` on a constant
    outcome or predictor."""
    y, x, _ = design_matrix(frame, outcome, predictors)
    terms = separation(y, x)
    if terms:
        raise _separation_error(outcome, predictors, terms)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", PerfectSeparationWarning)
            fit = sm.Logit(y, x).fit(disp=0)
    except (PerfectSeparationError, PerfectSeparationWarning) as exc:
        raise SeparationError(f"{outcome} ~ {' + '.join(predictors)}: {exc}") from None
    except np.linalg.LinAlgError as exc:
        raise ModelError(f"{outcome} ~ {' + '.join(predictors)}: predictors are collinear ({exc})") from None
    ci = fit.conf_int(alpha=1 - conf)
    return pd.DataFrame({
        "term": fit.params.index, "odds_ratio": np.exp(fit.params.values),
        "ci_low": np.exp(ci[0].values), "ci_high": np.exp(ci[1].values), "p_val": fit.pvalues.values,
        "n": int(len(y)), "reference": [x.attrs["reference"].get(t, "") for t in fit.params.index],
    })


def weighted_logistic(frame: pd.DataFrame, outcome: str, predictors: list[str], weights: str | pd.Series,
                      conf: float = 0.95) -> pd.DataFrame:
    """Survey-weighted logistic regression with the linearised variance; the columns of :func:`logistic`
    plus ``se`` (of the log odds ratio). ``weights`` is a column of ``frame`` or a Series aligned with it.

    b solves sum_i w_i x_i (y_i - mu_i) = 0; Var(b) = A^-1 B A^-1 with A = sum_i w_i mu_i (1 - mu_i) x_i x_i'
    and B = n/(n-1) sum_i u_i u_i', u_i = w_i x_i (y_i - mu_i). Intervals and p-values are Wald (normal).
    Not GLM frequency weights: those treat a weight of 3 as three independent respondents."""
    data = frame.copy()
    data["_w"] = data[weights] if isinstance(weights, str) else pd.Series(weights, index=frame.index)
    y, x, used = design_matrix(data, outcome, predictors, extra=["_w"])
    w = used["_w"].astype(float).to_numpy()
    if (w < 0).any() or w.sum() <= 0:
        raise ModelError("weights must be non-negative and not all zero")
    terms = separation(y, x, w)
    if terms:
        raise _separation_error(outcome, predictors, terms)
    xv, yv = x.to_numpy(float), y.to_numpy(float)
    try:
        fit = sm.GLM(yv, xv, family=sm.families.Binomial(), var_weights=w).fit()
    except np.linalg.LinAlgError as exc:
        raise ModelError(f"{outcome} ~ {' + '.join(predictors)}: predictors are collinear ({exc})") from None
    beta = np.asarray(fit.params)
    mu = 1 / (1 + np.exp(-(xv @ beta)))
    bread = (xv * (w * mu * (1 - mu))[:, None]).T @ xv
    u = xv * (w * (yv - mu))[:, None]
    n = len(yv)
    meat = n / (n - 1) * (u - u.mean(axis=0)).T @ (u - u.mean(axis=0))
    try:
        inv = np.linalg.inv(bread)
    except np.linalg.LinAlgError as exc:
        raise ModelError(f"{outcome} ~ {' + '.join(predictors)}: predictors are collinear ({exc})") from None
    cov = inv @ meat @ inv
    se = np.sqrt(np.diag(cov))
    z = float(norm.ppf(1 - (1 - conf) / 2))
    return pd.DataFrame({
        "term": list(x.columns), "odds_ratio": np.exp(beta), "ci_low": np.exp(beta - z * se),
        "ci_high": np.exp(beta + z * se), "p_val": 2 * norm.sf(np.abs(beta / se)), "n": n,
        "reference": [x.attrs["reference"].get(t, "") for t in x.columns], "se": se,
    })
