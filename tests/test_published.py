"""Published figures: intervals and tests, the two-sample comparison, rounding conventions, relations, the spec
language. Every expected value comes from an independent reference named beside the assert."""

from __future__ import annotations

import math

import pytest
from scipy.stats import chi2_contingency
from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest

from chanaudit.analysis.intervals import (
    InvalidCount,
    newcombe_difference,
    proportion_ci,
    score_test,
)

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


# --- rounding conventions: exact enumeration with Python's decimal module as the reference -------------------

def _rounds_to(k: int, n: int, p: str, r: str, mode: str) -> bool:
    from decimal import Decimal, localcontext

    with localcontext() as ctx:
        ctx.prec = 60
        return (Decimal(k) / Decimal(n)).quantize(Decimal(r), rounding=mode) == Decimal(p)


@pytest.mark.parametrize("p,r", [("0.088", "0.001"), ("0.013", "0.001"), ("0.25", "0.01"), ("0.75", "0.01"),
                                 ("0.5", "0.1"), ("0.96", "0.01")])
def test_rounding_conventions_against_decimal_enumeration(p, r):
    from decimal import ROUND_DOWN, ROUND_HALF_DOWN, ROUND_HALF_EVEN, ROUND_HALF_UP

    from chanaudit.analysis.rounding import compatible_counts

    for n in list(range(1, 60)) + list(range(290, 420)):
        # every k whose share is within one rounding step of p (no k further away prints as p, any rule)
        ks = range(max(0, int((float(p) - float(r)) * n) - 1), min(n, int((float(p) + float(r)) * n) + 2) + 1)
        ref = {  # decimal.quantize: an independent implementation of each rounding rule
            "half_up": [k for k in ks if _rounds_to(k, n, p, r, ROUND_HALF_UP)],
            "half_even": [k for k in ks if _rounds_to(k, n, p, r, ROUND_HALF_EVEN)],
            "floor": [k for k in ks if _rounds_to(k, n, p, r, ROUND_DOWN)],
            "ties_excluded": [k for k in ks if all(_rounds_to(k, n, p, r, m)
                                                   for m in (ROUND_HALF_UP, ROUND_HALF_DOWN, ROUND_HALF_EVEN))],
        }
        for convention, expected in ref.items():
            assert compatible_counts(float(p), float(r), n, convention) == expected, (n, convention)


def test_rounding_convention_names_are_honest():
    from chanaudit.analysis.rounding import CONVENTIONS, UnknownConvention, compatible_counts

    assert list(CONVENTIONS) == ["half_up", "half_even", "floor", "ties_excluded"]
    # 28/320 = 0.0875, a tie: half-up and half-even (8 is even) print it as 8.8%, ties-excluded does not
    # (hand); the old label "half-even / truncation" for excluding ties was wrong on both counts
    assert compatible_counts(0.088, 0.001, 320, "half_up") == [28]
    assert compatible_counts(0.088, 0.001, 320, "half_even") == [28]
    assert compatible_counts(0.088, 0.001, 320, "ties_excluded") == []
    assert compatible_counts(0.088, 0.001, 320, "floor") == []  # hand: truncation needs 0.088 <= x < 0.089
    assert compatible_counts(0.013, 0.001, 320, "half_even") == []  # hand: 4/320 = 0.0125 goes to 0.012
    assert compatible_counts(0.088, 0.001, 320, "exclude") == []  # the old name still works
    with pytest.raises(UnknownConvention, match="half_up"):
        compatible_counts(0.5, 0.1, 10, "round")


def test_about_and_bound_ranges():
    from fractions import Fraction

    from chanaudit.analysis.rounding import compatible_counts

    # hand: about 46% +- 1 point of 200 is 0.45*200 = 90 .. 0.47*200 = 94, both ends included
    assert compatible_counts(0.46, None, 200, tolerance=0.01) == [90, 91, 92, 93, 94]
    # hand: more than a third of 9 is 4..9 (3/9 is not more than a third)
    assert compatible_counts(Fraction(1, 3), None, 9, bound=">") == [4, 5, 6, 7, 8, 9]
    assert compatible_counts(0.4, None, 10, bound=">=") == list(range(4, 11))


# --- relations -----------------------------------------------------------------------------------------------

def test_relation_language():
    from chanaudit.analysis.relations import RelationError, holds_on_counts, parse_relation

    rel = parse_relation("both >= email + phone - 1")
    assert rel.figures == {"both", "email", "phone"} and rel.op == ">="
    # hand: at n = 300, 225 >= 288 + 231 - 300 = 219
    assert holds_on_counts(rel, {"both": 225, "email": 288, "phone": 231}, 300)
    assert not holds_on_counts(rel, {"both": 218, "email": 288, "phone": 231}, 300)
    assert holds_on_counts(parse_relation("2 * a <= max(b, c) + 0.5"), {"a": 3, "b": 1, "c": 2}, 10)  # 6 <= 7
    for bad in ("a * b <= 1", "a <= b <= c", "a", "abs(a) <= 1", "a.b <= 1", "a <= 'x'", "a ** 2 <= 1",
                "min(a) <= 1", "", "x" * 600):
        with pytest.raises(RelationError):
            parse_relation(bad)


def test_relation_shortcut_matches_exhaustive_search():
    """relation_holds uses interval arithmetic at the corners for single-use inequalities: compare it with the
    exhaustive search over every combination of counts (the reference)."""
    import itertools
    import random

    from chanaudit.analysis.consistency import relation_holds
    from chanaudit.analysis.relations import holds_on_counts, parse_relation

    rng = random.Random(14)
    texts = ["a <= min(b, c)", "a >= b + c - 1", "a <= 1 - max(b, c)", "a + b < c", "2 * a - b > 0.25",
             "max(a, b) - c >= 0.1", "a == 1 - b", "a - a + b <= c"]
    for _ in range(400):
        n = rng.randint(5, 40)
        counts = {}
        for f in "abc":
            lo = rng.randint(0, n)
            counts[f] = list(range(lo, min(n, lo + rng.randint(0, 4)) + 1))
        for text in texts:
            rel = parse_relation(text)
            names = sorted(rel.figures)
            exhaustive = any(holds_on_counts(rel, dict(zip(names, combo, strict=True)), n)
                             for combo in itertools.product(*(counts[f] for f in names)))
            assert relation_holds(rel, counts, n) == exhaustive, (text, n, counts)


# --- check-published on the shipped 2016 spec ---------------------------------------------------------------

def test_lack_both_reading_is_impossible_for_every_n():
    from chanaudit.analysis.consistency import impossible_readings, relation_table
    from chanaudit.analysis.studies import load_study

    study = load_study("okdesk-2016-it-outsourcing")
    for convention in ("half_up", "half_even", "floor", "ties_excluded"):
        rels = relation_table(study, 100, 1000, convention=convention).set_index("relation_id")
        lack = rels.loc["lack_both_at_most_lack_each"]
        # hand: lacking both <= 1 - max(email, phone) <= 1 - 0.955 = 4.5% < 24.5%, whatever n
        assert not lack["possible"] and lack["n_failing"] == lack["n_checked"] > 0
        assert rels.loc["both_at_most_each", "n_failing"] == 0  # hand: 75% <= min(96%, 77%)
        assert rels.loc["both_at_least_frechet", "n_failing"] == 0  # hand: 75% >= 96% + 77% - 100% = 73%
        assert impossible_readings(rels.reset_index()) == ["no_phone_email.lack_both"]
    rels = relation_table(study, 300, 330).set_index("relation_id")
    assert rels.loc["lack_one_is_complement_of_both", "n_failing"] == 0  # hand: 25% + 75% = 100%
    # under truncation the complement needs x = 25% and y = 75% exactly: n divisible by 4 (hand)
    trunc = relation_table(study, 300, 330, convention="floor").set_index("relation_id")
    assert trunc.loc["lack_one_is_complement_of_both", "holds_at"] == "300, 304, 308, 312, 316, 320, 324, 328"


def test_feasible_sizes_under_each_convention():
    from chanaudit.analysis.consistency import feasible_sizes, ranges
    from chanaudit.analysis.studies import load_study

    study = load_study("okdesk-2016-it-outsourcing")
    ids = ["email", "phone", "form", "portal", "four_channels", "all_five"]
    got = {c: ranges(t[t["feasible"]]["n"].tolist()) for c in ("half_up", "half_even", "floor", "ties_excluded")
           for t in [feasible_sizes(study, 300, 330, ids, convention=c)]}
    # reference: test_rounding_conventions_against_decimal_enumeration validates each figure's counts; by
    # hand at n = 320: 28/320 = 0.0875 is a tie (8.8% under half-up and half-even) and 4/320 = 0.0125 is a
    # tie that half-even sends to 1.2%, so 320 is feasible under half-up only
    assert got == {"half_up": "306-308, 317-320", "half_even": "306-308, 317-319", "floor": "304-306",
                   "ties_excluded": "306-308, 317-319"}
    # the count "about 30" (25..35) and the relations keep every figure: all of them, 100..1000
    every = feasible_sizes(study, 100, 1000)
    assert ranges(every[every["feasible"]]["n"].tolist()) == "297, 306-308, 317-320, 373-377, 385-388, 396-400"
    # hand: at n = 401, 8.8% is 35.2..35.5 -> 35 (in 25..35); at 402 it is 35.3..35.6 -> none; 412: 36 > 35
    assert every.set_index("n").loc[412, "four_channels"] == ""


def test_subgroup_figures_use_subgroup_denominators(tmp_path):
    from chanaudit.analysis.consistency import feasible_sizes
    from chanaudit.analysis.studies import load_study

    spec = tmp_path / "sub.yaml"
    spec.write_text(
        "n: 30\nfigures:\n"
        "  - {id: tools, expression: tools == 1, published: 0.1, rounding: 0.01}\n"
        "  - {id: analyse, expression: analyse == 1, where: tools == 1, base: tools, published: 0.5,"
        " rounding: 0.01}\n", encoding="utf-8")
    table = feasible_sizes(load_study(spec), 30, 30).set_index("n")
    # hand: 10% of 30 with half-up rounding allows only m = 3 tools users; 50% of 3 is impossible (1/3, 2/3),
    # though 15/30 would pass a check against the full n
    assert table.loc[30, "tools"] == "3" and table.loc[30, "analyse"] == "" and not table.loc[30, "feasible"]
    table = feasible_sizes(load_study(spec), 40, 40).set_index("n")
    # hand: at n = 40, m = 4 (0.095*40 = 3.8 .. 0.105*40 = 4.2); 2/4 = 50%
    assert table.loc[40, "analyse"] == "m 4" and table.loc[40, "feasible"]


def test_unknown_figure_is_a_named_error():
    from chanaudit.analysis.consistency import UnknownFigure, feasible_sizes
    from chanaudit.analysis.studies import load_study

    study = load_study("okdesk-2016-it-outsourcing")
    with pytest.raises(UnknownFigure, match="no figure nope .*email, phone"):
        feasible_sizes(study, 300, 310, ["email", "nope"])
    with pytest.raises(UnknownFigure, match="figure chat has no rounded value"):
        feasible_sizes(study, 300, 310, ["chat"])


def test_cli_check_published_says_what_fails(tmp_path):
    from typer.testing import CliRunner

    from chanaudit.cli import app

    runner = CliRunner()
    res = runner.invoke(app, ["check-published", "--n-min", "300", "--n-max", "330"])
    assert res.exit_code == 0, res.output
    for text in ("half-up rounding", "half-even rounding", "truncation", "ties excluded", "306-308, 317-320",
                 "lack_both_at_most_lack_each", "IMPOSSIBLE for every n", "the reading 'lack both' of no_phone_email"):
        assert text in res.output, text
    bad = runner.invoke(app, ["check-published", "--figure", "emial"])
    assert bad.exit_code == 2 and "no figure emial" in bad.output and "email" in bad.output
    res = runner.invoke(app, ["check-published", "okdesk-2026-survey", "--n-min", "200", "--n-max", "400"])
    assert res.exit_code == 0 and "subgroup figure analyse_data" in res.output


# --- the spec language: strict validation -------------------------------------------------------------------

BASE = "figures:\n  - id: email\n    expression: email\n    published: 0.96\n    rounding: 0.01\n"


@pytest.mark.parametrize("name,text,message", [
    ("deep_list", "figures: " + "[" * 20000 + "]" * 20000, "nested too deeply"),  # RecursionError before
    ("deep_map", "figures: " + "{a: " * 5000 + "1" + "}" * 5000, "nested too deeply"),
    ("top_list", "- 1\n- 2\n", "top level must be a mapping"),  # AttributeError before
    ("empty", "", "empty spec"),  # AttributeError before
    ("figures_str", "figures: abc\n", "figures: must be a non-empty list"),  # AttributeError before
    ("figures_ints", "figures: [1, 2]\n", "figure 1: must be a mapping"),  # TypeError before
    ("id_list", "figures:\n  - id: [1]\n    expression: email\n", "figure 1: id: missing or not text"),
    ("published_text", BASE.replace("0.96", '"96%"'), "figure email: published: must be a number, not '96%'"),
    ("published_percent", BASE.replace("0.96", "96"), r"figure email: published: 96 is outside .*0.96, not 96"),
    ("published_bool", BASE.replace("0.96", "yes"), "figure email: published: must be a number"),
    ("rounding_negative", BASE.replace("0.01", "-1"), "figure email: rounding: -1 is outside"),
    ("not_multiple", BASE.replace("0.96", "0.965"), "published 0.965 is not a multiple of rounding 0.01"),
    ("bound", BASE + "    bound: '~'\n", "figure email: bound: must be one of"),
    ("variants_map", "figures:\n  - id: x\n    variants: {a: 1}\n", "figure x: variants: must be a non-empty list"),
    ("variants_str", "figures:\n  - id: x\n    variants: [email]\n", "figure x: variant 1: must be a mapping"),
    ("variant_no_expression", "figures:\n  - id: x\n    variants: [{id: a}]\n", "figure x: variant a: expression"),
    ("n_range_reversed", "n_range: [330, 300]\n" + BASE, "n_range: low 330 is above high 300"),
    ("n_text", "n: '300'\n" + BASE, "n: must be a whole number"),
    ("n_twice", "n: 300\nn_range: [300, 330]\n" + BASE, "give n or n_range, not both"),
    ("count_about", BASE + "    count: {value: 30, about: true}\n", "figure email: count: about: true needs"),
    ("count_negative", BASE + "    count: -3\n", "figure email: count: -3 is below 0"),
    ("direction_str", "figures:\n  - id: d\n    expression: e\n    direction: x\n", "figure d: direction: must be"),
    ("direction_published", "figures:\n  - id: d\n    expression: e\n    published: 0.5\n"
                            "    direction: {greater: a == 1, than: a == 0}\n", "figure d: direction: a directional"),
    ("relation_unknown", BASE + "relations: [{check: email <= fax}]\n", "relation 1: check: 'fax' is not a figure"),
    ("relation_reading", BASE + "relations: [{check: email <= 1, reading: email.x}]\n", "reading: 'email.x'"),
    ("relation_nonlinear", BASE + "relations: ['email * email <= 1']\n", "relations are linear"),
    ("relation_type", BASE + "relations: [[1]]\n", "relation 1: must be a mapping"),
    ("duplicate_key", BASE + "    published: 0.5\n", "key 'published' given twice"),
    ("unknown_key", BASE + "    rouding: 0.01\n", "figure email: unknown field rouding"),
    ("python_tag", "figures: !!python/object/apply:os.system ['echo hi']\n", "not valid YAML"),
    ("base_unknown", BASE + "  - {id: sub, expression: email, where: phone == 1, base: nope}\n",
     "figure sub: base: 'nope' is not another figure"),
    ("tolerance_alone", BASE + "    tolerance: 0.02\n", "figure email: tolerance: only an about: true figure"),
    ("data_kind", "data: sql\n" + BASE, "data: must be audit or survey"),
    ("rounding_mode", BASE + "    rounding_mode: up\n", "figure email: rounding_mode: 'up' is not one of"),
    ("expression_deep", "figures:\n  - id: x\n    expression: '" + "~" * 500 + "email'\n",
     "figure x: expression: .*nested more than"),
    ("figure_twice", BASE + BASE.replace("figures:\n", ""), "figure email: id: given to two figures"),
    ("label_list", BASE + "    label_en: [a]\n", "figure email: label_en: must be text"),
    ("key_int", BASE + "    1: 2\n", "figure email: unknown field 1"),
    ("billion_laughs", "a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
                       "figures: [*b, *b, *b]\n", "unknown field a, b"),
])
def test_malformed_specs_are_named_errors(tmp_path, name, text, message):
    from chanaudit.analysis.studies import StudySpecError, load_study

    path = tmp_path / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(StudySpecError, match=message) as info:
        load_study(path)
    assert str(info.value).startswith(str(path))  # every message names the file first


def test_unreadable_specs_are_named_errors(tmp_path):
    from chanaudit.analysis.studies import MAX_SPEC_BYTES, StudySpecError, load_study

    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(StudySpecError, match="not UTF-8"):
        load_study(binary)
    big = tmp_path / "big.yaml"
    big.write_text("#" * (MAX_SPEC_BYTES + 1), encoding="utf-8")
    with pytest.raises(StudySpecError, match="at most"):
        load_study(big)
    with pytest.raises(StudySpecError, match="no such spec"):
        load_study(tmp_path)  # a folder is not a spec


def test_shipped_specs_use_the_spec_language():
    from chanaudit.analysis.studies import load_study

    s16 = load_study("okdesk-2016-it-outsourcing")
    assert s16.n_range == (300, 330)
    four = s16.figure("four_channels")
    assert (four.count.value, four.count.about, four.count.tolerance) == (30, True, 5)
    assert [r.id for r in s16.relations if r.reading == ("no_phone_email", "lack_both")] == [
        "lack_both_at_most_lack_each"]
    s26 = load_study("okdesk-2026-survey")
    assert s26.n_range == (200, 999) and s26.figure("analyse_data").base == "digital_tools"
    assert s26.figure("not_record_all_requests").about and s26.figure("not_record_all_requests").tolerance == 0.01


# --- published vs reproduced: the two-sample comparison ------------------------------------------------------

def _spec(tmp_path, text: str):
    from chanaudit.analysis.studies import load_study

    path = tmp_path / "spec.yaml"
    path.write_text(text, encoding="utf-8")
    return load_study(path)


def _flags(k: int, n: int, column: str = "x"):
    import pandas as pd

    return pd.DataFrame({column: [1] * k + [0] * (n - k)})


def test_two_sample_matches_newcombe_example_a(tmp_path):
    from chanaudit.analysis.reproduce import reproduce

    # the study: 48 of 80 published as 60.0% (rounding 0.001 allows only 48/80); ours: 56 of 70
    study = _spec(tmp_path, "data: survey\nn: 80\nfigures:\n"
                            "  - {id: x, expression: x == 1, published: 0.6, rounding: 0.001}\n")
    row = reproduce(_flags(56, 70), study).iloc[0]
    assert row["comparison"] == "two_sample" and (row["published_n"], row["published_k"]) == (80, 48)
    assert row["diff"] == pytest.approx(0.2)
    # Newcombe (1998) Table II, example (a), method 10: 0.0524 to 0.3339
    assert (row["diff_ci_low"], row["diff_ci_high"]) == pytest.approx((0.0524, 0.3339), abs=5e-5)
    _, p_ref, _, _ = chi2_contingency([[56, 14], [48, 32]], correction=False)  # scipy
    assert row["p_val"] == pytest.approx(p_ref, rel=1e-9)
    assert row["verdict"] == "higher" and row["verdict_label_en"] == "higher than published"
    assert row["verdict_one_sample"] == "higher"  # the old rule agrees here: 80% vs 60.0%


def test_two_sample_interval_covers_every_count_the_rounding_allows(tmp_path):
    from chanaudit.analysis.reproduce import reproduce

    study = _spec(tmp_path, "data: survey\nn_range: [300, 330]\nfigures:\n"
                            "  - {id: x, expression: x == 1, published: 0.21, rounding: 0.01}\n")
    row = reproduce(_flags(80, 300), study).iloc[0]
    # hand: 21% of n = 300 (the smallest n of the range) is 62, 63 or 64 sites (0.205*300 = 61.5 .. 64.5)
    assert (row["published_n"], row["published_k"], row["published_n_range"]) == (300, 63, "300-330")
    refs = [confint_proportions_2indep(80, 300, kp, 300, method="newcomb", compare="diff") for kp in (62, 63, 64)]
    assert row["diff_ci_low"] == pytest.approx(min(r[0] for r in refs), abs=1e-9)  # statsmodels, union
    assert row["diff_ci_high"] == pytest.approx(max(r[1] for r in refs), abs=1e-9)
    assert row["diff"] == pytest.approx(80 / 300 - 63 / 300)
    p_max = max(chi2_contingency([[80, 220], [kp, 300 - kp]], correction=False)[1] for kp in (62, 63, 64))
    assert row["p_val"] == pytest.approx(p_max, rel=1e-9)  # scipy, the least significant allowed count


def test_one_sample_rule_only_when_n_is_unknown(tmp_path):
    from chanaudit.analysis.reproduce import reproduce

    study = _spec(tmp_path, "data: survey\nfigures:\n"
                            "  - {id: x, expression: x == 1, published: 0.21, rounding: 0.01}\n")
    row = reproduce(_flags(80, 300), study).iloc[0]
    assert row["comparison"] == "one_sample" and math.isnan(row["diff"]) and row["p_val"] != row["p_val"]
    # hand: Wilson(80, 300) = 0.2192..0.3200 misses 0.205..0.215: the one-sample rule says higher
    assert row["verdict"] == row["verdict_one_sample"] == "higher" and not row["inside"]


def test_holm_and_equivalence(tmp_path):
    from statsmodels.stats.multitest import multipletests

    from chanaudit.analysis.published import equivalent, holm
    from chanaudit.analysis.reproduce import reproduce

    p = [0.01, 0.04, float("nan"), 0.03, 0.2]
    expected = multipletests([0.01, 0.04, 0.03, 0.2], method="holm")[1]  # statsmodels
    got = holm(p)
    assert [got[i] for i in (0, 1, 3, 4)] == pytest.approx(list(expected)) and math.isnan(got[2])
    assert equivalent(-0.03, 0.04, 0.05) is True and equivalent(-0.06, 0.01, 0.05) is False
    assert equivalent(-0.03, 0.04, None) is None
    import pandas as pd

    study = _spec(tmp_path, "data: survey\nn: 300\nfigures:\n"
                            "  - {id: a, expression: a == 1, published: 0.21, rounding: 0.01}\n"
                            "  - {id: b, expression: b == 1, published: 0.5, rounding: 0.01}\n")
    frame = pd.DataFrame({"a": [1] * 70 + [0] * 230, "b": [1] * 120 + [0] * 180})
    table = reproduce(frame, study, equivalence_margin=0.1)
    assert table["p_holm"].tolist() == pytest.approx(list(multipletests(table["p_val"], method="holm")[1]))
    hand = [bool(-0.1 < lo and hi < 0.1) for lo, hi in zip(table["diff_ci_low"], table["diff_ci_high"], strict=True)]
    assert table["equivalent"].tolist() == hand == [True, False]  # hand: a +2.3 pp, b -10 pp from published
    with pytest.raises(ValueError, match="equivalence margin"):
        reproduce(frame, study, equivalence_margin=5)


def test_directional_figure(tmp_path):
    import pandas as pd

    from chanaudit.analysis.reproduce import reproduce

    study = _spec(tmp_path, "data: survey\nfigures:\n"
                            "  - id: d\n    expression: sla == 'yes'\n"
                            "    direction: {greater: tool == 'platform', than: tool == 'email'}\n"
                            "    published_text: far more often\n")

    def frame(k_a, k_b):
        return pd.DataFrame({"tool": ["platform"] * 10 + ["email"] * 10 + ["crm"] * 5,
                             "sla": ["yes"] * k_a + ["no"] * (10 - k_a) + ["yes"] * k_b + ["no"] * (10 - k_b)
                             + ["yes"] * 5})

    row = reproduce(frame(9, 3), study).iloc[0]
    assert row["comparison"] == "direction" and (row["k"], row["n"], row["k_b"], row["n_b"]) == (9, 10, 3, 10)
    # Newcombe (1998) Table II, example (b): 9/10 - 3/10, method 10: 0.1705 to 0.8090
    assert (row["diff_ci_low"], row["diff_ci_high"]) == pytest.approx((0.1705, 0.8090), abs=5e-5)
    assert row["verdict"] == "agrees"
    assert reproduce(frame(3, 9), study).iloc[0]["verdict"] == "disagrees"
    assert reproduce(frame(5, 4), study).iloc[0]["verdict"] == "inconclusive"
    overlapping = _spec(tmp_path, "data: survey\nfigures:\n  - id: d\n    expression: sla == 'yes'\n"
                                  "    direction: {greater: tool != 'crm', than: tool == 'email'}\n")
    from chanaudit.analysis.expr import ExpressionError

    with pytest.raises(ExpressionError, match="overlap on 10 rows"):
        reproduce(frame(9, 3), overlapping)


def _evidence_sites():
    """SYNTHETIC: 6 audited sites; forms: 1 request, 2 callback only, 3 both, 4 none, 5 an embed,
    6 flagged but with its only finding not counted."""
    import pandas as pd

    sites = pd.DataFrame({"site_id": range(1, 7), "status": "ok", "email": 1, "phone": 1, "chat": 0,
                          "portal": 0, "form": [1, 1, 1, 0, 1, 1]})
    evidence = pd.DataFrame([
        {"site_id": 1, "channel": "form", "value": "request", "counted": "True"},
        {"site_id": 2, "channel": "form", "value": "callback", "counted": "True"},
        {"site_id": 3, "channel": "form", "value": "callback", "counted": "True"},
        {"site_id": 3, "channel": "form", "value": "request", "counted": "True"},
        {"site_id": 4, "channel": "email", "value": "a@b.ru", "counted": "True"},
        {"site_id": 5, "channel": "form", "value": "embed:bitrix24", "counted": ""},
        {"site_id": 6, "channel": "form", "value": "request", "counted": "False"},
    ])
    return sites, evidence


def test_evidence_fields():
    from chanaudit.analysis.evidence_fields import evidence_fields

    sites, evidence = _evidence_sites()
    out = evidence_fields(sites, evidence).set_index("site_id")
    # hand, from _evidence_sites: request on 1, 3, 5; callback only on 2; none on 4; 6 unknown
    assert out["form_request"].tolist()[:5] == [1, 0, 1, 0, 1] and math.isnan(out.loc[6, "form_request"])
    assert out["form_callback_only"].tolist()[:5] == [0, 1, 0, 0, 0] and math.isnan(out.loc[6, "form_callback_only"])


def test_reproduce_web_form_variants_need_the_evidence():
    from chanaudit.analysis.reproduce import reproduce
    from chanaudit.analysis.studies import load_study

    sites, evidence = _evidence_sites()
    study = load_study("okdesk-2016-it-outsourcing")
    form = reproduce(sites, study, evidence=evidence).set_index(["figure_id", "variant"]).loc["form"]
    assert (form.loc["any_form", "k"], form.loc["any_form", "n"]) == (5, 6)  # hand: form = 1 on 5 of 6
    assert (form.loc["request_form", "k"], form.loc["request_form", "n"]) == (3, 5)  # hand: 1, 3, 5; 6 unknown
    without = reproduce(sites, study).set_index(["figure_id", "variant"]).loc["form"]
    assert without.loc["request_form", "verdict"] == "needs_evidence"
    assert without.loc["request_form", "note"] == "needs the evidence table for form_request"
    assert without.loc["any_form", "verdict"] == "consistent"  # the other variant is still computed


def test_reproduce_recomputes_channels_like_channel_counts():
    from chanaudit.analysis.combinations import channel_counts
    from chanaudit.analysis.reproduce import reproduce
    from chanaudit.analysis.studies import load_study

    sites, _ = _evidence_sites()
    sites["channels"] = 5  # a stale stored column (issue 14.9): every site "has five"
    result = reproduce(sites, load_study("okdesk-2016-it-outsourcing")).set_index(["figure_id", "variant"])
    counts = channel_counts(sites).set_index(["kind", "n_channels"])
    assert result.loc[("all_five", ""), "k"] == counts.loc[("exactly", 5), "k"] == 0  # hand: at most 3 each
    assert result.loc[("four_channels", "at_least_4"), "k"] == counts.loc[("at_least", 4), "k"] == 0


def test_missing_column_spoils_one_figure_not_the_table(tmp_path):
    import pandas as pd

    from chanaudit.analysis.reproduce import reproduce

    study = _spec(tmp_path, "data: survey\nfigures:\n"
                            "  - {id: a, expression: a == 1, published: 0.5, rounding: 0.01}\n"
                            "  - {id: b, expression: fax == 1, published: 0.5, rounding: 0.01}\n")
    table = reproduce(pd.DataFrame({"a": [1, 0]}), study).set_index("figure_id")
    assert table.loc["a", "k"] == 1 and table.loc["b", "verdict"] == "not_computable"
    assert table.loc["b", "note"] == "no column fax"


def test_survey_subgroup_uses_its_base_count():
    from chanaudit.analysis.published import published_sample
    from chanaudit.analysis.studies import load_study

    study = load_study("okdesk-2026-survey")
    sample = published_sample(study.figure("analyse_data"), study)
    # hand: more than 40% of n = 200 is at least 81 respondents with tools; one in five of 81 (rounded to
    # 5%): 0.175*81 = 14.2 .. 0.225*81 = 18.2 -> 15..18, nearest to 0.2*81 = 16.2 is 16
    assert (sample.n, sample.counts, sample.k) == (81, (15, 16, 17, 18), 16)
    assert published_sample(study.figure("platform_controls_sla_more"), study) is None


def test_false_flag_rates_old_rule_about_12_percent_new_about_5():
    """Issue 14.1: both samples from one population, n = 300 each, the study's share rounded to 1%.
    Reference for the simulation: exact enumeration over every (k_pub, k) pair with scipy.stats.binom."""
    from chanaudit.analysis.calibration import exact_false_flag_rates, false_flag_rates

    simulated = false_flag_rates(reps=1500).set_index(["p", "rule"])
    for p in (0.21, 0.51, 0.77):
        assert 0.09 < simulated.loc[(p, "one_sample"), "rate"] < 0.16
        assert simulated.loc[(p, "two_sample"), "rate"] < 0.065
    exact = exact_false_flag_rates(ps=(0.51,)).set_index("rule")["rate"]
    assert exact["one_sample"] == pytest.approx(0.1316, abs=5e-4)  # the old rule: 13% false flags
    assert exact["two_sample"] == pytest.approx(0.0458, abs=5e-4)  # Newcombe over the allowed counts: < 5%
    for rule in ("one_sample", "two_sample"):  # the simulation agrees with the enumeration (MC error ~0.9%)
        assert simulated.loc[(0.51, rule), "rate"] == pytest.approx(exact[rule], abs=0.03)


def test_cli_reproduce_shows_difference_caveat_and_reads_evidence(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from chanaudit.cli import app
    from chanaudit.core.tables import read_csv, write_csv

    monkeypatch.setenv("COLUMNS", "220")
    sites, evidence = _evidence_sites()
    write_csv(sites, tmp_path / "sites.csv")
    write_csv(evidence, tmp_path / "evidence.csv")
    runner = CliRunner()
    res = runner.invoke(app, ["reproduce", str(tmp_path), "--lang", "en", "--equivalence-margin", "0.5"])
    assert res.exit_code == 0, res.output
    for text in ("Study sample: 300+ websites", "Published n: 300–330", "simple random sample",
                 "ignore detector error", "pp (", "equivalent"):
        assert text in res.output, text
    saved = read_csv(tmp_path / "reproduce-okdesk-2016-it-outsourcing.csv")
    for col in ("published_n", "diff", "diff_ci_low", "diff_ci_high", "p_val", "p_holm", "equivalent",
                "verdict_one_sample", "comparison"):
        assert col in saved.columns
    request = saved[(saved["figure_id"] == "form") & (saved["variant"] == "request_form")].iloc[0]
    assert (str(request["k"]), str(request["n"])) == ("3", "5")  # evidence.csv was read (hand: see above)
    res = runner.invoke(app, ["reproduce", str(tmp_path), "--lang", "ru"])
    assert "Выборка исследования" in res.output and "п.п." in res.output
    bad = runner.invoke(app, ["reproduce", str(tmp_path), "--equivalence-margin", "5"])
    assert bad.exit_code == 2 and "equivalence margin" in bad.output


def test_headline_figures_leave_directional_figures_to_reproduce():
    import pandas as pd

    from chanaudit.survey.analyses import headline_figures

    frame = pd.DataFrame({"record_all_requests": [1, 0], "record_all_activities": [1, 0],
                          "sla_control": ["yes", "no"], "digital_tools": [1, 1], "uses_data_for_analysis": [1, 0],
                          "tool_type": ["specialised_platform", "email_spreadsheets"]})
    assert "platform_controls_sla_more" not in set(headline_figures(frame)["figure_id"])


def test_report_shows_difference_and_caveat():
    from chanaudit.analysis.reproduce import COLUMNS, reproduce
    from chanaudit.analysis.studies import load_study
    from chanaudit.reports.document import _reproduce_grid, section_text

    sites, evidence = _evidence_sites()
    table = reproduce(sites, load_study("okdesk-2016-it-outsourcing"), evidence=evidence)
    grid = _reproduce_grid(table, "en")
    assert "Difference, pp (95% CI)" in grid.headers
    email = grid.rows[0]
    assert email[5] == table.iloc[0].pipe(lambda r: f"{100 * r['diff']:+.1f} pp ("
                                                    f"{100 * r['diff_ci_low']:+.1f} to {100 * r['diff_ci_high']:+.1f})"
                                          ).replace("-", "−")
    _, note = section_text("reproduce-okdesk-2016-it-outsourcing", "ru")
    assert "простую случайную выборку" in note and "абонентское обслуживание компьютеров" in note
    _, note = section_text("reproduce-okdesk-2016-it-outsourcing", "en")
    assert "ignore detector error" in note and "Published n: 300–330" in note
    old = table[[c for c in COLUMNS[:21]]]  # a reproduce CSV written before the comparison columns existed
    assert _reproduce_grid(old, "ru").rows[0][5] == ""


def test_weighted_reproduce_matches_the_weighted_headline_table():
    """Issue 14.6: the survey's headline table is weighted, so its reproduction must be too: the same figure
    showed 51.7% (unweighted reproduce) and 51.8% (weighted headline table) before."""
    import tempfile
    from pathlib import Path

    import pandas as pd
    import yaml

    from chanaudit.analysis.design import weighted_share
    from chanaudit.analysis.reproduce import reproduce
    from chanaudit.analysis.studies import load_study
    from chanaudit.datasets import ROOT
    from chanaudit.demo.survey import generate_survey
    from chanaudit.survey.analyses import headline_figures
    from chanaudit.survey.codebook import load_codebook
    from chanaudit.survey.importer import import_survey
    from chanaudit.survey.weighting import rake

    with tempfile.TemporaryDirectory() as tmp:
        export = Path(tmp) / "export.csv"
        generate_survey(n=400, seed=3).to_csv(export, index=False, encoding="utf-8")  # SYNTHETIC answers
        frame = import_survey(export, load_codebook(), salt="test").frame
    margins = yaml.safe_load((ROOT / "survey" / "population-margins.yaml").read_text(encoding="utf-8"))
    weights = rake(frame, margins)
    study = load_study("okdesk-2026-survey")
    weighted = reproduce(frame, study, weights=weights).set_index("figure_id")
    plain = reproduce(frame, study).set_index("figure_id")
    headline = headline_figures(frame, weights).set_index("figure_id")
    shares = [f for f in headline.index if f in weighted.index]
    assert shares and weighted["weighted"].all() and not plain["weighted"].any()
    for fid in shares:  # reference: the headline table, computed by its own code path
        for col in ("estimate", "ci_low", "ci_high"):
            assert weighted.loc[fid, "reproduced" if col == "estimate" else col] == pytest.approx(headline.loc[fid, col])
        assert weighted.loc[fid, "n_eff"] == pytest.approx(headline.loc[fid, "n_eff"])
    moved = [f for f in shares if abs(weighted.loc[f, "reproduced"] - plain.loc[f, "reproduced"]) > 1e-9]
    assert moved, "raking to these margins must move at least one share"
    # every weighted estimate lies inside its own interval (no rounding of k or n_eff before Wilson)
    assert ((weighted["ci_low"] <= weighted["reproduced"]) & (weighted["reproduced"] <= weighted["ci_high"]))[
        weighted["reproduced"].notna()].all()
    # the two-sample comparison uses the weighted share: by hand, Newcombe from the weighted Wilson limits
    row = weighted.loc[shares[0]]
    if row["comparison"] == "two_sample":
        from chanaudit.analysis.intervals import newcombe_from_limits, wilson
        kp, n_pub = int(row["published_k"]), int(row["published_n"])
        d, _, _ = newcombe_from_limits(row["reproduced"], row["ci_low"], row["ci_high"], kp / n_pub,
                                       *wilson(kp, n_pub))
        assert row["diff"] == pytest.approx(d)
    res = weighted_share(pd.Series([1, 0, 1]), pd.Series([1.0, 1.0, 2.0]))
    assert res["ci_low"] <= res["estimate"] <= res["ci_high"]


def test_weighted_reproduce_refuses_misaligned_weights():
    import pandas as pd

    from chanaudit.analysis.reproduce import InvalidWeights, reproduce
    from chanaudit.analysis.studies import load_study

    frame = pd.DataFrame({"status": ["ok"] * 3, **{c: [1, 0, 1] for c in ("email", "phone", "chat", "form", "portal")}})
    with pytest.raises(InvalidWeights, match="aligned"):
        reproduce(frame, load_study("okdesk-2016-it-outsourcing"), weights=pd.Series([1.0, 2.0]))


def test_cli_reproduce_with_margins_is_weighted(tmp_path):
    from typer.testing import CliRunner

    from chanaudit.cli import app
    from chanaudit.core.tables import read_csv
    from chanaudit.datasets import ROOT
    from chanaudit.demo.survey import generate_survey
    from chanaudit.survey import run_import

    export = tmp_path / "export.csv"
    generate_survey(n=300, seed=5).to_csv(export, index=False, encoding="utf-8")  # SYNTHETIC answers
    run_import(export, tmp_path / "sv", salt="test")
    margins = ROOT / "survey" / "population-margins.yaml"
    res = CliRunner().invoke(app, ["reproduce", str(tmp_path / "sv" / "survey.csv"), "--study", "okdesk-2026-survey",
                                   "--margins", str(margins), "--lang", "en"])
    assert res.exit_code == 0, res.output
    assert "weighted" in res.output
    table = read_csv(tmp_path / "sv" / "reproduce-okdesk-2026-survey.csv")
    assert table["weighted"].astype(str).str.lower().eq("true").all()
    res = CliRunner().invoke(app, ["reproduce", str(tmp_path / "sv" / "survey.csv"), "--study", "okdesk-2026-survey",
                                   "--margins", str(tmp_path / "nope.yaml")])
    assert res.exit_code == 2 and "nope.yaml" in res.output and "Traceback" not in res.output
