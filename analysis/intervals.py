"""Confidence intervals for a proportion and for a difference of two proportions."""

from __future__ import annotations

import math
from functools import lru_cache

from scipy.stats import beta, norm

from chanaudit.core.errors import ChanauditError

METHODS = ("wilson", "clopper-pearson", "agresti-coull")


class UnknownMethod(ChanauditError, ValueError):
    """Not an interval method this module knows."""


class InvalidCount(ChanauditError, ValueError):
    """A count k and a sample size n that cannot be a proportion (k < 0, n < 0 or k > n)."""


def check_count(k: int, n: int) -> tuple[int, int]:
    """``(k, n)`` as ints, or :class:`InvalidCount` naming both: 0 <= k <= n."""
    if not 0 <= k <= n:
        raise InvalidCount(f"k = {k} of n = {n}: a count must be between 0 and n")
    return int(k), int(n)


@lru_cache(maxsize=32)
def _z(conf: float) -> float:
    return float(norm.ppf(1 - (1 - conf) / 2))


def wilson(k: int, n: int, conf: float = 0.95) -> tuple[float, float]:
    """Wilson score interval (Newcombe 1998, method 3)."""
    if n == 0:
        return math.nan, math.nan
    z = _z(conf)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def clopper_pearson(k: int, n: int, conf: float = 0.95) -> tuple[float, float]:
    """Exact (Clopper-Pearson) interval from the beta distribution."""
    if n == 0:
        return math.nan, math.nan
    a = 1 - conf
    low = 0.0 if k == 0 else float(beta.ppf(a / 2, k, n - k + 1))
    high = 1.0 if k == n else float(beta.ppf(1 - a / 2, k + 1, n - k))
    return low, high


def agresti_coull(k: int, n: int, conf: float = 0.95) -> tuple[float, float]:
    if n == 0:
        return math.nan, math.nan
    z = _z(conf)
    n_t = n + z * z
    p_t = (k + z * z / 2) / n_t
    half = z * math.sqrt(p_t * (1 - p_t) / n_t)
    return max(0.0, p_t - half), min(1.0, p_t + half)


_BY_NAME = {"wilson": wilson, "clopper-pearson": clopper_pearson, "clopper_pearson": clopper_pearson,
            "exact": clopper_pearson, "agresti-coull": agresti_coull}


def interval_method(method: str):
    """The interval function named ``method``; :class:`UnknownMethod` for a name this module does not know."""
    fn = _BY_NAME.get(method)
    if fn is None:
        raise UnknownMethod(f"unknown interval method {method!r}; use one of {', '.join(METHODS)}")
    return fn


def proportion_ci(k: int, n: int, method: str = "wilson", conf: float = 0.95) -> tuple[float, float]:
    """(low, high) for k of n; NaN for n = 0; :class:`InvalidCount` unless 0 <= k <= n."""
    return interval_method(method)(*check_count(k, n), conf)


def newcombe_difference(k1: int, n1: int, k2: int, n2: int, conf: float = 0.95) -> tuple[float, float, float]:
    """p1 - p2 with Newcombe's hybrid score interval (1998, method 10); NaN when either sample is empty."""
    k1, n1 = check_count(k1, n1)
    k2, n2 = check_count(k2, n2)
    if n1 == 0 or n2 == 0:
        return math.nan, math.nan, math.nan
    return newcombe_from_limits(k1 / n1, *wilson(k1, n1, conf), k2 / n2, *wilson(k2, n2, conf))


def newcombe_from_limits(p1: float, l1: float, u1: float, p2: float, l2: float, u2: float) -> tuple[float, float, float]:
    """p1 - p2 with Newcombe's hybrid interval built from each share's own (Wilson) limits: what
    :func:`newcombe_difference` does for counts, usable for a weighted share with its Wilson interval on the
    effective n (Newcombe 1998, method 10, takes nothing else from the samples)."""
    d = p1 - p2
    low = d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return d, max(-1.0, low), min(1.0, high)


def score_test(k1: int, n1: int, k2: int, n2: int) -> tuple[float, float]:
    """(z, two-sided p) of the pooled score test of p1 = p2 (Pearson's chi-square on the 2x2 table without
    continuity correction: z^2 = chi^2). NaN when either sample is empty; z = 0, p = 1 when the pooled
    share is 0 or 1 (both samples all 0 or all 1: no evidence of a difference)."""
    k1, n1 = check_count(k1, n1)
    k2, n2 = check_count(k2, n2)
    if n1 == 0 or n2 == 0:
        return math.nan, math.nan
    return score_test_shares(k1 / n1, n1, k2 / n2, n2)


def score_test_shares(p1: float, n1: float, p2: float, n2: float) -> tuple[float, float]:
    """:func:`score_test` from shares and (possibly fractional, effective) sample sizes: a weighted share
    enters with its Kish effective n."""
    if n1 <= 0 or n2 <= 0:
        return math.nan, math.nan
    pooled = (p1 * n1 + p2 * n2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        return 0.0, 1.0
    z = (p1 - p2) / se
    return z, float(2 * norm.sf(abs(z)))
