"""Planning an audit: how many sites for a margin of error, for a difference between two audits of
different sites, and for a change between two audits of the same sites — and the power a given size has.

All by the normal approximation, two-sided, z_a = z(1 - alpha/2), z_b = z(power), q = 1 - p:

* margin of error e at a share p (Cochran 1977, ch. 4): n0 = z^2 p q / e^2 * deff, and with a finite
  population of N sites n = n0 / (1 + (n0 - 1)/N);
* two independent samples (Fleiss, Levin & Paik 2003, ch. 4, without continuity correction; what R's
  ``power.prop.test`` and statsmodels' ``samplesize_proportions_2indep_onetail`` compute), n2 = r n1:
  n1 = [z_a sqrt(pbar qbar (1 + 1/r)) + z_b sqrt(p1 q1 + p2 q2 / r)]^2 / (p1 - p2)^2,
  pbar = (p1 + r p2)/(1 + r); or ``method="arcsine"``, Cohen's h = 2 asin sqrt(p2) - 2 asin sqrt(p1):
  n1 = (z_a + z_b)^2 (1 + 1/r) / h^2 (statsmodels ``NormalIndPower``);
* the same sites audited twice, McNemar's test (Connor 1987): with p10 and p01 the shares of sites that
  drop and adopt the channel, psi = p10 + p01 and delta = p01 - p10,
  n = [z_a sqrt(psi) + z_b sqrt(psi - delta^2)]^2 / delta^2. The discordant shares follow from the two
  marginal shares and the correlation (phi) of a site's flags between the audits:
  p11 = p1 p2 + phi sqrt(p1 q1 p2 q2), p10 = p1 - p11, p01 = p2 - p11.

Sizes are rounded up to whole sites.
"""

from __future__ import annotations

import math

import pandas as pd
from scipy.stats import norm

from chanaudit.core.errors import ChanauditError

COLUMNS = ["design", "method", "p1", "p2", "p10", "p01", "moe", "alpha", "power", "n_per_group", "n_total"]


class PlanningError(ChanauditError, ValueError):
    """Impossible planning inputs: a share outside (0, 1), equal shares, a correlation the margins cannot have."""


def _share(name: str, value: float) -> float:
    if not 0 < value < 1:
        raise PlanningError(f"--{name} {value}: a share strictly between 0 and 1")
    return float(value)


def _z(p: float) -> float:
    return float(norm.ppf(p))


def n_margin(share: float, moe: float, conf: float = 0.95, deff: float = 1.0, population: int | None = None) -> int:
    """Sites needed for a margin of error ``moe`` (half-width of the normal interval) at ``share``."""
    p = _share("share", share)
    if not 0 < moe < 1:
        raise PlanningError(f"--moe {moe}: a margin strictly between 0 and 1 (0.05 is ±5 points)")
    z = _z(1 - (1 - conf) / 2)
    n0 = z * z * p * (1 - p) / moe ** 2 * deff
    if population:
        n0 = n0 / (1 + (n0 - 1) / population)
    return math.ceil(n0 - 1e-9)


def _two_sample_terms(p1: float, p2: float, ratio: float) -> tuple[float, float]:
    pbar = (p1 + ratio * p2) / (1 + ratio)
    null = math.sqrt(pbar * (1 - pbar) * (1 + 1 / ratio))
    alt = math.sqrt(p1 * (1 - p1) + p2 * (1 - p2) / ratio)
    return null, alt


def n_two_sample(p1: float, p2: float, alpha: float = 0.05, power: float = 0.8, ratio: float = 1.0,
                 method: str = "pooled") -> int:
    """Sites in the first audit (the second has ``ratio`` times as many) to detect p1 vs p2."""
    p1, p2 = _share("p1", p1), _share("p2", p2)
    if p1 == p2:
        raise PlanningError("p1 and p2 are equal: no difference to detect")
    za, zb = _z(1 - alpha / 2), _z(power)
    if method == "arcsine":
        h = 2 * math.asin(math.sqrt(p2)) - 2 * math.asin(math.sqrt(p1))
        return math.ceil((za + zb) ** 2 * (1 + 1 / ratio) / h ** 2 - 1e-9)
    if method != "pooled":
        raise PlanningError(f"--method {method}: use pooled or arcsine")
    null, alt = _two_sample_terms(p1, p2, ratio)
    return math.ceil((za * null + zb * alt) ** 2 / (p1 - p2) ** 2 - 1e-9)


def power_two_sample(n1: int, p1: float, p2: float, alpha: float = 0.05, ratio: float = 1.0) -> float:
    """Power of the pooled two-sample z test with n1 and ratio * n1 sites (the far tail ignored)."""
    null, alt = _two_sample_terms(p1, p2, ratio)
    za = _z(1 - alpha / 2)
    return float(norm.cdf((abs(p1 - p2) * math.sqrt(n1) - za * null) / alt))


def discordant(p1: float, p2: float, rho: float) -> tuple[float, float]:
    """(p10, p01) from the marginal shares of two audits of the same sites and the correlation of a site's
    flags between them."""
    p1, p2 = _share("before", p1), _share("after", p2)
    p11 = p1 * p2 + rho * math.sqrt(p1 * (1 - p1) * p2 * (1 - p2))
    p10, p01 = p1 - p11, p2 - p11
    if p11 < 0 or p10 < 0 or p01 < 0 or p11 + p10 + p01 > 1 + 1e-12:
        raise PlanningError(f"a correlation of {rho} is impossible for shares {p1} and {p2}")
    return p10, p01


def n_paired(p10: float, p01: float, alpha: float = 0.05, power: float = 0.8) -> int:
    """Sites audited twice needed for McNemar's test to detect a change (Connor 1987)."""
    if p10 < 0 or p01 < 0 or p10 + p01 > 1 or p10 + p01 == 0:
        raise PlanningError(f"--p10 {p10} --p01 {p01}: shares of sites that change, >= 0, at most 1 together")
    psi, delta = p10 + p01, p01 - p10
    if delta == 0:
        raise PlanningError("as many sites drop as adopt the channel: no change to detect")
    za, zb = _z(1 - alpha / 2), _z(power)
    return math.ceil((za * math.sqrt(psi) + zb * math.sqrt(psi - delta ** 2)) ** 2 / delta ** 2 - 1e-9)


def power_paired(n: int, p10: float, p01: float, alpha: float = 0.05) -> float:
    """Power of McNemar's (asymptotic) test with n sites audited twice (Connor 1987)."""
    psi, delta = p10 + p01, p01 - p10
    za = _z(1 - alpha / 2)
    return float(norm.cdf((abs(delta) * math.sqrt(n) - za * math.sqrt(psi)) / math.sqrt(psi - delta ** 2)))


def plan(design: str, *, share: float | None = None, moe: float | None = None, conf: float = 0.95,
         deff: float = 1.0, population: int | None = None, p1: float | None = None, p2: float | None = None,
         p10: float | None = None, p01: float | None = None, rho: float | None = None, alpha: float = 0.05,
         power: float = 0.8, ratio: float = 1.0, method: str = "pooled") -> pd.DataFrame:
    """One row of :data:`COLUMNS` for ``design`` ``margin``, ``two-sample`` or ``paired``; ``power`` is the
    power the rounded-up size reaches (the confidence level for ``margin``)."""
    row = dict.fromkeys(COLUMNS, math.nan)
    row.update(design=design, alpha=alpha)
    if design == "margin":
        if share is None or moe is None:
            raise PlanningError("margin needs --share and --moe")
        n = n_margin(share, moe, conf, deff, population)
        row.update(method="normal" + (" fpc" if population else ""), p1=share, moe=moe, alpha=1 - conf,
                   power=math.nan, n_per_group=n, n_total=n)
    elif design == "two-sample":
        if p1 is None or p2 is None:
            raise PlanningError("two-sample needs --p1 and --p2")
        n = n_two_sample(p1, p2, alpha, power, ratio, method)
        row.update(method=method, p1=p1, p2=p2, power=power_two_sample(n, p1, p2, alpha, ratio) if
                   method == "pooled" else power, n_per_group=n, n_total=n + math.ceil(ratio * n - 1e-9))
    elif design == "paired":
        if p10 is None or p01 is None:
            if p1 is None or p2 is None or rho is None:
                raise PlanningError("paired needs --p10 and --p01, or --p1, --p2 and --rho")
            p10, p01 = discordant(p1, p2, rho)
        n = n_paired(p10, p01, alpha, power)
        row.update(method="mcnemar_connor", p1=p1 if p1 is not None else math.nan,
                   p2=p2 if p2 is not None else math.nan, p10=p10, p01=p01,
                   power=power_paired(n, p10, p01, alpha), n_per_group=n, n_total=n)
    else:
        raise PlanningError(f"unknown design {design!r}: margin, two-sample or paired")
    return pd.DataFrame([row], columns=COLUMNS)
