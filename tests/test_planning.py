"""Planning: sites for a margin of error, two independent audits, one audit repeated (McNemar).
References: statsmodels (samplesize_confint_proportion, samplesize_proportions_2indep_onetail,
NormalIndPower), R 4.2.2 power.prop.test, and the exact power of McNemar's test by enumerating the
trinomial distribution of discordant pairs."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import gammaln
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import (
    power_proportions_2indep,
    proportion_effectsize,
    samplesize_confint_proportion,
    samplesize_proportions_2indep_onetail,
)
from typer.testing import CliRunner

from chanaudit.analysis.planning import (
    PlanningError,
    discordant,
    n_margin,
    n_paired,
    n_two_sample,
    plan,
    power_paired,
)
from chanaudit.cli import app


def test_margin_of_error():
    # statsmodels: samplesize_confint_proportion(0.21, 0.05) = 254.919 -> 255 sites
    assert n_margin(0.21, 0.05) == int(np.ceil(samplesize_confint_proportion(0.21, 0.05))) == 255
    # finite population of 1000 sites (Cochran 1977, ch. 4): 254.919 / (1 + 253.919/1000) = 203.3 -> 204
    assert n_margin(0.21, 0.05, population=1000) == 204
    assert n_margin(0.21, 0.05, deff=1.5) == int(np.ceil(1.5 * 254.91920734126222))


def test_two_sample_21_to_31_percent():
    # R: power.prop.test(p1 = .21, p2 = .31, power = .8): n = 300.8432592 per group
    # statsmodels: samplesize_proportions_2indep_onetail(0.10, 0.21, 0.8) = 300.8432585965
    ref = samplesize_proportions_2indep_onetail(0.10, 0.21, 0.8, alpha=0.05, alternative="two-sided")
    assert ref == pytest.approx(300.8432592, rel=1e-8)
    assert n_two_sample(0.21, 0.31) == int(np.ceil(ref)) == 301
    assert power_proportions_2indep(0.10, 0.21, 301).power >= 0.8 > power_proportions_2indep(0.10, 0.21, 300).power
    # arcsine (Cohen's h): statsmodels NormalIndPower().solve_power(h, 0.05, 0.8) = 299.52 -> 300
    h = proportion_effectsize(0.31, 0.21)
    assert n_two_sample(0.21, 0.31, method="arcsine") == int(np.ceil(NormalIndPower().solve_power(h, None, 0.05, 0.8)))
    # unequal groups: statsmodels with ratio 2
    ref2 = samplesize_proportions_2indep_onetail(0.10, 0.21, 0.8, ratio=2, alternative="two-sided")
    assert n_two_sample(0.31, 0.21, ratio=2) == int(np.ceil(ref2))


def exact_mcnemar_power(n: int, p10: float, p01: float, z: float = 1.959963984540054) -> float:
    """Power of the asymptotic McNemar test by enumerating every (dropped, adopted) count at n."""
    b = np.arange(n + 1)[:, None]
    c = np.arange(n + 1)[None, :]
    inside = b + c <= n
    rest = np.where(inside, n - b - c, 0)
    logp = (gammaln(n + 1) - gammaln(b + 1) - gammaln(c + 1) - gammaln(rest + 1) + b * np.log(p10)
            + c * np.log(p01) + rest * np.log(1 - p10 - p01))
    with np.errstate(divide="ignore", invalid="ignore"):
        reject = inside & (b + c > 0) & (np.abs(c - b) / np.sqrt(b + c) > z)
    return float(np.exp(logp[reject]).sum())


@pytest.mark.parametrize("p10, p01", [(0.05, 0.15), (0.10, 0.20), (0.2, 0.3)])
def test_paired_sizes_reach_the_power_by_exact_enumeration(p10, p01):
    n = n_paired(p10, p01)
    assert power_paired(n, p10, p01) == pytest.approx(0.8, abs=0.005)
    exact = exact_mcnemar_power(n, p10, p01)  # Connor's formula is a little conservative
    assert 0.8 <= exact < 0.84


def test_paired_from_margins_and_correlation():
    p10, p01 = discordant(0.21, 0.31, 0.0)  # independent flags: p11 = 0.21 * 0.31
    assert (p10, p01) == pytest.approx((0.21 - 0.0651, 0.31 - 0.0651))
    with pytest.raises(PlanningError, match="impossible"):
        discordant(0.21, 0.31, 0.99)
    row = plan("paired", p1=0.21, p2=0.31, rho=0.5).iloc[0]
    # a positive correlation means fewer sites change, so fewer pairs are needed than two audits of 301
    assert row["n_per_group"] < 301 and row["power"] >= 0.8


def test_cli_plan(monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    runner = CliRunner()
    res = runner.invoke(app, ["plan", "two-sample", "--p1", "0.21", "--p2", "0.31", "--lang", "en"])
    assert res.exit_code == 0 and "301 sites per audit" in res.output
    res = runner.invoke(app, ["plan", "margin", "--share", "0.21", "--moe", "0.05"])
    assert res.exit_code == 0 and res.output.startswith("255 сайтов")
    res = runner.invoke(app, ["plan", "paired", "--p10", "0.05", "--p01", "0.15", "--lang", "en"])
    assert res.exit_code == 0 and f"{n_paired(0.05, 0.15)} sites audited twice" in res.output
    bad = runner.invoke(app, ["plan", "two-sample", "--p1", "1.2", "--p2", "0.31"])
    assert bad.exit_code == 2 and "--p1 1.2" in bad.output
