"""A published figure as a second sample: what it allows, and the difference from ours with an interval.

A published share is itself an estimate from the study's own sample. When the study gives its size n
(or a range), the figure stands for a whole count k_pub of n_pub: every k with k/n_pub inside the
figure's share range (its rounding convention, "about" tolerance or bound, see
:mod:`chanaudit.analysis.rounding`) and, when a count is published ("about 30 sites"), within that count's
tolerance. Ours (k of n) minus theirs is then a difference of two independent proportions:

* ``diff`` = k/n - k_pub/n_pub with k_pub the allowed count nearest p * n_pub;
* ``diff_ci_low`` .. ``diff_ci_high``: Newcombe's hybrid score interval (1998, method 10), taken over every
  allowed k_pub (the union of their intervals: the rounding's own uncertainty is kept, never hidden);
* ``p_val``: the pooled score test (Pearson's chi-square without continuity correction), the largest
  over the allowed k_pub.

For a range of n the smallest n at which the figure is realisable is used: the widest interval for the
published share, so the comparison errs towards "consistent". A ``where:`` figure's denominator is the
count of its ``base`` figure (the smallest allowed); without a base or its own ``n_range`` its n is unknown.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from chanaudit.analysis.intervals import (
    newcombe_difference,
    newcombe_from_limits,
    score_test,
    score_test_shares,
    wilson,
)
from chanaudit.analysis.studies import Figure, Study


@dataclass(frozen=True)
class Share:
    """A share with its interval and the sample size behind it: a weighted share (Wilson on the Kish
    effective n) enters the comparisons through this instead of a whole count."""

    estimate: float
    ci_low: float
    ci_high: float
    n: float


@dataclass(frozen=True)
class PublishedSample:
    n: int
    #: every count the figure allows at ``n``
    counts: tuple[int, ...]
    #: the allowed count nearest p * n (the published value as a count)
    k: int
    #: the published n as given: "300-330", "300"
    n_text: str


def _nearest(ks, target: float) -> int:
    return min(ks, key=lambda k: (abs(k - target), k))


def _text(lo: int, hi: int) -> str:
    return str(lo) if lo == hi else f"{lo}-{hi}"


def published_sample(fig: Figure, study: Study, convention: str | None = None) -> PublishedSample | None:
    """The published figure as k_pub of n_pub (see the module docstring), or None when n is unknown or no n
    in the declared range realises the figure."""
    if fig.direction is not None or (fig.published is None and fig.count is None):
        return None
    target = (lambda n: fig.published * n) if fig.published is not None else (lambda n: fig.count.value)
    if fig.where is not None and fig.n_range is None:
        if fig.base is None or study.n_range is None:
            return None
        base = study.figure(fig.base)
        for n in range(study.n_range[0], study.n_range[1] + 1):
            for m in base.allowed_counts(n, convention) or []:
                ks = fig.allowed_counts(m, convention) if m else []
                if ks:
                    return PublishedSample(m, tuple(ks), _nearest(ks, target(m)),
                                           f"{_text(*study.n_range)} (subgroup: {fig.base})")
        return None
    n_range = fig.n_range or study.n_range
    if n_range is None:
        return None
    for n in range(n_range[0], n_range[1] + 1):
        ks = fig.allowed_counts(n, convention)
        if ks:
            return PublishedSample(n, tuple(ks), _nearest(ks, target(n)), _text(*n_range))
    return None


def versus_published(k: int, n: int, sample: PublishedSample, conf: float = 0.95, share: Share | None = None) -> dict:
    """``diff``, ``diff_ci_low``, ``diff_ci_high``, ``p_val`` of ours (k of n, or the weighted ``share``) minus
    the published sample."""
    def one(kp: int) -> tuple[float, float, float, float]:
        if share is None:
            d, low, high = newcombe_difference(k, n, kp, sample.n, conf)
            return d, low, high, score_test(k, n, kp, sample.n)[1]
        p2 = kp / sample.n
        d, low, high = newcombe_from_limits(share.estimate, share.ci_low, share.ci_high, p2, *wilson(kp, sample.n, conf))
        return d, low, high, score_test_shares(share.estimate, share.n, p2, sample.n)[1]

    diff = one(sample.k)[0]
    found = [one(kp) for kp in sample.counts]
    return {"diff": diff, "diff_ci_low": min(f[1] for f in found), "diff_ci_high": max(f[2] for f in found),
            "p_val": max(f[3] for f in found)}


def two_groups(k_a: int, n_a: int, k_b: int, n_b: int, conf: float = 0.95,
               shares: tuple[Share, Share] | None = None) -> dict:
    """Group A minus group B: ``diff`` with Newcombe's interval and the score test's ``p_val`` (from the
    weighted ``shares`` when given)."""
    if shares is None:
        diff, low, high = newcombe_difference(k_a, n_a, k_b, n_b, conf)
        return {"diff": diff, "diff_ci_low": low, "diff_ci_high": high, "p_val": score_test(k_a, n_a, k_b, n_b)[1]}
    a, b = shares
    diff, low, high = newcombe_from_limits(a.estimate, a.ci_low, a.ci_high, b.estimate, b.ci_low, b.ci_high)
    return {"diff": diff, "diff_ci_low": low, "diff_ci_high": high,
            "p_val": score_test_shares(a.estimate, a.n, b.estimate, b.n)[1]}


def interval_verdict(low: float, high: float) -> str:
    """``higher`` when the whole interval of ours - published is above 0, ``lower`` below, else ``consistent``."""
    if low > 0:
        return "higher"
    if high < 0:
        return "lower"
    return "consistent"


def direction_verdict(low: float, high: float) -> str:
    """A - B claimed > 0: ``agrees`` (interval above 0), ``disagrees`` (below), ``inconclusive`` (contains 0)."""
    if low > 0:
        return "agrees"
    if high < 0:
        return "disagrees"
    return "inconclusive"


def equivalent(low: float, high: float, margin: float | None):
    """True when the whole interval lies strictly inside (-margin, +margin): with a (1 - 2a) interval this is
    the two one-sided tests (TOST) at level a; NA without a margin or an interval."""
    if margin is None or not (math.isfinite(low) and math.isfinite(high)):
        return None
    return bool(-margin < low and high < margin)


def holm(pvalues: list[float]) -> list[float]:
    """Holm's step-down adjustment (1979); NaN entries are left out of the family and stay NaN."""
    idx = [i for i, p in enumerate(pvalues) if p is not None and math.isfinite(p)]
    order = sorted(idx, key=lambda i: pvalues[i])
    m = len(order)
    out = [math.nan] * len(pvalues)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * pvalues[i]))
        out[i] = running
    return out
