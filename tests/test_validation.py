"""Validation against a human-coded sample: the stratified blind sample, the labels file, precision,
recall, Cohen's kappa, PABAK and the Rogan–Gladen correction. References: statsmodels cohens_kappa,
Lang & Reiczigel's (2014) own R script (CI4TruePrevalence_15_03_2013.r, run in R 4.2.2), a seeded
coverage simulation, hand counts. All audits and labels here are SYNTHETIC."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.inter_rater import cohens_kappa
from typer.testing import CliRunner

from chanaudit.analysis.intervals import wilson
from chanaudit.analysis.validation import (
    LabelsError,
    SampleError,
    agreement,
    allocate,
    cohen_kappa,
    draw_sample,
    read_labels,
    rogan_gladen,
    validate,
)
from chanaudit.cli import app
from chanaudit.core.contract import CHANNELS
from chanaudit.core.tables import read_csv, read_table, write_csv


@pytest.mark.parametrize("cells", [(40, 5, 9, 46), (88, 3, 2, 7), (12, 7, 1, 30)])
def test_kappa_and_its_standard_error_match_statsmodels(cells):
    tp, fp, fn, tn = cells
    ref = cohens_kappa(np.array([[tp, fp], [fn, tn]]))  # statsmodels.stats.inter_rater (Fleiss et al. 1969 SE)
    k, se, low, high = cohen_kappa(tp, fp, fn, tn)
    assert (k, se, low, high) == pytest.approx((ref.kappa, ref.std_kappa, ref.kappa_low, ref.kappa_upp))


def test_agreement_by_hand():
    found = pd.Series([1, 1, 1, 0, 0, 1, 0, 0, 1, 1])
    truth = pd.Series([1, 1, 0, 0, 1, 1, 0, 0, 1, 1])
    res = agreement(found, truth)
    assert [res[k] for k in ("tp", "fp", "fn", "tn", "n")] == [5, 1, 1, 3, 10]
    assert res["precision"] == pytest.approx(5 / 6) and res["recall"] == pytest.approx(5 / 6)
    assert (res["precision_ci_low"], res["precision_ci_high"]) == pytest.approx(wilson(5, 6))
    assert res["specificity"] == pytest.approx(3 / 4)
    # po = 0.8; pe = 0.6*0.6 + 0.4*0.4 = 0.52; kappa = 0.28/0.48 = 0.5833; PABAK = 2*0.8 - 1 = 0.6
    assert res["kappa"] == pytest.approx(0.58333, abs=1e-5) and res["pabak"] == pytest.approx(0.6)


@pytest.mark.parametrize("args, r_ref", [
    # R: CI_Binom(nprev, kprev, nsens, ksens, nspec, kspec) of Lang & Reiczigel's script (est, LCL, UCL)
    ((27, 650, 48, 60, 190, 200), (0.0, 0.0, 0.0320152722589)),
    ((120, 300, 40, 45, 50, 55), (0.387341772152, 0.277714010974, 0.492506641048)),
])
def test_rogan_gladen_with_lang_reiczigel_interval_matches_the_authors_script(args, r_ref):
    assert rogan_gladen(*args) == pytest.approx(r_ref, abs=1e-10)


def test_rogan_gladen_point_estimate_and_no_better_than_chance():
    # p = 120/300 = 0.4, se = 40/45, sp = 50/55: (0.4 + 0.90909 - 1)/(0.88889 + 0.90909 - 1) = 0.38734 by hand
    assert rogan_gladen(120, 300, 40, 45, 50, 55)[0] == pytest.approx(0.387342, abs=1e-6)
    assert np.isnan(rogan_gladen(130, 200, 49, 100, 100, 200)[0])  # se + sp = 0.99: not identifiable


def test_lang_reiczigel_interval_covers_about_95_percent():
    # seeded simulation: true prevalence 0.3, se 0.9, sp 0.95; audit of 300, 60 positives and 80 negatives
    # in the validation samples — Lang & Reiczigel report near-nominal coverage at such sizes
    rng = np.random.default_rng(2014)
    truth, se, sp, hits, runs = 0.3, 0.9, 0.95, 0, 2000
    apparent = truth * se + (1 - truth) * (1 - sp)
    for _ in range(runs):
        k = rng.binomial(300, apparent)
        tp, tn = rng.binomial(60, se), rng.binomial(80, sp)
        _, low, high = rogan_gladen(k, 300, tp, 60, tn, 80)
        hits += low <= truth <= high
    assert 0.93 <= hits / runs <= 0.975


def test_allocation_is_proportional_with_a_floor():
    sizes = pd.Series({"a": 50, "b": 30, "c": 15, "d": 5})
    # 20 * (0.5, 0.3, 0.15, 0.05) = 10, 6, 3, 1 exactly
    assert allocate(sizes, 20).tolist() == [10, 6, 3, 1]
    # d raised to 3; 17 left for a, b, c in 50:30:15 -> 8.95, 5.37, 2.68 -> largest remainders 9, 5, 3
    assert allocate(sizes, 20, 3).tolist() == [9, 5, 3, 3]
    assert allocate(pd.Series({"a": 50, "b": 30, "c": 15, "d": 2}), 20, 3).tolist() == [9, 6, 3, 2]  # all of d
    with pytest.raises(SampleError, match="only 100 audited"):
        allocate(sizes, 101)


def audit(n: int = 60) -> pd.DataFrame:
    """SYNTHETIC audit: three cities 30/20/10, two failed sites."""
    cities = ["Москва"] * 30 + ["Казань"] * 20 + ["Омск"] * 10
    rows = [{"site_id": i + 1, "input": f"firm{i}.ru", "url": f"http://firm{i}.ru/", "final_url":
             f"https://firm{i}.ru/", "status": "ok", "name": f"Firm {i}", "city": cities[i],
             "email": 1, "phone": int(i % 3 != 0), "chat": int(i % 4 == 0), "form": int(i % 2 == 0),
             "portal": int(i % 5 == 0)} for i in range(n)]
    rows += [{"site_id": n + 1, "input": "down.ru", "url": "http://down.ru/", "final_url": "", "status": "timeout",
              "city": "Омск"}]
    return pd.DataFrame(rows)


def test_sample_is_stratified_blind_and_seeded():
    sample = draw_sample(audit(), 12, ["city"], seed=5)
    assert len(sample.sheet) == 12 and sample.sheet["sample_id"].tolist() == list(range(1, 13))
    counts = sample.key.groupby("stratum").size().to_dict()
    assert counts == {"Москва": 6, "Казань": 4, "Омск": 2}  # 12 * 30/60, 20/60, 10/60
    assert set(sample.key["inclusion_prob"].round(4)) == {0.2}
    for ch in CHANNELS:  # the coder sees no detector answer
        assert (sample.sheet[ch] == "").all()
    assert "down.ru" not in set(sample.sheet["domain"])
    again = draw_sample(audit(), 12, ["city"], seed=5)
    assert again.sheet.equals(sample.sheet)
    other = draw_sample(audit(), 12, ["city"], seed=6)
    assert set(other.sheet["domain"]) != set(sample.sheet["domain"])
    with pytest.raises(SampleError, match="no column 'region'"):
        draw_sample(audit(), 12, ["region"])


def write_labels(path, rows):
    path.write_text("domain,email,phone,chat,form,portal\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_labels_errors_name_the_file_and_line(tmp_path):
    path = write_labels(tmp_path / "labels.csv", ["firm1.ru,1,1,0,0,0", "firm2.ru,1,да,,x,0",
                                                 "not a site,1,1,1,1,1", "www.firm1.ru,1,1,1,1,1"])
    with pytest.raises(LabelsError) as err:
        read_labels(path)
    text = str(err.value)
    assert f"{path}:3: form = 'x': not 1, 0 or empty" in text
    assert f"{path}:4: domain 'not a site' is not a site" in text
    assert f"{path}:5: firm1.ru again (first on line 2)" in text
    ok = write_labels(tmp_path / "ok.csv", ["firm1.ru,1,1,0,0,0", "https://www.firm2.ru/,1,да,,0,0"])
    labels = read_labels(ok)
    assert labels["domain"].tolist() == ["firm1.ru", "firm2.ru"] and pd.isna(labels.loc[1, "chat"])
    unknown = write_labels(tmp_path / "unknown.csv", ["firm1.ru,1,1,0,0,0", "elsewhere.ru,1,1,1,1,1"])
    with pytest.raises(LabelsError, match=r"unknown.csv:3: elsewhere.ru is not an audited"):
        validate(audit(), read_labels(unknown), source=str(unknown))


def test_validate_counts_against_labels(tmp_path):
    sites = audit()
    # labels for firm0..firm19: the coder disagrees with the detector on portal for firm1 and firm2 (portal
    # really there) and on chat for firm4 (no chat really)
    rows = []
    for i in range(20):
        s = sites.iloc[i]
        portal = 1 if i in (1, 2) else s["portal"]
        chat = 0 if i == 4 else s["chat"]
        rows.append(f"firm{i}.ru,{s['email']},{s['phone']},{chat},{s['form']},{portal}")
    result = validate(sites, read_labels(write_labels(tmp_path / "labels.csv", rows)))
    table = result.validation.set_index("channel")
    # portal detected on firm0, 5, 10, 15 (4); really also on 1, 2: tp 4, fn 2, fp 0, tn 14
    assert table.loc["portal", ["tp", "fp", "fn", "tn"]].tolist() == [4, 0, 2, 14]
    assert table.loc["portal", "recall"] == pytest.approx(4 / 6) and table.loc["portal", "precision"] == 1
    assert table.loc["chat", ["tp", "fp", "fn", "tn"]].tolist() == [4, 1, 0, 15]
    # email everywhere for both: kappa undefined (pe = 1), PABAK = 1
    assert np.isnan(table.loc["email", "kappa"]) and table.loc["email", "pabak"] == 1
    corrected = result.corrected.set_index("channel")
    # portal in the audit: 12 of 60; se = 4/6, sp = 14/14: (0.2 + 1 - 1)/(0.6667 + 1 - 1) = 0.3 by hand
    assert corrected.loc["portal", ["k", "n"]].tolist() == [12, 60]
    assert corrected.loc["portal", "corrected"] == pytest.approx(0.3)
    assert corrected.loc["portal", "ci_low"] < 0.3 < corrected.loc["portal", "ci_high"]


def test_cli_sample_and_validate(tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    audit_dir, out = tmp_path / "audit", tmp_path / "val"
    write_csv(audit(), audit_dir / "sites.csv")
    runner = CliRunner()
    res = runner.invoke(app, ["sample", str(audit_dir), "--n", "12", "--by", "city", "--seed", "1", "--out", str(out)])
    assert res.exit_code == 0, res.output
    sheet = read_csv(out / "coding_sheet.csv")
    assert len(sheet) == 12 and read_table(out / "coding_sheet.xlsx").frame.shape[0] == 12
    assert len(read_csv(out / "sample_key.csv")) == 12
    # the coder fills in the sheet: here with the detector's answers, except email on the first site
    flags = audit().assign(domain=lambda f: f["input"]).set_index("domain")
    for ch in CHANNELS:
        sheet[ch] = [int(flags.loc[d, ch]) for d in sheet["domain"]]
    sheet.loc[0, "email"] = 0
    write_csv(sheet, out / "coded.csv")
    res = runner.invoke(app, ["validate", str(audit_dir), str(out / "coded.csv"), "--out", str(out), "--lang", "en"])
    assert res.exit_code == 0, res.output
    table = read_csv(out / "validation.csv").set_index("channel")
    assert table.loc["email", ["tp", "fp"]].tolist() == [11, 1] and table.loc["phone", "fp"] == 0
    assert list(read_csv(out / "validation.csv").columns[:16]) == [
        "channel", "n", "tp", "fp", "fn", "tn", "precision", "precision_ci_low", "precision_ci_high", "recall",
        "recall_ci_low", "recall_ci_high", "kappa", "kappa_ci_low", "kappa_ci_high", "pabak"]
    assert (out / "prevalence_corrected.csv").exists() and "precision" in res.output.lower()
    (out / "bad.csv").write_text("domain,email\nfirm1.ru,maybe\n", encoding="utf-8")
    bad = runner.invoke(app, ["validate", str(audit_dir), str(out / "bad.csv"), "--out", str(out)])
    assert bad.exit_code == 2 and "bad.csv:2: email = 'maybe'" in bad.output
