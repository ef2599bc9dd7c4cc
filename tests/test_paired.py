"""Two or more audits of the same companies: pairing by domain, McNemar, Newcombe's paired interval,
Cochran's Q, the compare command and its chart. References: Fagerland, Lydersen & Laake (2017),
"Statistical Analysis of Contingency Tables", ch. 8 worked examples (R package contingencytables),
statsmodels; named beside the asserts. All audits here are SYNTHETIC."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.contingency_tables import cochrans_q as sm_cochrans_q
from statsmodels.stats.contingency_tables import mcnemar
from typer.testing import CliRunner

from chanaudit.analysis.paired import (
    PairingError,
    cochrans_q,
    compare_pairs,
    compare_waves,
    domain_of,
    mcnemar_exact,
    newcombe_paired,
)
from chanaudit.cli import app
from chanaudit.core.tables import read_csv, write_csv


def test_newcombe_paired_matches_the_cavo_example():
    # Cavo et al. (2012) complete response before/after consolidation, [[59, 6], [16, 80]]:
    # contingencytables::Newcombe_square_and_add_CI_paired_2x2: -0.0621 (95% CI -0.1186 to -0.0046)
    d, low, high = newcombe_paired(59, 6, 16, 80)
    assert (round(d, 4), round(low, 4), round(high, 4)) == (-0.0621, -0.1186, -0.0046)


def test_newcombe_paired_phi_correction_branches():
    # A = n11 n22 - n12 n21 between 0 and N/2: phi = 0, the interval is the unpaired square-and-add of the
    # two Wilson intervals (Newcombe 1998, method 10)
    from chanaudit.analysis.intervals import wilson

    d, low, high = newcombe_paired(2, 3, 4, 7)  # A = 14 - 12 = 2 <= 8
    l1, u1 = wilson(5, 16)
    l2, u2 = wilson(6, 16)
    assert low == pytest.approx(d - np.hypot(5 / 16 - l1, u2 - 6 / 16))
    assert high == pytest.approx(d + np.hypot(u1 - 5 / 16, 6 / 16 - l2))
    d, low, high = newcombe_paired(10, 0, 0, 10)  # no discordant pair: an interval symmetric around 0
    assert d == 0 and low == pytest.approx(-high) and 0 < high < 0.2


def test_mcnemar_exact_and_mid_p():
    # contingencytables (Fagerland et al. 2017, ch. 8), Cavo [[59, 6], [16, 80]]:
    # McNemar_exact_cond_test_paired_2x2 P = 0.052479; McNemar_midP_test_paired_2x2 P = 0.034690
    assert mcnemar_exact(6, 16) == pytest.approx(0.052479, abs=5e-7)
    assert mcnemar_exact(6, 16, mid_p=True) == pytest.approx(0.034690, abs=5e-7)
    # statsmodels: mcnemar(table, exact=True)
    for b, c in ((6, 16), (1, 7), (0, 5), (9, 9)):
        assert mcnemar_exact(c, b) == pytest.approx(mcnemar([[10, b], [c, 10]], exact=True).pvalue)
    # Bentur et al. (2009) [[1, 1], [7, 12]], the example of Fagerland, Lydersen & Laake (2013): by hand,
    # exact 2 * (1 + 8)/256 = 0.0703; mid-p 0.0703 - 8/256 = 0.0391
    assert mcnemar_exact(7, 1) == pytest.approx(18 / 256) and mcnemar_exact(7, 1, True) == pytest.approx(10 / 256)
    assert mcnemar_exact(0, 0) == 1.0 and mcnemar_exact(4, 4, mid_p=True) == pytest.approx(1.0)


@pytest.mark.parametrize("seed", range(4))
def test_cochrans_q_matches_statsmodels(seed):
    x = (np.random.default_rng(seed).random((40, 3)) < [0.3, 0.5, 0.6]).astype(int)
    q, dof, p = cochrans_q(x)
    ref = sm_cochrans_q(x)  # statsmodels.stats.contingency_tables.cochrans_q
    assert (q, dof, p) == pytest.approx((ref.statistic, ref.df, ref.pvalue))
    assert cochrans_q(np.ones((5, 3))) == (0.0, 2, 1.0)  # nobody changes: degenerate, p = 1


def wave(rows) -> pd.DataFrame:
    """SYNTHETIC audit rows: (input, status, email, portal)."""
    return pd.DataFrame([{"site_id": i + 1, "input": inp, "url": f"http://{inp}/", "final_url":
                          f"https://www.{inp}/" if status == "ok" else "", "status": status,
                          "email": e if status == "ok" else np.nan, "phone": 1 if status == "ok" else np.nan,
                          "chat": 0 if status == "ok" else np.nan, "form": 0 if status == "ok" else np.nan,
                          "portal": p if status == "ok" else np.nan}
                         for i, (inp, status, e, p) in enumerate(rows)])


OLD = [("a.ru", "ok", 1, 0), ("b.ru", "ok", 1, 0), ("c.ru", "ok", 0, 0), ("d.ru", "ok", 1, 1),
       ("e.ru", "timeout", 0, 0), ("f.ru", "ok", 1, 0), ("www.g.ru", "ok", 1, 0), ("g.ru", "ok", 0, 0)]
NEW = [("A.ru/contacts", "ok", 1, 1), ("b.ru", "ok", 0, 1), ("c.ru", "ok", 1, 1), ("d.ru", "ok", 1, 1),
       ("e.ru", "ok", 1, 1), ("h.ru", "ok", 1, 0), ("g.ru", "ok", 1, 1)]


def test_pairing_by_domain_and_the_reasons_of_the_unpaired():
    assert domain_of("https://www.A.ru/contacts") == domain_of("a.ru") == "a.ru"
    assert domain_of("http://127.0.0.1:8001/") != domain_of("http://127.0.0.1:8002/")  # local test servers
    result = compare_waves([wave(OLD), wave(NEW)])
    reasons = {(r.wave, r.domain): r.reason for r in result.unpaired.itertuples()}
    assert reasons == {(1, "e.ru"): "not ok in wave 1", (2, "e.ru"): "not ok in wave 1",
                       (1, "f.ru"): "only in wave 1", (2, "h.ru"): "only in wave 2",
                       (1, "g.ru"): "duplicate domain in wave 1"}
    table = result.compare.set_index("channel")
    # pairs a, b, c, d, g (www.g.ru kept, g.ru a duplicate): portal 0,0,0,1,0 -> 1,1,1,1,1
    portal = table.loc["portal"]
    assert portal[["n_pairs", "adopted", "dropped"]].tolist() == [5, 4, 0]
    assert (portal["before"], portal["after"], portal["diff"]) == pytest.approx((0.2, 1.0, 0.8))
    assert portal["p_val"] == pytest.approx(2 / 16) and portal["test"] == "mcnemar_exact"  # 2 * 0.5^4
    email = table.loc["email"]  # 1,1,0,1,1 -> 1,0,1,1,1: one adopted, one dropped
    assert email[["adopted", "dropped", "diff", "p_val"]].tolist() == [1, 1, 0.0, 1.0]
    assert list(result.compare.columns[:11]) == ["channel", "n_pairs", "before", "after", "adopted", "dropped",
                                                 "diff", "ci_low", "ci_high", "p_val", "test"]
    assert result.cochran is None


def test_compare_pairs_interval_is_newcombes_after_minus_before():
    before = pd.DataFrame({"email": [1] * 59 + [1] * 6 + [0] * 16 + [0] * 80})
    after = pd.DataFrame({"email": [1] * 59 + [0] * 6 + [1] * 16 + [0] * 80})
    row = compare_pairs(before, after, ["email"]).iloc[0]
    # Cavo with rows = after: the negated interval of the worked example, 0.0621 (0.0046 to 0.1186)
    assert (round(row["diff"], 4), round(row["ci_low"], 4), round(row["ci_high"], 4)) == (0.0621, 0.0046, 0.1186)
    assert (row["adopted"], row["dropped"]) == (16, 6)


def test_three_waves_add_cochrans_q_over_sites_ok_everywhere():
    third = [("a.ru", "ok", 1, 1), ("b.ru", "ok", 1, 1), ("c.ru", "ok", 1, 0), ("d.ru", "ok", 0, 1),
             ("g.ru", "ok", 1, 1)]
    result = compare_waves([wave(OLD), wave(NEW), wave(third)])
    cochran = result.cochran.set_index("channel")
    flags = np.array([[0, 1, 1], [0, 1, 1], [0, 1, 0], [1, 1, 1], [0, 1, 1]])  # portal of a, b, c, d, g
    assert cochran.loc["portal", "statistic"] == pytest.approx(sm_cochrans_q(flags).statistic)  # statsmodels
    assert cochran.loc["portal", "n_sites"] == 5 and cochran.loc["portal", "test"] == "cochran_q"
    waves = result.waves[result.waves["channel"] == "portal"]
    assert waves["estimate"].tolist() == pytest.approx([0.2, 1.0, 0.8])
    reasons = set(result.unpaired["reason"])
    assert "missing from wave 3" in reasons  # e.ru, ok in wave 2 only, h.ru in wave 2 only
    assert result.compare["n_pairs"].iloc[0] == 5  # first vs last


def test_no_pair_at_all_is_a_named_error():
    with pytest.raises(PairingError, match="nothing to compare"):
        compare_waves([wave(OLD[:2]), wave([("z.ru", "ok", 1, 1)])])
    with pytest.raises(PairingError, match="at least two"):
        compare_waves([wave(OLD)])


def test_cli_compare_writes_tables_and_chart(tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    old, new, out = tmp_path / "2016", tmp_path / "2026", tmp_path / "cmp"
    write_csv(wave(OLD), old / "sites.csv")
    write_csv(wave(NEW), new / "sites.csv")
    res = CliRunner().invoke(app, ["compare", str(old), str(new), "--out", str(out), "--lang", "en",
                                   "--formats", "png"])
    assert res.exit_code == 0, res.output
    assert "Portal" in res.output or "portal" in res.output.lower()
    assert "+80.0 pp" in res.output and "only in wave 1: 1" in res.output
    table = read_csv(out / "compare.csv")
    assert table["channel"].tolist() == ["email", "phone", "chat", "form", "portal"]
    assert len(read_csv(out / "unpaired.csv")) == 5
    assert (out / "charts" / "transitions-en.png").exists()
    ru = CliRunner().invoke(app, ["compare", str(old), str(new), "--out", str(out), "--mid-p", "--formats", "png"])
    assert ru.exit_code == 0 and "появился" in ru.output and "п. п." in ru.output
    assert read_csv(out / "compare.csv")["test"].iloc[0] == "mcnemar_midp"
    bad = CliRunner().invoke(app, ["compare", str(old), str(tmp_path / "nope"), "--out", str(out)])
    assert bad.exit_code == 2 and "no such file" in bad.output


def test_plot_transitions_draws_the_table():
    from chanaudit.reports.charts import plot_transitions

    result = compare_waves([wave(OLD), wave(NEW)])
    ax = plot_transitions(result.compare, lang="ru")
    widths = sorted(round(p.get_width()) for p in ax.patches)
    assert widths[0] == -1 and widths[-1] == 4  # one email dropped (left), four portals adopted (right)
    assert "Что изменилось" in ax.get_title() and "n = 5" in ax.get_title()


@pytest.mark.parametrize("lang, words", [("ru", ["Что изменилось между аудитами", "Сверка с ручной разметкой",
                                                 "Доли с поправкой на ошибки", "точный тест Мак-Немара",
                                                 "+80,0 п. п."]),
                                         ("en", ["What changed between the audits", "Checked against human coding",
                                                 "Shares corrected for detection errors", "McNemar&#x27;s exact test",
                                                 "+80.0 pp"])])
def test_report_shows_the_comparison_and_the_validation(tmp_path, monkeypatch, lang, words):
    from chanaudit.analysis.validation import validate
    from chanaudit.reports import document

    monkeypatch.setattr(document, "_print_pdf", lambda *a, **k: False)  # no browser: the HTML is tested
    monkeypatch.setattr(document, "_pdf_from_charts", lambda made, path: path.write_bytes(b"%PDF-"))
    result = compare_waves([wave(OLD), wave(NEW)])
    labels = pd.DataFrame({"line": [2, 3, 4], "domain": ["a.ru", "b.ru", "c.ru"], "email": [1, 0, 1],
                           "portal": [1, 1, 1]}).astype({"email": "Int64", "portal": "Int64"})
    checked = validate(wave(NEW), labels)
    tables = {"compare": result.compare, "validation": checked.validation,
              "prevalence_corrected": checked.corrected}
    paths = document.build_report(tables, tmp_path, lang, {}, formats=("png",))
    page = paths.html.read_text(encoding="utf-8")
    for word in words:
        assert word in page
    assert (tmp_path / "charts" / f"compare-{lang}.png").exists()
