"""Survey analysis by design: weighted shares, Rao–Scott, weighted logistic regression, separation,
raking with missing values. Reference values from R 4.2.2 with survey 4.1-1 (Debian packages), from
statsmodels, or by hand; the R calls are named beside the asserts. All data here are SYNTHETIC."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy.stats import chi2_contingency

from chanaudit.analysis.design import DesignError, kish, rao_scott, weighted_share
from chanaudit.analysis.intervals import wilson
from chanaudit.analysis.regression import ModelError, SeparationError, logistic, weighted_logistic
from chanaudit.survey.analyses import sla_regression, tool_vs_sla
from chanaudit.survey.weighting import poststratify, rake, weighted_proportion


def design_data(n: int = 80) -> pd.DataFrame:
    """SYNTHETIC, by formula (no random numbers): the data the R reference values were computed on
    (written to d.csv and read by the R script quoted in the tests)."""
    i = np.arange(n)
    group = (i * 5 % 7) % 3
    rows = np.array(["a", "b", "c"])[group]
    cols = np.where((i * 11 % 13) < np.array([4, 6, 9])[group], "yes", "no")
    w = 1 + (i * 3 % 5) * 0.5 + (i % 7) * 0.25
    x = (i * 7 % 9) / 8.0
    y = ((i * 3 % 11) + group * 2 < 6).astype(int)
    return pd.DataFrame({"r": rows, "c": cols, "w": w, "x": x, "y": y})


# R: d <- read.csv("d.csv"); des <- svydesign(ids = ~1, weights = ~w, data = d)

def test_rao_scott_matches_r_survey_svychisq():
    d = design_data()
    res = rao_scott(d["r"], d["c"], d["w"])
    # R: svychisq(~r + c, des, statistic = "F"): F = 4.06109028367, ndf = 1.99584140911,
    #    ddf = 157.67147131969, p = 0.0191326142903
    assert res["f"] == pytest.approx(4.06109028367, rel=1e-9)
    assert (res["ndf"], res["ddf"]) == pytest.approx((1.99584140911, 157.67147131969), rel=1e-9)
    assert res["p_val_f"] == pytest.approx(0.0191326142903, rel=1e-8)
    # R: svychisq(~r + c, des, statistic = "Chisq"): X-squared = 9.05895483418 (the Pearson X^2 of the
    #    weighted table scaled to n, printed unadjusted), p = 0.0172302230399 (of the adjusted statistic)
    assert res["pearson"] == pytest.approx(9.05895483418, rel=1e-9)
    assert res["p_val"] == pytest.approx(0.0172302230399, rel=1e-8)
    assert res["statistic"] == pytest.approx(res["pearson"] / res["mean_deff"])
    assert res["dof"] == 2 and res["n"] == 80


def test_rao_scott_with_equal_weights_is_pearson_times_n_minus_1_over_n():
    d = design_data()
    table = pd.crosstab(d["r"], d["c"]).to_numpy()
    pearson = chi2_contingency(table, correction=False)[0]  # scipy; R: chisq.test(...) = 8.12784788518
    assert pearson == pytest.approx(8.12784788518, rel=1e-9)
    res = rao_scott(d["r"], d["c"])
    # deff of every contrast is n/(n-1) under the with-replacement variance: X^2 (n-1)/n exactly
    assert res["pearson"] == pytest.approx(pearson, rel=1e-12)
    assert res["statistic"] == pytest.approx(pearson * 79 / 80, rel=1e-12)
    # R: svychisq(~r + c, svydesign(ids = ~1, weights = ~rep(1, 80), data = d), statistic = "Chisq"):
    #    p = 0.0180768187552
    assert res["p_val"] == pytest.approx(0.0180768187552, rel=1e-8)
    assert res["ndf"] == pytest.approx(2.0)


def test_rao_scott_refuses_a_table_with_one_row():
    with pytest.raises(DesignError, match="nothing to test"):
        rao_scott(["a"] * 5, ["x", "y", "x", "y", "x"])


def test_weighted_logistic_matches_r_svyglm_and_statsmodels_sandwich():
    d = design_data()
    res = weighted_logistic(d, "y", ["r", "x"], "w").set_index("term")
    # R: svyglm(y ~ r + x, design = des, family = quasibinomial()); coef(m), sqrt(diag(vcov(m))):
    #    (Intercept) 0.281962670246, rb -0.682643457177, rc -1.890186314970, x -0.294284144550
    #    SE:         0.520753894993,    0.584547124587,    0.709357052859,    0.765896495893
    r_coef = [0.281962670246, -0.682643457177, -1.890186314970, -0.294284144550]
    r_se = [0.520753894993, 0.584547124587, 0.709357052859, 0.765896495893]
    assert np.log(res["odds_ratio"]).tolist() == pytest.approx(r_coef, rel=1e-7)
    assert res["se"].tolist() == pytest.approx(r_se, rel=1e-7)
    assert res.loc["r_b", "reference"] == "a" and res.loc["x", "reference"] == ""
    # statsmodels: GLM(var_weights = w).fit(cov_type = "HC0"), whose meat lacks the n/(n-1) factor
    x = sm.add_constant(pd.get_dummies(d[["r"]], drop_first=True, dtype=float).assign(x=d["x"]))
    fit = sm.GLM(d["y"], x, family=sm.families.Binomial(), var_weights=d["w"]).fit(cov_type="HC0")
    assert res["se"].tolist() == pytest.approx((fit.bse * np.sqrt(80 / 79)).tolist(), rel=1e-6)
    low = np.exp(np.log(res["odds_ratio"]) - 1.959963984540054 * res["se"])
    assert res["ci_low"].tolist() == pytest.approx(low.tolist())


def test_weighted_logistic_is_not_frequency_weighting():
    d = design_data()
    freq = sm.GLM(d["y"], sm.add_constant(d[["x"]]), family=sm.families.Binomial(), freq_weights=d["w"]).fit()
    ours = weighted_logistic(d, "y", ["x"], "w").set_index("term")
    assert ours.loc["x", "se"] > 1.2 * freq.bse["x"]  # frequency weights pretend sum(w) = 196 respondents


def test_weighted_share_is_inside_its_interval_and_wilson_without_weights():
    values = pd.Series([1, 0, 1, 1, 0, None, 1], dtype="Float64")
    plain = weighted_share(values)
    assert (plain["ci_low"], plain["ci_high"]) == pytest.approx(wilson(4, 6))  # equal weights: Wilson on k/n
    assert plain["n"] == 6 and plain["n_eff"] == pytest.approx(6) and plain["deff"] == pytest.approx(1)
    # the old code rounded k and n_eff before Wilson: with p = 0.5175, n_eff = 2.9 it used 2/3, whose
    # interval can miss the estimate; every weighting here keeps the estimate inside
    rng = np.random.default_rng(7)
    for _ in range(300):
        n = int(rng.integers(2, 12))
        v = pd.Series(rng.integers(0, 2, n))
        w = pd.Series(rng.uniform(0.05, 5, n))
        res = weighted_share(v, w)
        assert res["ci_low"] <= res["estimate"] <= res["ci_high"]
        assert res["estimate"] == pytest.approx((v * w).sum() / w.sum())
        deff, n_eff = kish(w)
        assert res["n_eff"] == pytest.approx(w.sum() ** 2 / (w ** 2).sum()) and res["deff"] == deff


def test_weighted_share_by_hand():
    # p = (1*1 + 3*1) / (1+1+3+3) = 0.5; n_eff = 8^2 / 20 = 3.2; Wilson(0.5, 3.2), z = 1.959964:
    # centre 0.5, half = z sqrt(0.25/3.2 + z^2/(4*3.2^2)) / (1 + z^2/3.2) = 0.3297
    res = weighted_share(pd.Series([1, 0, 1, 0]), pd.Series([1.0, 1.0, 3.0, 3.0]))
    z = 1.959963984540054
    half = z * np.sqrt(0.25 / 3.2 + z * z / (4 * 3.2 ** 2)) / (1 + z * z / 3.2)
    assert res["estimate"] == 0.5 and res["n_eff"] == pytest.approx(3.2)
    assert (res["ci_low"], res["ci_high"]) == pytest.approx((0.5 - half, 0.5 + half))
    legacy = weighted_proportion(pd.Series([1, 0, 1, 0]), pd.Series([1.0, 1.0, 3.0, 3.0]))
    assert legacy["ci_low"] == pytest.approx(res["ci_low"])  # the survey API goes through weighted_share


# --- separation and empty levels --------------------------------------------------------------------------

def test_quasi_complete_separation_raises_instead_of_a_huge_odds_ratio():
    # every x = 1 site has y = 1, x = 0 sites are mixed: the MLE of the x coefficient is +inf
    d = pd.DataFrame({"x": [1] * 10 + [0] * 20, "y": [1] * 10 + [1] * 8 + [0] * 12})
    import warnings

    with warnings.catch_warnings():  # statsmodels alone converges to a meaningless OR of ~6.5e10
        warnings.simplefilter("ignore")
        fit = sm.Logit(d["y"], sm.add_constant(d["x"])).fit(disp=0)
    assert np.exp(fit.params["x"]) > 1e6
    with pytest.raises(SeparationError, match="separated by x"):
        logistic(d, "y", ["x"])
    with pytest.raises(SeparationError):
        weighted_logistic(d.assign(w=1.5), "y", ["x"], "w")


def test_complete_separation_and_overlap():
    d = pd.DataFrame({"x": range(10), "y": [0] * 5 + [1] * 5})
    with pytest.raises(SeparationError):
        logistic(d, "y", ["x"])
    overlap = pd.DataFrame({"x": range(10), "y": [0, 0, 1, 0, 1, 0, 1, 1, 0, 1]})
    assert len(logistic(overlap, "y", ["x"])) == 2  # the MLE exists: no error


def test_an_empty_level_is_not_a_term_and_a_constant_outcome_is_named():
    d = pd.DataFrame({"t": pd.Categorical(["a", "b"] * 20, categories=["a", "b", "none"]),
                      "y": [1, 0, 0, 1, 1, 1, 0, 0] * 5})
    res = logistic(d, "y", ["t"]).set_index("term")
    assert list(res.index) == ["const", "t_b"]  # was a zero column: singular matrix -> "SeparationError"
    # 2x2 [[a: 10 yes, 10 no], [b: 10, 10]]: OR = 1 by hand
    assert res.loc["t_b", "odds_ratio"] == pytest.approx(1.0)
    with pytest.raises(ModelError, match="every one of the 40 rows"):
        logistic(d.assign(y=1), "y", ["t"])
    with pytest.raises(ModelError, match="only the level 'a'"):
        logistic(d[d["t"] == "a"], "y", ["t"])


def survey_frame(n: int = 400) -> pd.DataFrame:
    """SYNTHETIC respondents: specialised platforms control SLA more often; nobody answered 'none'."""
    rng = np.random.default_rng(11)
    tool = rng.choice(["email_spreadsheets", "crm", "specialised_platform", "other"], n, p=[0.35, 0.3, 0.25, 0.1])
    rate = pd.Series(tool).map({"email_spreadsheets": 0.3, "crm": 0.5, "specialised_platform": 0.8, "other": 0.4})
    sla = np.where(rng.random(n) < rate, "yes", "no")
    size = rng.choice(["1-10", "11-50", "51-250", "250+"], n)
    return pd.DataFrame({"tool_type": tool, "sla_control": sla, "company_size": size})


def test_sla_regression_with_an_empty_category_fits():
    frame = survey_frame()
    res = sla_regression(frame).set_index("term")
    assert "tool_type_none" not in res.index and res.loc["tool_type_specialised_platform", "odds_ratio"] > 3
    weighted = sla_regression(frame, weights=np.linspace(0.5, 1.5, len(frame))).set_index("term")
    assert weighted.index.tolist() == res.index.tolist()


def test_tool_vs_sla_weighted_uses_rao_scott_and_the_weighted_odds_ratio():
    frame = survey_frame()
    _, plain = tool_vs_sla(frame)
    assert plain["weighted"] is False
    ones, same = tool_vs_sla(frame, weights=np.ones(len(frame)))
    assert same["weighted"] is True
    n = same["n"]
    assert same["chi2"] == pytest.approx(plain["chi2"] * (n - 1) / n)  # equal weights: Pearson * (n-1)/n
    assert same["odds_ratio"] == pytest.approx(plain["odds_ratio"], rel=1e-8)  # the weighted 2x2 OR = ad/bc
    w = np.where(frame["company_size"] == "250+", 3.0, 1.0)
    shares, weighted = tool_vs_sla(frame, weights=w)
    d = frame.assign(w=w)
    two = d[d["tool_type"].isin(["specialised_platform", "email_spreadsheets"])]
    cell = two.groupby([two["tool_type"], two["sla_control"]])["w"].sum()  # the weighted 2x2 by hand
    odds = (cell["specialised_platform", "yes"] * cell["email_spreadsheets", "no"]
            / (cell["specialised_platform", "no"] * cell["email_spreadsheets", "yes"]))
    assert weighted["odds_ratio"] == pytest.approx(odds, rel=1e-8)
    assert weighted["ci_low"] < odds < weighted["ci_high"]
    row = shares.set_index("tool_type").loc["crm"]
    crm = d[d["tool_type"] == "crm"]
    assert row["controls_sla"] == pytest.approx(crm.loc[crm["sla_control"] == "yes", "w"].sum() / crm["w"].sum())


# --- raking with missing values -------------------------------------------------------------------------

def test_raking_with_missing_values_matches_margins_among_those_who_answered():
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"a": rng.choice(["x", "y"], 200, p=[0.7, 0.3]), "b": rng.choice(["u", "v", "w"], 200)})
    frame["a"] = frame["a"].astype(object)
    frame.loc[[3, 10, 50], "a"] = np.nan  # was: KeyError: nan
    frame.loc[[4, 11], "b"] = None
    margins = {"a": {"x": 0.5, "y": 0.5}, "b": {"u": 0.2, "v": 0.3, "w": 0.5}}
    w = rake(frame, margins)
    assert w.notna().all() and w.mean() == pytest.approx(1.0)
    for var, target in margins.items():
        known = frame[var].notna()
        shares = w[known].groupby(frame.loc[known, var]).sum() / w[known].sum()
        assert shares.to_dict() == pytest.approx(target, abs=1e-8)
    ps = poststratify(frame, "a", margins["a"])
    known = frame["a"].notna()
    assert (ps[known].groupby(frame.loc[known, "a"]).sum() / ps[known].sum()).to_dict() == pytest.approx(
        margins["a"])


def test_cli_summary_says_whether_the_sla_test_is_weighted(tmp_path, monkeypatch):
    from pathlib import Path

    from typer.testing import CliRunner

    from chanaudit.cli import app

    monkeypatch.setenv("COLUMNS", "400")
    runner = CliRunner()
    export = tmp_path / "export.csv"
    assert runner.invoke(app, ["survey", "generate", "--out", str(export), "--n", "300"]).exit_code == 0
    assert runner.invoke(app, ["survey", "import", str(export), "--out", str(tmp_path), "--salt", "s"]).exit_code == 0
    plain = runner.invoke(app, ["survey", "summary", str(tmp_path / "survey.csv"), "--lang", "en"])
    assert plain.exit_code == 0, plain.output
    assert "unweighted: OR with Woolf's interval, Pearson's chi-square" in plain.output
    margins = Path(__file__).parents[1] / "datasets" / "survey" / "population-margins.yaml"
    weighted = runner.invoke(app, ["survey", "summary", str(tmp_path / "survey.csv"), "--margins", str(margins),
                                   "--lang", "en"])
    assert weighted.exit_code == 0, weighted.output
    assert "Rao–Scott chi2" in weighted.output and "weighted: OR and interval" in weighted.output
