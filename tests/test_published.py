"""Published figures: intervals and tests, the two-sample comparison, rounding conventions, relations, the spec
language. Every expected value comes from an independent reference named beside the assert."""

from __future__ import annotations

import math

import pytest
from scipy.stats import chi2_contingency
from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest

from chanaudit.analysis.intervals import InvalidCount, newcombe_difference, proportion_ci, score_test


# --- intervals and tests ------------------------------------------------------------------------------------

# Newcombe RG (1998) Stat Med 17:873-890, Table II, method 10 (hybrid score), examples (a)-(g)
NEWCOMBE_TABLE_II = [
    (56, 70, 48, 80, 0.0524, 0.3339),
    (9, 10, 3, 10, 0.1705, 0.8090),
    (6, 7, 2, 7, 0.0582, 0.8062),
    (5, 56, 0, 29, -0.0381, 0.1926),
    (0, 10, 0, 20, -0.1611, 0.2775),
    (0, 10, 0, 10, -0.2775, 0.2775),
    (10, 10, 0, 20, 0.6791, 1.0000),
]


@pytest.mark.parametrize("k1,n1,k2,n2,low,high", NEWCOMBE_TABLE_II)
def test_newcombe_method_10_against_table_ii_and_statsmodels(k1, n1, k2, n2, low, high):
    d, lo, hi = newcombe_difference(k1, n1, k2, n2)
    assert d == pytest.approx(k1 / n1 - k2 / n2)
    assert (lo, hi) == pytest.approx((low, high), abs=5e-5)  # Newcombe (1998) Table II, 4 decimals
    ref = confint_proportions_2indep(k1, n1, k2, n2, method="newcomb", compare="diff")  # statsmodels
    assert (lo, hi) == pytest.approx(ref, abs=1e-9)


def test_newcombe_fagerland_example():
    # Fagerland, Lydersen & Laake (2017) ch. 4, Perondi et al. (2004): 7/34 vs 1/34;
    # statsmodels confint_proportions_2indep(method="newcomb"): 0.018921 to 0.340369
    _, lo, hi = newcombe_difference(7, 34, 1, 34)
    assert (lo, hi) == pytest.approx((0.018921, 0.340369), abs=1e-6)


def test_newcombe_difference_with_an_empty_sample_is_nan():
    # issue 14.9: n = 0 raised ZeroDivisionError; an empty sample has no difference to estimate
    assert all(math.isnan(x) for x in newcombe_difference(3, 10, 0, 0))
    assert all(math.isnan(x) for x in newcombe_difference(0, 0, 0, 0))


@pytest.mark.parametrize("k,n", [(5, 3), (-1, 10), (1, -1)])
def test_impossible_counts_are_a_named_error(k, n):
    # issue 14.9: proportion_ci(5, 3) raised "math domain error" from sqrt of a negative variance
    for method in ("wilson", "clopper-pearson", "agresti-coull"):
        with pytest.raises(InvalidCount, match=f"k = {k} of n = {n}"):
            proportion_ci(k, n, method)
    with pytest.raises(InvalidCount):
        newcombe_difference(k, n, 1, 2)


@pytest.mark.parametrize("k1,n1,k2,n2", [(56, 70, 48, 80), (295, 307, 288, 300), (4, 20, 12, 25), (0, 10, 3, 40)])
def test_score_test_is_pearson_chi2_and_the_pooled_z(k1, n1, k2, n2):
    z, p = score_test(k1, n1, k2, n2)
    chi2, p_chi2, _, _ = chi2_contingency([[k1, n1 - k1], [k2, n2 - k2]], correction=False)  # scipy
    assert z * z == pytest.approx(chi2, rel=1e-9) and p == pytest.approx(p_chi2, rel=1e-9)
    z_ref, p_ref = proportions_ztest([k1, k2], [n1, n2])  # statsmodels, pooled variance
    assert (z, p) == pytest.approx((z_ref, p_ref), rel=1e-9)


def test_score_test_degenerate_tables():
    assert score_test(0, 10, 0, 20) == (0.0, 1.0)  # hand: both all 0, no evidence of a difference
    assert all(math.isnan(x) for x in score_test(1, 2, 0, 0))
