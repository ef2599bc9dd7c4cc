"""Logistic regression helpers: odds ratios with Wald intervals, as a tidy frame."""

from __future__ import annotations

import numpy as np
import pandas as pd
import statsmodels.api as sm
from statsmodels.tools.sm_exceptions import PerfectSeparationError, PerfectSeparationWarning

from chanaudit.core.errors import ChanauditError


class SeparationError(ChanauditError, ValueError):
    """An outcome perfectly predicted by a predictor: odds ratios are infinite; collapse categories."""


def logistic(frame: pd.DataFrame, outcome: str, predictors: list[str], conf: float = 0.95) -> pd.DataFrame:
    """Columns: term, odds_ratio, ci_low, ci_high, p_val, n. Categorical predictors become dummies
    (first level as reference); rows with a missing value are dropped (n says how many were used)."""
    import warnings

    data = frame[[outcome, *predictors]].dropna()
    y = pd.to_numeric(data[outcome], errors="coerce").astype(float)
    x = pd.get_dummies(data[predictors], drop_first=True, dtype=float)
    x = sm.add_constant(x, has_constant="add")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", PerfectSeparationWarning)
            fit = sm.Logit(y, x).fit(disp=0)
    except (PerfectSeparationError, PerfectSeparationWarning, np.linalg.LinAlgError) as exc:
        raise SeparationError(f"{outcome} ~ {' + '.join(predictors)}: {exc}") from None
    ci = fit.conf_int(alpha=1 - conf)
    return pd.DataFrame({
        "term": fit.params.index, "odds_ratio": np.exp(fit.params.values),
        "ci_low": np.exp(ci[0].values), "ci_high": np.exp(ci[1].values), "p_val": fit.pvalues.values,
        "n": int(len(y)),
    })
