"""Published vs reproduced: every figure of a study spec computed on our data, compared with the published one.

Two comparisons, and the columns say which one made the verdict (``comparison``):

``two_sample`` (the study gives its n or an n range)
    The published figure is an estimate from its own sample: ours minus published with Newcombe's hybrid
    score interval (``diff``, ``diff_ci_low``, ``diff_ci_high``) and the score test (``p_val``), see
    :mod:`chanaudit.analysis.published`. ``verdict``: ``consistent`` when the interval contains 0, else
    ``lower`` / ``higher``. ``p_holm``: Holm's adjustment over every row of the study with a ``p_val``
    (each variant of a figure counts as its own hypothesis: conservative). ``equivalent`` (with an
    ``equivalence_margin``): the difference interval lies inside +- margin.
``one_sample`` (n unknown)
    The published value is treated as exact up to its rounding: a value published as p at rounding r is
    the interval [p - r/2, p + r/2]; ``inside`` says whether our confidence interval meets it. This rule
    is kept in ``verdict_one_sample`` for every row; it flags about 12% of agreeing samples of 300 as
    different (docs/statistics.md), which is why it decides only when n is unknown.
``direction`` (a figure that says group A has the outcome more often than group B)
    ``k``/``n`` are group A's, ``k_b``/``n_b`` group B's; ``diff`` = A - B with Newcombe's interval;
    ``verdict``: ``agrees`` (interval above 0), ``disagrees`` (below 0) or ``inconclusive``.

The verdict codes are stable; ``verdict_label_en`` / ``verdict_label_ru`` say the same in words.
"""

from __future__ import annotations

import math

import pandas as pd

from chanaudit.analysis.design import weighted_share
from chanaudit.analysis.evidence_fields import evidence_fields
from chanaudit.analysis.expr import ExpressionError, evaluate, names
from chanaudit.analysis.intervals import proportion_ci
from chanaudit.analysis.prevalence import ok_sites
from chanaudit.analysis.published import (
    Share,
    direction_verdict,
    equivalent,
    holm,
    interval_verdict,
    published_sample,
    two_groups,
    versus_published,
)
from chanaudit.analysis.rounding import share_range
from chanaudit.analysis.studies import EVIDENCE_FIELDS, Figure, Study
from chanaudit.core.contract import CHANNELS
from chanaudit.core.errors import ChanauditError

COLUMNS = ["figure_id", "label_en", "label_ru", "definition", "variant", "variant_label_en", "variant_label_ru",
           "published", "published_text", "published_text_ru", "rounding", "bound", "k", "n", "reproduced", "ci_low", "ci_high",
           "inside", "verdict", "verdict_label_en", "verdict_label_ru",
           # two-sample comparison (issue 14): stable snake_case names, added after the old ones
           "comparison", "published_n", "published_n_range", "published_k", "diff", "diff_ci_low", "diff_ci_high",
           "p_val", "p_holm", "equivalence_margin", "equivalent", "verdict_one_sample",
           "k_b", "n_b", "reproduced_b", "ci_low_b", "ci_high_b", "note",
           # weighted reproduction: the shares, intervals and comparisons use the weights (Kish effective n)
           "weighted", "n_eff", "deff"]

#: What each verdict code means, for people: the codes in ``verdict`` are the contract, these are for display.
VERDICT_LABELS: dict[str, dict[str, str]] = {
    "consistent": {"en": "consistent", "ru": "согласуется"},
    "lower": {"en": "lower than published", "ru": "ниже опубликованного"},
    "higher": {"en": "higher than published", "ru": "выше опубликованного"},
    "no_published_value": {"en": "no published value", "ru": "нет опубликованного значения"},
    "not_computable": {"en": "not computable (no data)", "ru": "не вычисляется (нет данных)"},
    "needs_evidence": {"en": "needs the audit's evidence table", "ru": "нужна таблица находок аудита"},
    "agrees": {"en": "agrees with the direction", "ru": "подтверждает направление"},
    "disagrees": {"en": "opposite direction", "ru": "обратное направление"},
    "inconclusive": {"en": "direction not shown", "ru": "направление не подтверждено"},
}

#: The standard caveat shown beside every published-vs-reproduced table.
CAVEAT: dict[str, str] = {
    "en": "Intervals assume a simple random sample of sites (or respondents) and ignore detector error; "
          "neither sample here is random.",
    "ru": "Интервалы предполагают простую случайную выборку сайтов (или респондентов) и не учитывают ошибки "
          "детекторов; ни одна из выборок здесь не случайна.",
}


class InvalidMargin(ChanauditError, ValueError):
    """An equivalence margin that is not a share between 0 and 1."""


class InvalidWeights(ChanauditError, ValueError):
    """Weights that are not aligned with the rows of the table they weigh."""


def verdict_label(verdict, lang: str = "en") -> str:
    """The label of a verdict code in ``lang`` (ru or en); an unknown code is returned as is."""
    code = "" if verdict is None or verdict != verdict else str(verdict)
    return VERDICT_LABELS.get(code, {}).get(lang, code)


def fmt_diff(diff, low, high, lang: str = "en") -> str:
    """A difference of shares in percentage points with its interval: "+2.3 pp (-4.1 to +8.6)" /
    «+2,3 п.п. (от −4,1 до +8,6)»; empty when there is none."""
    values = [diff, low, high]
    if any(v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)) for v in values):
        return ""
    d, lo, hi = (f"{100 * float(v):+.1f}".replace("-", "−") for v in values)
    if lang == "ru":
        return f"{d} п.п. (от {lo} до {hi})".replace(".", ",").replace("п,п,", "п.п.")
    return f"{d} pp ({lo} to {hi})"


def display_rows(result: pd.DataFrame, lang: str = "en") -> list[tuple[str, ...]]:
    """The table as people read it, one tuple per row: figure, published, reproduced (CI), k/n, difference
    (CI), Holm p, verdict (with its note; "≈" when equivalent). Used by the CLI; shares in ``lang``'s style."""
    from chanaudit.core.numbers import fmt_ci, fmt_p, fmt_pct, is_missing

    rows = []
    for _, r in result.iterrows():
        name = str(r[f"label_{lang}"]) + (f" — {r[f'variant_label_{lang}']}" if r["variant"] else "")
        published = (r["published_text_ru"] if lang == "ru" else "") or r["published_text"] or "—"
        counted = not is_missing(r["n"]) and r["n"] > 0
        shown = fmt_pct(r["reproduced"], lang) + (f" ({fmt_ci(r['ci_low'], r['ci_high'], lang)})" if counted else "")
        k_of_n = f"{r['k']}/{r['n']}" if not is_missing(r["n"]) else "—"
        if r["comparison"] == "direction" and not is_missing(r["n_b"]):
            shown += f" vs {fmt_pct(r['reproduced_b'], lang)}"
            k_of_n += f" vs {r['k_b']}/{r['n_b']}"
        verdict = str(r[f"verdict_label_{lang}"]) + (f" ({r['note']})" if not is_missing(r["note"]) else "")
        if not is_missing(r["equivalent"]) and bool(r["equivalent"]):
            verdict += " ≈"
        rows.append((name, str(published), shown, k_of_n, fmt_diff(r["diff"], r["diff_ci_low"], r["diff_ci_high"], lang),
                     fmt_p(r["p_holm"], lang), verdict))
    return rows


def sample_caveat(study: Study, lang: str = "en", margin: float | None = None) -> list[str]:
    """Lines to print under the table: how the study's sample was found, the published n, the standard caveat
    (and what "≈" means, given an equivalence margin)."""
    lines = []
    sample = (study.sample_ru if lang == "ru" else "") or study.sample
    if sample:
        lines.append(("Выборка исследования: " if lang == "ru" else "Study sample: ") + sample.strip())
    if study.n_range:
        lo, hi = study.n_range
        shown = str(lo) if lo == hi else f"{lo}–{hi}"
        if lang == "ru":
            lines.append(f"Опубликованный n: {shown}" + ("; для сравнения взят наименьший возможный n (самый "
                                                           "широкий интервал)" if lo != hi else ""))
        else:
            lines.append(f"Published n: {shown}" + ("; the comparison uses the smallest n the figure allows "
                                                     "(the widest interval)" if lo != hi else ""))
    else:
        lines.append("Опубликованный n неизвестен: опубликованное значение принято за точное (с учётом округления)."
                     if lang == "ru" else
                     "Published n unknown: the published value is taken as exact (up to its rounding).")
    lines.append(CAVEAT[lang])
    if margin is not None:
        points = f"{100 * margin:.1f}"
        lines.append(f"≈ эквивалентно: интервал разницы в пределах ±{points.replace('.', ',')} п.п." if lang == "ru"
                     else f"≈ equivalent: the difference interval lies within ±{points} pp")
    return lines


def prepare(frame: pd.DataFrame, study: Study, evidence: pd.DataFrame | None = None) -> pd.DataFrame:
    """The rows that enter the study (audited sites for an audit study), with ``channels`` recomputed from the
    five flags (a stored column is never trusted: it may be stale or counted differently) and, given the
    evidence table, the evidence fields (:mod:`chanaudit.analysis.evidence_fields`)."""
    if study.data != "audit":
        return frame
    out = ok_sites(frame)
    if all(ch in out for ch in CHANNELS):
        out["channels"] = out[list(CHANNELS)].sum(axis=1, skipna=False)  # NaN when a flag is missing
    if evidence is not None:
        out = evidence_fields(out, evidence)
    return out


def published_range(published: float, rounding: float | None, bound: str, mode: str = "half_up",
                    tolerance: float | None = None) -> tuple[float, float]:
    """The closed hull of the shares a published value stands for (the one-sample rule's interval)."""
    rng = share_range(published, rounding, mode, tolerance=tolerance, bound=bound)
    return float(rng.low), float(rng.high)


def one_sample_verdict(fig: Figure, low: float, high: float) -> tuple[object, str]:
    """(inside, verdict) of the one-sample rule: our interval against the published value's range."""
    if fig.published is None:
        return pd.NA, ""
    p_low, p_high = published_range(float(fig.published), fig.rounding, fig.bound, fig.rounding_mode,
                                    fig.tolerance if fig.about else None)
    if high < p_low:
        return False, "lower"
    if low > p_high:
        return False, "higher"
    return True, "consistent"


def _missing(fig: Figure, expr: str, data: pd.DataFrame) -> set[str]:
    """The columns a variant needs (its expression, where and direction) that the data do not have."""
    needed = names(expr) | (names(fig.where) if fig.where else set())
    if fig.direction is not None:
        needed |= names(fig.direction.greater) | names(fig.direction.than)
    return needed - set(data.columns)


def _mask(expr: str | None, data: pd.DataFrame) -> pd.Series:
    if not expr:
        return pd.Series(True, index=data.index)
    return evaluate(expr, data).fillna(False).astype(bool)


def _share(values: pd.Series, weights: pd.Series | None, method: str, conf: float) -> tuple[dict, Share | None]:
    """Our share of a 0/1 series: (row fields, the weighted :class:`Share` or None). Unweighted: k of n with
    ``method``'s interval. Weighted: the weighted estimate with Wilson's interval on the Kish effective n
    (:func:`chanaudit.analysis.design.weighted_share`), the same numbers as the survey's headline table;
    ``k`` stays the unweighted count."""
    k, n = int(values.sum()), int(values.size)
    if weights is None:
        low, high = proportion_ci(k, n, method, conf)
        return {"k": k, "n": n, "reproduced": k / n if n else math.nan, "ci_low": low, "ci_high": high}, None
    res = weighted_share(values, weights.reindex(values.index), conf)
    fields = {"k": k, "n": n, "reproduced": res["estimate"], "ci_low": res["ci_low"], "ci_high": res["ci_high"],
              "n_eff": res["n_eff"], "deff": res["deff"]}
    share = Share(res["estimate"], res["ci_low"], res["ci_high"], res["n_eff"]) if n else None
    return fields, share


def reproduce(frame: pd.DataFrame, study: Study, method: str = "wilson", conf: float = 0.95, *,
              evidence: pd.DataFrame | None = None, equivalence_margin: float | None = None,
              weights: pd.Series | None = None) -> pd.DataFrame:
    """One row per figure and variant: see the module docstring for the columns and verdicts.

    ``evidence``: the audit's evidence.csv, for variants that read evidence fields (``form_request``...);
    without it such variants get the verdict ``needs_evidence``. ``method`` is the interval of our share;
    the differences always use Newcombe's interval (built on Wilson's). ``weights`` (aligned with
    ``frame``'s index; survey weights from raking, say): every share, interval and comparison is weighted
    (Wilson on the Kish effective n, ``method`` ignored), and ``weighted``, ``n_eff``, ``deff`` say so."""
    if equivalence_margin is not None and not 0 < equivalence_margin < 1:
        raise InvalidMargin(f"equivalence margin {equivalence_margin}: must be a share between 0 and 1 (0.05 = 5 points)")
    if weights is not None:
        weights = pd.Series(weights, dtype=float)
        if not weights.index.equals(frame.index):
            raise InvalidWeights(f"{len(weights)} weights for {len(frame)} rows: the weights must be aligned with "
                                 "the table's rows")
    data = prepare(frame, study, evidence)
    rows = []
    for fig in study.figures:
        base = pd.Series(True, index=data.index) if not fig.where or _missing(fig, fig.where, data) \
            else _mask(fig.where, data)
        sample = published_sample(fig, study)
        for vid, ven, vru, expr in fig.variants:
            row = {"figure_id": fig.id, "label_en": fig.label_en, "label_ru": fig.label_ru,
                   "definition": expr + (f" | where {fig.where}" if fig.where else ""), "variant": vid,
                   "variant_label_en": ven, "variant_label_ru": vru, "published": fig.published,
                   "published_text": fig.published_text, "published_text_ru": fig.published_text_ru,
                   "rounding": fig.rounding, "bound": fig.bound, "equivalence_margin": equivalence_margin,
                   "weighted": weights is not None}
            missing = _missing(fig, expr, data)
            if data.empty:  # no audited site (or no respondent): nothing is computable, whatever is missing
                row.update(k=0, n=0, reproduced=math.nan, ci_low=math.nan, ci_high=math.nan, inside=pd.NA,
                           verdict="not_computable")
                rows.append(row)
                continue
            if missing:  # this figure cannot be computed on these data; the others still are
                evidence_only = missing <= set(EVIDENCE_FIELDS)
                row.update(k=pd.NA, n=pd.NA, reproduced=math.nan, ci_low=math.nan, ci_high=math.nan, inside=pd.NA,
                           verdict="needs_evidence" if evidence_only else "not_computable",
                           note=("needs the evidence table for " if evidence_only else "no column ")
                           + ", ".join(sorted(missing)))
                rows.append(row)
                continue
            if fig.direction is not None:
                row.update(_direction_row(fig, expr, data, base, method, conf, weights))
                row["definition"] = f"{expr} | {fig.direction.greater} vs {fig.direction.than}" + (
                    f" | where {fig.where}" if fig.where else "")
                rows.append(row)
                continue
            values = evaluate(expr, data)[base].dropna()
            fields, share = _share(values, weights, method, conf)
            row.update(fields)
            k, n, low, high = fields["k"], fields["n"], fields["ci_low"], fields["ci_high"]
            inside, one = one_sample_verdict(fig, low, high) if n else (pd.NA, "")
            row.update(inside=inside, verdict_one_sample=one or None)
            if not n:
                row["verdict"] = "not_computable"
            elif not fig.comparable:
                row["verdict"] = "no_published_value"
            elif sample is not None:
                cmp = versus_published(k, n, sample, conf, share)
                row.update(cmp, comparison="two_sample", published_n=sample.n, published_n_range=sample.n_text,
                           published_k=sample.k, verdict=interval_verdict(cmp["diff_ci_low"], cmp["diff_ci_high"]),
                           equivalent=equivalent(cmp["diff_ci_low"], cmp["diff_ci_high"], equivalence_margin))
            elif one:
                row.update(comparison="one_sample", verdict=one)
            else:  # a count without a published n: nothing to compare a share with
                row["verdict"] = "no_published_value"
            rows.append(row)
    out = pd.DataFrame(rows, columns=COLUMNS)
    for col in ("k", "n", "k_b", "n_b", "published_n", "published_k"):  # whole counts, empty where there is none
        out[col] = pd.to_numeric(out[col], errors="coerce").astype("Int64")
    out["equivalent"] = out["equivalent"].astype("boolean")
    out["p_holm"] = holm(pd.to_numeric(out["p_val"], errors="coerce").tolist())
    out["verdict_label_en"] = [verdict_label(v, "en") for v in out["verdict"]]
    out["verdict_label_ru"] = [verdict_label(v, "ru") for v in out["verdict"]]
    return out


def _direction_row(fig: Figure, expr: str, data: pd.DataFrame, base: pd.Series, method: str, conf: float,
                   weights: pd.Series | None = None) -> dict:
    outcome = evaluate(expr, data)
    in_a, in_b = _mask(fig.direction.greater, data) & base, _mask(fig.direction.than, data) & base
    both = int((in_a & in_b).sum())
    if both:
        raise ExpressionError(f"figure {fig.id}: direction groups {fig.direction.greater!r} and "
                              f"{fig.direction.than!r} overlap on {both} rows; they must be disjoint")
    a, b = outcome[in_a].dropna(), outcome[in_b].dropna()
    fields_a, share_a = _share(a, weights, method, conf)
    fields_b, share_b = _share(b, weights, method, conf)
    k, n, k_b, n_b = fields_a["k"], fields_a["n"], fields_b["k"], fields_b["n"]
    row = {**fields_a, "inside": pd.NA, "k_b": k_b, "n_b": n_b, "reproduced_b": fields_b["reproduced"],
           "ci_low_b": fields_b["ci_low"], "ci_high_b": fields_b["ci_high"], "comparison": "direction"}
    if not n or not n_b:
        row["verdict"] = "not_computable"
        return row
    cmp = two_groups(k, n, k_b, n_b, conf, (share_a, share_b) if weights is not None else None)
    row.update(cmp, verdict=direction_verdict(cmp["diff_ci_low"], cmp["diff_ci_high"]))
    return row
