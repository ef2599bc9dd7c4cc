"""Sparse r x 2 tables and many comparisons: the Fisher–Freeman–Halton test, Holm and Benjamini–Hochberg,
and group folding that leaves missing values alone. Reference values from R 4.2.2 ``fisher.test``,
scipy and statsmodels, named beside the asserts. All data here are SYNTHETIC."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import fisher_exact
from statsmodels.stats.multitest import multipletests

from chanaudit.analysis.compare import (
    compare_groups,
    fold_small_groups,
    freeman_halton_rx2,
    grouped_comparison,
    independence_test,
)
from chanaudit.analysis.multiplicity import UnknownAdjustment, add_adjusted, adjust


@pytest.mark.parametrize("table, r_p", [
    # R: fisher.test(matrix(c(3, 5, 2, 1, 0, 4), 3))$p.value
    ([[3, 1], [5, 0], [2, 4]], 0.0959040959041),
    # R: fisher.test(matrix(c(1, 2, 0, 3, 8, 7, 10, 12, 9, 11), 5))$p.value
    ([[1, 7], [2, 10], [0, 12], [3, 9], [8, 11]], 0.0694470760567),
    # R: fisher.test(matrix(c(0, 1, 2, 0, 1, 12, 9, 15, 20, 8), 5))$p.value
    ([[0, 12], [1, 9], [2, 15], [0, 20], [1, 8]], 0.312440676093),
])
def test_freeman_halton_matches_r_fisher_test(table, r_p):
    p, how = freeman_halton_rx2(table)
    assert how == "exact" and p == pytest.approx(r_p, rel=1e-9)
    flipped, _ = freeman_halton_rx2(np.asarray(table)[:, ::-1])  # either column may be enumerated
    assert flipped == pytest.approx(r_p, rel=1e-9)


def test_freeman_halton_on_2x2_is_fisher_and_monte_carlo_is_close_and_seeded():
    assert freeman_halton_rx2([[1, 3], [4, 0]])[0] == pytest.approx(fisher_exact([[1, 3], [4, 0]]).pvalue)  # scipy
    table = [[0, 12], [1, 9], [2, 15], [0, 20], [1, 8]]
    p, how = freeman_halton_rx2(table, limit=10)
    assert how == "monte_carlo"
    # 20,000 draws: the Monte-Carlo standard error at p = 0.31 is 0.0033; R exact 0.312440676093
    assert abs(p - 0.312440676093) < 0.012
    assert freeman_halton_rx2(table, limit=10)[0] == p  # seeded: the same input, the same p-value


def test_independence_test_chooses_by_expected_counts():
    assert independence_test([[30, 20], [25, 25], [20, 30]])["test"] == "chi2"
    res = independence_test([[3, 1], [5, 0], [2, 4]])
    assert res["test"] == "fisher_freeman_halton" and res["p_val"] == pytest.approx(0.0959040959041)
    assert independence_test([[1, 3], [4, 0]])["test"] == "fisher"


def test_compare_groups_sparse_three_cities_and_adjusted_columns():
    # SYNTHETIC: email on 3 of 4 sites in A, 5 of 5 in B, 2 of 6 in C -> the R table above, rows A, B, C
    rows = [("A", 3, 4), ("B", 5, 5), ("C", 2, 6)]
    frame = pd.DataFrame([{"city": c, "email": int(i < k), "phone": int(i % 2 == 0), "status": "ok"}
                          for c, k, n in rows for i in range(n)])
    _, tests = compare_groups(frame, "city", ["email", "phone"])
    email = tests.set_index("channel").loc["email"]
    # columns (0, 1): [[1, 3], [0, 5], [4, 2]] — R: fisher.test(matrix(c(1, 0, 4, 3, 5, 2), 3))$p.value
    # is the same table as matrix(c(3, 5, 2, 1, 0, 4), 3) with the columns swapped: 0.0959040959041
    assert email["test"] == "fisher_freeman_halton" and email["p_val"] == pytest.approx(0.0959040959041)
    # statsmodels: multipletests(p, method="holm" / "fdr_bh")
    for col, method in (("p_holm", "holm"), ("p_bh", "fdr_bh")):
        assert tests[col].tolist() == pytest.approx(multipletests(tests["p_val"], method=method)[1].tolist())


@pytest.mark.parametrize("seed", range(5))
def test_adjust_matches_statsmodels_multipletests(seed):
    p = np.random.default_rng(seed).uniform(0, 0.2, 9)
    p[3] = p[5]  # a tie
    assert adjust(p, "holm") == pytest.approx(multipletests(p, method="holm")[1])  # statsmodels
    assert adjust(p, "bh") == pytest.approx(multipletests(p, method="fdr_bh")[1])  # statsmodels


def test_adjust_keeps_missing_out_of_the_family_and_groups():
    p = [0.01, np.nan, 0.04, 0.03]
    # Holm by hand on the three present: sorted 0.01, 0.03, 0.04 -> 0.03, 0.06, 0.06
    assert adjust(p, "holm")[[0, 2, 3]] == pytest.approx([0.03, 0.06, 0.06]) and np.isnan(adjust(p, "holm")[1])
    table = pd.DataFrame({"var": ["a", "a", "b", "b"], "p_val": [0.01, 0.04, 0.01, 0.5]})
    out = add_adjusted(table, by="var")
    assert out["p_holm"].tolist() == pytest.approx([0.02, 0.04, 0.02, 0.5])  # by hand, two families of two
    with pytest.raises(UnknownAdjustment):
        adjust(p, "bonferroni-ish")


def cities_with_missing() -> pd.DataFrame:
    """SYNTHETIC: X 12 sites, Y 3, Z 2 and 4 sites whose city is missing (NaN) or blank."""
    groups = [("X", 12, 6), ("Y", 3, 3), ("Z", 2, 0), (np.nan, 3, 1), ("  ", 1, 1)]
    return pd.DataFrame([{"city": c, "email": int(i < k), "status": "ok"} for c, n, k in groups for i in range(n)])


def test_folding_leaves_missing_group_values_missing():
    sites = cities_with_missing()
    folded, small = fold_small_groups(sites, "city", min_n=10)
    assert small == ["Y", "Z"]  # not "nan" (pandas 2.x: astype(str) made the missing values a group "nan")
    assert folded["city"].isna().sum() == 3  # the missing cities stay missing, not "other"
    assert (folded["city"] == "other").sum() == 5
    table, tests = grouped_comparison(sites, "city", ["email"], min_n=10)
    rows = table.set_index("group")
    assert set(rows.index) == {"X", "other"} and rows.loc["other", "n"] == 5 and tests.iloc[0]["n"] == 17
