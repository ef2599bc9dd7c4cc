"""Published vs reproduced: every figure of a study spec computed on our data, with an interval.

A published value with rounding r stands for the interval [p - r/2, p + r/2];
a bound (">" a third) for a half-line. ``inside`` says whether the reproduced
confidence interval meets it; the verdict says which way it misses. The verdict
codes (``consistent``, ``lower``, ``higher``, ``no_published_value``,
``not_computable``) are stable; ``verdict_label_en`` / ``verdict_label_ru`` say
the same in words.
"""

from __future__ import annotations

import math

import pandas as pd

from chanaudit.analysis.expr import evaluate
from chanaudit.analysis.intervals import proportion_ci
from chanaudit.analysis.prevalence import ok_sites
from chanaudit.analysis.studies import Study
from chanaudit.core.contract import CHANNELS

COLUMNS = ["figure_id", "label_en", "label_ru", "definition", "variant", "variant_label_en", "variant_label_ru",
           "published", "published_text", "published_text_ru", "rounding", "bound", "k", "n", "reproduced", "ci_low", "ci_high",
           "inside", "verdict", "verdict_label_en", "verdict_label_ru"]

#: What each verdict code means, for people: the codes in ``verdict`` are the contract, these are for display.
VERDICT_LABELS: dict[str, dict[str, str]] = {
    "consistent": {"en": "consistent", "ru": "согласуется"},
    "lower": {"en": "lower than published", "ru": "ниже опубликованного"},
    "higher": {"en": "higher than published", "ru": "выше опубликованного"},
    "no_published_value": {"en": "no published value", "ru": "нет опубликованного значения"},
    "not_computable": {"en": "not computable (no data)", "ru": "не вычисляется (нет данных)"},
}


def verdict_label(verdict, lang: str = "en") -> str:
    """The label of a verdict code in ``lang`` (ru or en); an unknown code is returned as is."""
    code = "" if verdict is None or verdict != verdict else str(verdict)
    return VERDICT_LABELS.get(code, {}).get(lang, code)


def prepare(frame: pd.DataFrame, study: Study) -> pd.DataFrame:
    if study.data != "audit":
        return frame
    out = ok_sites(frame)
    if "channels" not in out or out["channels"].isna().all():
        out["channels"] = out[list(CHANNELS)].sum(axis=1)
    else:
        out["channels"] = pd.to_numeric(out["channels"], errors="coerce")
    return out


def published_range(published: float, rounding: float | None, bound: str) -> tuple[float, float]:
    if bound in (">", ">="):
        return published, 1.0
    if bound in ("<", "<="):
        return 0.0, published
    half = (rounding or 0) / 2
    return published - half, published + half


def reproduce(frame: pd.DataFrame, study: Study, method: str = "wilson", conf: float = 0.95) -> pd.DataFrame:
    data = prepare(frame, study)
    rows = []
    for fig in study.figures:
        base = evaluate(fig.where, data) if fig.where else pd.Series(True, index=data.index, dtype="boolean")
        for vid, ven, vru, expr in fig.variants:
            values = evaluate(expr, data)[base.fillna(False).astype(bool)].dropna()
            k, n = int(values.sum()), int(values.size)
            low, high = proportion_ci(k, n, method, conf)
            est = k / n if n else math.nan
            row = {"figure_id": fig.id, "label_en": fig.label_en, "label_ru": fig.label_ru,
                   "definition": expr + (f" | where {fig.where}" if fig.where else ""), "variant": vid,
                   "variant_label_en": ven, "variant_label_ru": vru, "published": fig.published,
                   "published_text": fig.published_text, "published_text_ru": fig.published_text_ru, "rounding": fig.rounding, "bound": fig.bound,
                   "k": k, "n": n, "reproduced": est, "ci_low": low, "ci_high": high}
            if not n:
                row.update(inside=pd.NA, verdict="not_computable")
            elif fig.published is None:
                row.update(inside=pd.NA, verdict="no_published_value")
            else:
                p_low, p_high = published_range(float(fig.published), fig.rounding, fig.bound)
                if high < p_low:
                    row.update(inside=False, verdict="lower")
                elif low > p_high:
                    row.update(inside=False, verdict="higher")
                else:
                    row.update(inside=True, verdict="consistent")
            row.update(verdict_label_en=verdict_label(row["verdict"], "en"),
                       verdict_label_ru=verdict_label(row["verdict"], "ru"))
            rows.append(row)
    return pd.DataFrame(rows, columns=COLUMNS)
