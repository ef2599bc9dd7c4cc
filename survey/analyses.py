"""The 2026 survey analyses: headline figures, tool type vs SLA control, logistic regression."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy.stats import chi2_contingency, norm

from chanaudit.analysis.design import rao_scott
from chanaudit.analysis.expr import evaluate
from chanaudit.analysis.regression import SeparationError, logistic, weighted_logistic
from chanaudit.analysis.studies import load_study
from chanaudit.survey.weighting import weighted_proportion

TOOL_TYPES = ["email_spreadsheets", "crm", "specialised_platform", "other", "none"]
COMPANY_SIZES = ["1-10", "11-50", "51-250", "250+"]

STUDY = "okdesk-2026-survey"


def headline_figures(frame: pd.DataFrame, weights: pd.Series | None = None, conf: float = 0.95) -> pd.DataFrame:
    """figure_id, label_en, label_ru, published_text, k, n, estimate, ci_low, ci_high, n_eff, deff (weighted
    when ``weights`` is given; the interval is Wilson on the effective n)."""
    study = load_study(STUDY)
    rows = []
    for fig in study.figures:
        if fig.direction is not None:  # a comparison of two groups, not a share: reproduce() reports it
            continue
        base = evaluate(fig.where, frame).fillna(False).astype(bool) if fig.where else pd.Series(True, index=frame.index)
        values = evaluate(fig.variants[0][3], frame)[base]
        w = weights[base.values] if weights is not None else None
        res = weighted_proportion(values.astype("Float64"), w, conf)
        rows.append({"figure_id": fig.id, "label_en": fig.label_en, "label_ru": fig.label_ru,
                     "published": fig.published, "published_text": fig.published_text,
                     "published_text_ru": fig.published_text_ru, "bound": fig.bound, "rounding": fig.rounding,
                     "k": int(values.dropna().sum()), **res})
    return pd.DataFrame(rows)


def tool_vs_sla(frame: pd.DataFrame, weights=None, conf: float = 0.95) -> tuple[pd.DataFrame, dict]:
    """Cross-tab of tool type by SLA control (row shares) and: a test of independence, and the odds ratio
    of controlling SLA, specialised platform vs email and spreadsheets.

    Without ``weights`` (unweighted): Pearson's chi-square and Woolf's interval for the odds ratio.
    With ``weights`` (aligned with ``frame``): the shares are weighted, the test is Rao–Scott's
    (first-order ``chi2`` on ``dof``, and the second-order ``f`` on ``ndf``, ``ddf`` with ``p_val_f``), and
    the odds ratio comes from a survey-weighted logistic regression on the two groups with the linearised
    interval (:func:`analysis.regression.weighted_logistic`). ``weighted`` says which; every value of the
    returned dict is a number (or bool)."""
    keep = frame["tool_type"].notna() & frame["sla_control"].notna()
    data = frame[keep]
    controls = data["sla_control"].eq("yes").map({True: "controls_sla", False: "does_not"})
    z = float(norm.ppf(1 - (1 - conf) / 2))
    if data["tool_type"].nunique() < 2 or controls.nunique() < 2:  # no test of independence to make
        table = pd.crosstab(data["tool_type"], controls)
        shares = table.div(table.sum(axis=1), axis=0).reset_index() if len(table) else \
            pd.DataFrame(columns=["tool_type", "controls_sla", "does_not"])
        shares["n"] = table.sum(axis=1).values if len(table) else []
        return shares, {"chi2": math.nan, "dof": 0, "p_val": math.nan, "n": int(keep.sum()), "odds_ratio": math.nan,
                        "ci_low": math.nan, "ci_high": math.nan, "weighted": weights is not None}
    if weights is None:
        table = pd.crosstab(data["tool_type"], controls)
        chi2, p, dof, _ = chi2_contingency(table.values, correction=False)
        shares = table.div(table.sum(axis=1), axis=0).reset_index()
        shares["n"] = table.sum(axis=1).values
        cells = [table.loc[g, c] if g in table.index and c in table.columns else 0
                 for g in ("specialised_platform", "email_spreadsheets") for c in ("controls_sla", "does_not")]
        a, b, c, d = cells
        if min(a, b, c, d) == 0:
            odds, low, high = math.nan, math.nan, math.nan
        else:
            odds = (a * d) / (b * c)
            se = math.sqrt(1 / a + 1 / b + 1 / c + 1 / d)
            low, high = math.exp(math.log(odds) - z * se), math.exp(math.log(odds) + z * se)
        return shares, {"chi2": chi2, "dof": dof, "p_val": p, "n": int(table.values.sum()),
                        "odds_ratio": odds, "ci_low": low, "ci_high": high, "weighted": False}
    w = pd.Series(np.asarray(weights, dtype=float), index=frame.index)[keep]
    test = rao_scott(data["tool_type"], controls, w)
    table = test["table"]
    shares = table.div(table.sum(axis=1), axis=0).rename_axis("tool_type").reset_index()
    shares["n"] = data.groupby("tool_type").size().reindex(table.index).to_numpy()
    shares["n_eff"] = [_n_eff(w[data["tool_type"] == g]) for g in table.index]
    two = data[data["tool_type"].isin(["specialised_platform", "email_spreadsheets"])].copy()
    two["controls_sla"] = two["sla_control"].eq("yes").astype(int)
    two["platform"] = two["tool_type"].eq("specialised_platform").astype(int)
    try:
        fit = weighted_logistic(two.assign(_w=w[two.index]), "controls_sla", ["platform"], "_w", conf)
        row = fit.set_index("term").loc["platform"]
        odds, low, high = float(row["odds_ratio"]), float(row["ci_low"]), float(row["ci_high"])
    except (SeparationError, ValueError, KeyError):
        odds, low, high = math.nan, math.nan, math.nan
    return shares, {"chi2": test["statistic"], "dof": test["dof"], "p_val": test["p_val"], "n": test["n"],
                    "odds_ratio": odds, "ci_low": low, "ci_high": high, "weighted": True,
                    "f": test["f"], "ndf": test["ndf"], "ddf": test["ddf"], "p_val_f": test["p_val_f"],
                    "pearson": test["pearson"], "mean_deff": test["mean_deff"]}


def _n_eff(w: pd.Series) -> float:
    return float(w.sum() ** 2 / (w ** 2).sum()) if len(w) and (w ** 2).sum() > 0 else 0.0


def sla_regression(joined: pd.DataFrame, weights=None, conf: float = 0.95) -> pd.DataFrame:
    """Logistic regression: SLA control on tool type, company size and (when joined) the site's channel score.

    Levels nobody has are left out (the first level present is the reference); with ``weights``
    (aligned with ``joined`` by position) the fit is survey-weighted with the linearised variance."""
    data = joined.copy()
    data["controls_sla"] = data["sla_control"].eq("yes").astype(int).where(data["sla_control"].notna())
    predictors = ["tool_type", "company_size"]
    if "score" in data and pd.to_numeric(data["score"], errors="coerce").notna().sum() > 20:
        data["score"] = pd.to_numeric(data["score"], errors="coerce")
        predictors.append("score")
    data["tool_type"] = pd.Categorical(data["tool_type"], categories=TOOL_TYPES)
    data["company_size"] = pd.Categorical(data["company_size"], categories=COMPANY_SIZES)
    if weights is None:
        return logistic(data, "controls_sla", predictors, conf)
    data["_w"] = np.asarray(weights, dtype=float)
    return weighted_logistic(data, "controls_sla", predictors, "_w", conf)
