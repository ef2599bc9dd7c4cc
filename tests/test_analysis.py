"""Analysis: reference values come from published tables or hand computation (named beside each assert)."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from typer.testing import CliRunner

from chanaudit.analysis.combinations import channel_counts, combinations
from chanaudit.analysis.compare import compare_groups, two_proportion
from chanaudit.analysis.consistency import compatible_counts, feasible_sizes, ranges
from chanaudit.analysis.expr import ExpressionError, evaluate
from chanaudit.analysis.intervals import UnknownMethod, clopper_pearson, proportion_ci, wilson
from chanaudit.analysis.prevalence import prevalence
from chanaudit.analysis.regression import logistic
from chanaudit.analysis.reproduce import reproduce
from chanaudit.analysis.studies import StudySpecError, load_study
from chanaudit.cli import app
from chanaudit.core.tables import write_csv


# --- intervals: Newcombe RG (1998) Stat Med 17:857-872, Table I -------------------
@pytest.mark.parametrize("k,n,wl,wh,el,eh", [
    (81, 263, 0.2553, 0.3662, 0.2527, 0.3676),
    (15, 148, 0.0624, 0.1605, 0.0578, 0.1617),
    (0, 20, 0.0, 0.1611, 0.0, 0.1684),
    (1, 29, 0.0061, 0.1718, 0.0009, 0.1776),
])
def test_intervals_against_newcombe_table_1(k, n, wl, wh, el, eh):
    assert wilson(k, n) == pytest.approx((wl, wh), abs=1e-4)
    assert clopper_pearson(k, n) == pytest.approx((el, eh), abs=1e-4)


def test_interval_method_names():
    assert proportion_ci(81, 263, "clopper-pearson") == clopper_pearson(81, 263)
    with pytest.raises(UnknownMethod, match="wilson"):
        proportion_ci(1, 2, "wald")
    assert all(math.isnan(x) for x in wilson(0, 0))


def test_newcombe_difference():
    # Newcombe (1998) Stat Med 17:873-890, example (a): 56/70 - 48/80, method 10: 0.0524 to 0.3339
    result = two_proportion(56, 70, 48, 80)
    assert result["diff"] == pytest.approx(0.2)
    assert (result["ci_low"], result["ci_high"]) == pytest.approx((0.0524, 0.3339), abs=1e-4)


# --- synthetic audit ------------------------------------------------------------
def audit() -> pd.DataFrame:
    """SYNTHETIC: 10 ok sites + 1 failed; counts chosen by hand."""
    rows = [
        (1, 1, 1, 1, 1, "A"), (1, 1, 1, 1, 0, "A"), (1, 1, 0, 1, 0, "A"), (1, 1, 0, 0, 0, "A"),
        (1, 1, 0, 0, 0, "A"), (1, 0, 0, 0, 0, "B"), (1, 0, 0, 1, 0, "B"), (1, 1, 0, 0, 1, "B"),
        (0, 0, 0, 0, 0, "B"), (1, 1, 0, 0, 0, "B"),
    ]
    frame = pd.DataFrame(rows, columns=["email", "phone", "chat", "form", "portal", "city"])
    frame["status"] = "ok"
    frame["site_id"] = range(1, 11)
    failed = pd.DataFrame([{"site_id": 11, "status": "timeout", "city": "A"}])
    return pd.concat([frame, failed], ignore_index=True)


def test_prevalence_counts_only_ok_sites():
    prev = prevalence(audit()).set_index("channel")
    assert prev.loc["email", ["k", "n"]].tolist() == [9, 10]  # hand: 9 of the 10 ok rows
    assert prev.loc["portal", "estimate"] == pytest.approx(0.2)
    assert prev.loc["email", "label_ru"] == "Эл. почта"
    assert (prev.loc["email", "ci_low"], prev.loc["email", "ci_high"]) == pytest.approx(wilson(9, 10))


def test_channel_counts_and_combinations():
    counts = channel_counts(audit()).set_index(["kind", "n_channels"])
    # hand: channels per ok site = 5,4,3,2,2,1,2,3,0,2
    assert counts.loc[("exactly", 2), "k"] == 4
    assert counts.loc[("at_least", 4), "k"] == 2
    assert counts.loc[("exactly", 0), "k"] == 1
    combos = combinations(audit()).set_index("combination")
    assert combos.loc["email+phone", "k"] == 3
    assert combos.loc["", "size"] == 0
    assert combos["k"].sum() == 10


def test_compare_groups_chi2_by_hand():
    # 2x2 [[10,20],[30,40]]: expected 12,18,28,42; chi2 = 4/12+4/18+4/28+4/42 = 0.7937 (no continuity correction)
    frame = pd.DataFrame({"city": ["X"] * 30 + ["Y"] * 70, "email": [1] * 10 + [0] * 20 + [1] * 30 + [0] * 40,
                          "status": "ok"})
    table, tests = compare_groups(frame, "city", ["email"])
    row = tests.iloc[0]
    assert row["test"] == "chi2" and row["statistic"] == pytest.approx(0.79365, abs=1e-4) and row["dof"] == 1
    assert table.set_index("group").loc["X", "estimate"] == pytest.approx(1 / 3)


def test_compare_groups_uses_fisher_for_small_tables():
    frame = pd.DataFrame({"city": list("AAAABBBB"), "portal": [1, 1, 1, 0, 0, 0, 0, 0], "status": "ok"})
    _, tests = compare_groups(frame, "city", ["portal"])
    # Fisher exact, table [[1,3],[4,0]] (rows A,B; cols 0,1): two-sided p = 0.1429 (hand: hypergeometric, 2*(1/70+... )=10/70)
    assert tests.iloc[0]["test"] == "fisher"
    assert tests.iloc[0]["p_val"] == pytest.approx(0.142857, abs=1e-5)


def test_logistic_matches_2x2_odds_ratio_and_woolf_interval():
    # a=20 exposed cases, b=10 exposed non-cases, c=15, d=30: OR = ad/bc = 600/150 = 4;
    # Woolf: exp(ln4 ± 1.96*sqrt(1/20+1/10+1/15+1/30)) = exp(1.3863 ± 0.9800) = (1.5009, 10.660)
    exposed = [1] * 30 + [0] * 45
    outcome = [1] * 20 + [0] * 10 + [1] * 15 + [0] * 30
    frame = pd.DataFrame({"y": outcome, "x": exposed})
    res = logistic(frame, "y", ["x"]).set_index("term")
    assert res.loc["x", "odds_ratio"] == pytest.approx(4.0, rel=1e-6)
    assert (res.loc["x", "ci_low"], res.loc["x", "ci_high"]) == pytest.approx((1.5009, 10.660), rel=1e-3)
    assert res.loc["x", "n"] == 75


@pytest.mark.parametrize("bad", ["__import__('os')", "email.real", "open('x')", "[email]", "lambda: 1",
                                 "email if phone else chat", "email ** 2"])
def test_expression_language_is_safe(bad):
    with pytest.raises(ExpressionError):
        evaluate(bad, audit())


def test_expression_missing_column():
    with pytest.raises(ExpressionError, match="no column fax"):
        evaluate("fax & email", audit())


def test_reproduce_2016_spec_on_synthetic_audit():
    study = load_study("okdesk-2016-it-outsourcing")
    result = reproduce(audit(), study)
    email = result[result["figure_id"] == "email"].iloc[0]
    assert (email["k"], email["n"]) == (9, 10)
    # 0.96 ± 0.005 vs Wilson(9,10) = 0.5958..0.9821: consistent
    assert email["verdict"] == "consistent" and bool(email["inside"])
    four = result[result["figure_id"] == "four_channels"].set_index("variant")
    assert four.loc["exactly_4", "k"] == 1 and four.loc["at_least_4", "k"] == 2  # hand, see audit()
    chat = result[result["figure_id"] == "chat"].iloc[0]
    assert chat["verdict"] == "no_published_value" and chat["k"] == 2  # hand: rows 1 and 2 have chat
    lack = result[result["figure_id"] == "no_phone_email"].set_index("variant")
    assert lack.loc["lack_both", "k"] == 1 and lack.loc["lack_at_least_one", "k"] == 3


def test_reproduce_verdicts_lower_and_higher():
    frame = pd.DataFrame({"email": [1] * 50 + [0] * 950, "phone": [1] * 990 + [0] * 10, "status": "ok",
                          "chat": 0, "form": 0, "portal": 0})
    result = reproduce(frame, load_study("okdesk-2016-it-outsourcing")).set_index("figure_id")
    assert result.loc["email", "verdict"] == "lower"  # 5% vs 96%
    assert result.loc["phone", "verdict"] == "higher"  # 99% vs 77%


def test_survey_spec_bounds_and_where():
    # SYNTHETIC survey: 10 with digital tools, 2 of them analyse; 4 of 20 control SLA
    frame = pd.DataFrame({
        "record_all_requests": [1] * 11 + [0] * 9, "record_all_activities": [1] * 8 + [0] * 12,
        "sla_control": ["yes"] * 4 + ["no"] * 14 + ["dont_know_term"] * 2,
        "digital_tools": [1] * 10 + [0] * 10, "uses_data_for_analysis": [1, 1] + [0] * 8 + [""] * 10,
    })
    result = reproduce(frame, load_study("okdesk-2026-survey")).set_index("figure_id")
    assert result.loc["analyse_data", ["k", "n"]].tolist() == [2, 10]  # the where: filter is the denominator
    assert result.loc["no_sla_control", "k"] == 16  # hand: 14 no + 2 don't know
    assert result.loc["no_sla_control", "verdict"] == "consistent"  # 80% vs "more than a third"


def test_study_spec_errors(tmp_path):
    with pytest.raises(StudySpecError, match="shipped"):
        load_study("no-such-study")
    bad = tmp_path / "bad.yaml"
    bad.write_text("figures:\n  - id: x\n    expression: __import__('os')\n", encoding="utf-8")
    with pytest.raises(StudySpecError, match="figure x"):
        load_study(bad)


def test_consistency_of_the_2016_figures():
    study = load_study("okdesk-2016-it-outsourcing")
    ids = ["email", "phone", "form", "portal", "four_channels", "all_five"]
    half_up = feasible_sizes(study, 300, 330, ids)
    assert ranges(half_up[half_up["feasible"]]["n"].tolist()) == "306-308, 317-320"
    strict = feasible_sizes(study, 300, 330, ids, ties="exclude")
    assert ranges(strict[strict["feasible"]]["n"].tolist()) == "306-308, 317-319"
    # hand: n=307: 8.8% -> 27/307 = 0.08795 rounds to 0.088; 1.3% -> 4/307 = 0.01303
    assert compatible_counts(0.088, 0.001, 307) == [27] and compatible_counts(0.013, 0.001, 307) == [4]
    # n=320 only by a tie: 28/320 = 0.0875 exactly half-way
    assert compatible_counts(0.088, 0.001, 320) == [28] and compatible_counts(0.088, 0.001, 320, "exclude") == []


def test_cli_analyze_reproduce_check(tmp_path):
    write_csv(audit(), tmp_path / "sites.csv")
    runner = CliRunner()
    res = runner.invoke(app, ["analyze", str(tmp_path), "--by", "city", "--lang", "en"])
    assert res.exit_code == 0, res.output
    for name in ("prevalence.csv", "channel_counts.csv", "combinations.csv", "groups-city.csv"):
        assert (tmp_path / name).exists()
    res = runner.invoke(app, ["reproduce", str(tmp_path), "--study", "okdesk-2016-it-outsourcing"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "reproduce-okdesk-2016-it-outsourcing.csv").exists()
    res = runner.invoke(app, ["check-published", "--n-min", "300", "--n-max", "320", "--figure", "email"])
    assert res.exit_code == 0 and "feasible n" in res.output
    bad = runner.invoke(app, ["reproduce", str(tmp_path), "--study", "nope"])
    assert bad.exit_code == 2 and "no such spec" in bad.output


# --- verdict labels and folded group comparisons -------------------------------------

def test_reproduce_labels_every_verdict_in_both_languages():
    from chanaudit.analysis.reproduce import VERDICT_LABELS

    result = reproduce(audit(), load_study("okdesk-2016-it-outsourcing")).set_index("figure_id")
    assert result.loc["email", "verdict"] == "consistent"  # the codes stay the contract
    assert result.loc["email", "verdict_label_ru"] == "согласуется"
    assert result.loc["chat", "verdict_label_en"] == "no published value"
    assert result.loc["chat", "verdict_label_ru"] == "нет опубликованного значения"
    frame = pd.DataFrame({"email": [1] * 50 + [0] * 950, "phone": [1] * 990 + [0] * 10, "status": "ok",
                          "chat": 0, "form": 0, "portal": 0})
    off = reproduce(frame, load_study("okdesk-2016-it-outsourcing")).set_index("figure_id")
    assert off.loc["email", ["verdict", "verdict_label_ru", "verdict_label_en"]].tolist() == [
        "lower", "ниже опубликованного", "lower than published"]
    assert off.loc["phone", "verdict_label_ru"] == "выше опубликованного"
    empty = reproduce(audit().assign(status="timeout"), load_study("okdesk-2016-it-outsourcing"))
    assert set(empty["verdict"]) == {"not_computable"}  # no audited site: n = 0 everywhere
    assert set(empty["verdict_label_en"]) == {"not computable (no data)"}
    for code, labels in VERDICT_LABELS.items():  # no label is just the code again
        assert labels["ru"] != code and labels["en"] and set(labels) == {"ru", "en"}


def cities() -> pd.DataFrame:
    """SYNTHETIC: X has 12 audited sites (email on 6), Y 3 (email on 3), Z 2 (email on 0), W 1 (email on 1);
    one failed site in W does not count."""
    groups = [("X", 12, 6), ("Y", 3, 3), ("Z", 2, 0), ("W", 1, 1)]
    rows = [{"city": c, "email": int(i < k), "phone": 1, "chat": 0, "form": 0, "portal": 0, "status": "ok"}
            for c, n, k in groups for i in range(n)]
    rows.append({"city": "W", "email": 1, "phone": 1, "chat": 0, "form": 0, "portal": 0, "status": "timeout"})
    return pd.DataFrame(rows)


def test_grouped_comparison_folds_small_groups_into_other():
    from chanaudit.analysis.compare import fold_small_groups, grouped_comparison

    folded, small = fold_small_groups(cities(), "city", min_n=10)
    assert small == ["W", "Y", "Z"]
    assert set(folded.loc[folded["status"] == "ok", "city"]) == {"X", "other"}
    table, tests = grouped_comparison(cities(), "city", ["email"], min_n=10)
    rows = table.set_index("group")
    assert rows.loc["other", ["k", "n", "members"]].tolist() == [4, 6, 3]  # hand: 3 + 0 + 1 of 3 + 2 + 1
    assert rows.loc["X", ["k", "n", "members"]].tolist() == [6, 12, 1]
    assert (rows.loc["other", "ci_low"], rows.loc["other", "ci_high"]) == pytest.approx(wilson(4, 6))
    assert tests.iloc[0]["n"] == 18  # the test runs on the folded 2-row table
    kept, _ = grouped_comparison(cities(), "city", ["email"], min_n=1)
    assert set(kept["group"]) == {"X", "Y", "Z", "W"} and set(kept["members"]) == {1}
    one_small = cities()[cities()["city"].isin(["X", "Y"])]  # a single small group is left as it is
    table, _ = grouped_comparison(one_small, "city", ["email"], min_n=10)
    assert set(table["group"]) == {"X", "Y"}
    all_small = cities()[cities()["city"] != "X"]  # and so are groups that are all small
    table, _ = grouped_comparison(all_small, "city", ["email"], min_n=10)
    assert set(table["group"]) == {"Y", "Z", "W"}


def test_cli_reproduce_and_analyze_speak_words_not_codes(tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "160")  # rich reads it: a wide terminal, no word wrapped
    write_csv(audit(), tmp_path / "sites.csv")
    runner = CliRunner()
    res = runner.invoke(app, ["reproduce", str(tmp_path), "--lang", "ru"])
    assert res.exit_code == 0, res.output
    assert "согласуется" in res.output and "опубликованного" in res.output
    for code in ("no_published_value", "consistent", "not_computable"):
        assert code not in res.output
    saved = pd.read_csv(tmp_path / "reproduce-okdesk-2016-it-outsourcing.csv")
    assert {"verdict", "verdict_label_en", "verdict_label_ru"} <= set(saved.columns)
    res = runner.invoke(app, ["reproduce", str(tmp_path), "--lang", "de"])
    assert res.exit_code == 2 and "ru or en" in res.output
    res = runner.invoke(app, ["analyze", str(tmp_path), "--by", "city", "--min-group-n", "6"])
    assert res.exit_code == 0, res.output
    groups = pd.read_csv(tmp_path / "groups-city.csv")
    assert set(groups["group"]) == {"A", "B"}  # 5 and 5 audited sites: all small, nothing to fold into
    write_csv(cities(), tmp_path / "sites.csv")
    res = runner.invoke(app, ["analyze", str(tmp_path), "--by", "city", "--lang", "en"])
    assert res.exit_code == 0, res.output
    assert "3 groups with fewer than 10 sites folded" in res.output
    assert set(pd.read_csv(tmp_path / "groups-city.csv")["group"]) == {"X", "other"}


def test_demo_reproduce_table_follows_the_language(monkeypatch):
    from rich.console import Console

    import chanaudit.commands.demo as demo_cmd

    rep = reproduce(audit(), load_study("okdesk-2016-it-outsourcing"))
    for lang, words, foreign in (("ru", ["показатель", "вывод", "нет опубликованного значения", "согласуется"],
                                  ["figure", "verdict", "no published"]),
                                 ("en", ["figure", "verdict", "no published value", "consistent"],
                                  ["показатель", "вывод", "согласуется"])):
        out = Console(record=True, width=160)
        monkeypatch.setattr(demo_cmd, "console", out)
        demo_cmd._print_reproduce(rep, lang)
        shown = out.export_text()
        assert all(w in shown for w in words), shown
        assert not any(w in shown for w in foreign), shown
        assert "no_published" not in shown and "…" not in shown  # no code, nothing truncated


# --- the stage: chanaudit.analysis.run and reproduce_study --------------------------

def test_analysis_stage_writes_every_table(tmp_path):
    from chanaudit import analysis
    from chanaudit.analysis.compare import UnknownColumn
    from chanaudit.core.errors import InvalidOption
    from chanaudit.core.folder import AuditFolder, NotAnAuditFolder

    write_csv(audit(), tmp_path / "sites.csv")
    tables = analysis.run(tmp_path, by=["city"], min_group_n=1)
    assert list(tables) == ["flow", "prevalence", "channel_counts", "combinations", "groups-city",
                            "groups-city-tests"]  # flow: the base of every share (issue 13)
    folder = AuditFolder(tmp_path)
    for name, table in tables.items():
        assert len(folder.read(name)) == len(table)
    groups = tables["groups-city"].set_index(["group", "channel"])
    assert groups.loc[("A", "email"), ["k", "n"]].tolist() == [5, 5]  # hand: city A, 5 ok sites, all with email
    assert tables["prevalence"].set_index("channel").loc["email", "k"] == 9
    exact = analysis.run(folder, method="clopper-pearson")["prevalence"].set_index("channel")
    assert (exact.loc["email", "ci_low"], exact.loc["email", "ci_high"]) == pytest.approx(clopper_pearson(9, 10))
    before = {p.name: p.stat().st_mtime_ns for p in tmp_path.iterdir()}
    with pytest.raises(UnknownColumn, match=r"sites.csv: no column 'segment' to group by \(columns: .*city"):
        analysis.run(folder, by=["city", "segment"])
    with pytest.raises(UnknownMethod):
        analysis.run(folder, method="wald")
    with pytest.raises(InvalidOption, match="conf must be between 0 and 1"):
        analysis.run(folder, conf=95)
    assert {p.name: p.stat().st_mtime_ns for p in tmp_path.iterdir()} == before  # checked before writing
    with pytest.raises(NotAnAuditFolder):
        analysis.run(tmp_path / "nope")


def test_reproduce_study_on_an_audit_and_on_a_csv(tmp_path):
    from chanaudit import analysis
    from chanaudit.core.tables import TableError

    write_csv(audit(), tmp_path / "sites.csv")
    done = analysis.reproduce_study(tmp_path)
    assert done.study.id == "okdesk-2016-it-outsourcing"
    assert done.path == tmp_path / "reproduce-okdesk-2016-it-outsourcing.csv" and done.path.exists()
    assert done.table.set_index("figure_id").loc["email", ["k", "n"]].tolist() == [9, 10]
    survey = tmp_path / "answers" / "survey.csv"
    write_csv(pd.DataFrame({"record_all_requests": [1, 0, 1, 1], "record_all_activities": [1, 0, 0, 0],
                            "sla_control": ["yes", "no", "yes", "dont_know_term"], "digital_tools": [1, 1, 0, 0],
                            "uses_data_for_analysis": [1, 0, "", ""]}), survey)
    other = tmp_path / "elsewhere"
    done = analysis.reproduce_study(survey, "okdesk-2026-survey", out=other)
    assert done.path == other / "reproduce-okdesk-2026-survey.csv"
    assert done.table.set_index("figure_id").loc["record_all_requests", ["k", "n"]].tolist() == [3, 4]
    with pytest.raises(TableError, match="nope.csv: no such file"):
        analysis.reproduce_study(tmp_path / "nope.csv")


def test_cli_analyze_by_an_unknown_column_names_it(tmp_path):
    write_csv(audit(), tmp_path / "sites.csv")
    res = CliRunner().invoke(app, ["analyze", str(tmp_path), "--by", "nosuchcol"])
    assert res.exit_code == 2, res.output
    assert "no column 'nosuchcol' to group by" in res.output and "Traceback" not in res.output
    res = CliRunner().invoke(app, ["reproduce", str(tmp_path / "none.csv")])
    assert res.exit_code == 2 and "none.csv: no such file" in res.output
