"""The 2026 survey analyses: headline figures, tool type vs SLA control, logistic regression."""

from __future__ import annotations

import math

import pandas as pd
from scipy.stats import chi2_contingency, norm

from chanaudit.analysis.expr import evaluate
from chanaudit.analysis.regression import logistic
from chanaudit.analysis.studies import load_study
from chanaudit.survey.weighting import weighted_proportion

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


def tool_vs_sla(frame: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """Cross-tab of tool type by SLA control (row shares) and: chi-square of independence, and the
    odds ratio of controlling SLA, specialised platform vs email and spreadsheets, with Woolf's interval."""
    data = frame.dropna(subset=["tool_type", "sla_control"])
    controls = data["sla_control"].eq("yes").map({True: "controls_sla", False: "does_not"})
    table = pd.crosstab(data["tool_type"], controls)
    chi2, p, dof, _ = chi2_contingency(table.values, correction=False)
    shares = table.div(table.sum(axis=1), axis=0).reset_index()
    shares["n"] = table.sum(axis=1).values
    a = table.loc["specialised_platform", "controls_sla"] if "specialised_platform" in table.index else 0
    b = table.loc["specialised_platform", "does_not"] if "specialised_platform" in table.index else 0
    c = table.loc["email_spreadsheets", "controls_sla"] if "email_spreadsheets" in table.index else 0
    d = table.loc["email_spreadsheets", "does_not"] if "email_spreadsheets" in table.index else 0
    if min(a, b, c, d) == 0:
        odds, low, high = math.nan, math.nan, math.nan
    else:
        odds = (a * d) / (b * c)
        se = math.sqrt(1 / a + 1 / b + 1 / c + 1 / d)
        z = norm.ppf(0.975)
        low, high = math.exp(math.log(odds) - z * se), math.exp(math.log(odds) + z * se)
    return shares, {"chi2": chi2, "dof": dof, "p_val": p, "n": int(table.values.sum()),
                    "odds_ratio": odds, "ci_low": low, "ci_high": high}


def sla_regression(joined: pd.DataFrame) -> pd.DataFrame:
    """Logistic regression: SLA control on tool type, company size and (when joined) the site's channel score."""
    data = joined.copy()
    data["controls_sla"] = data["sla_control"].eq("yes").astype(int)
    predictors = ["tool_type", "company_size"]
    if "score" in data and pd.to_numeric(data["score"], errors="coerce").notna().sum() > 20:
        data["score"] = pd.to_numeric(data["score"], errors="coerce")
        predictors.append("score")
    data["tool_type"] = pd.Categorical(data["tool_type"], categories=[
        "email_spreadsheets", "crm", "specialised_platform", "other", "none"])
    data["company_size"] = pd.Categorical(data["company_size"], categories=["1-10", "11-50", "51-250", "250+"])
    return logistic(data, "controls_sla", predictors)
