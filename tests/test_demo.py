"""The demo end to end on a small SYNTHETIC market, and its synthetic coder.

``chanaudit demo --sites 30 --render never`` runs every step (two audits with the real crawler, the
validation sample, the survey, the comparison, two reports): at 30 sites the survey's regression is
separated and must be said, not stop the demo. The comparison's found counts must equal the generator's
true ones wherever detection was right: every difference is accounted for by a detection error of one of
the two audits, counted here from the files alone.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from chanaudit.analysis.paired import site_domains
from chanaudit.analysis.validation import read_labels
from chanaudit.cli import app
from chanaudit.core.contract import CHANNELS
from chanaudit.core.folder import AuditFolder
from chanaudit.core.tables import read_csv
from chanaudit.demo.coder import synthetic_coding
from chanaudit.demo.run import VALIDATION_SPEC
from chanaudit.reports.document import build_report

runner = CliRunner()
N_SITES = 30


def seen_by_domain(market_dir) -> pd.DataFrame:
    """The market's channels by company domain as an auditor sees them, from its files: a site that redirects
    (market.json moved_to) takes the channels of the site it leads to when it has none of its own."""
    meta = json.loads((market_dir / "market.json").read_text(encoding="utf-8"))
    truth = pd.read_csv(market_dir / "truth.csv", keep_default_na=False, na_values=[""]).set_index("slug")
    seen = truth[list(CHANNELS)].copy()
    for site in meta["sites"]:
        target = site.get("moved_to")
        if target in truth.index and seen.loc[site["slug"]].isna().all():
            seen.loc[site["slug"]] = truth.loc[target, list(CHANNELS)]
    seen.index = seen.index.map({s["slug"]: s["domain"] for s in meta["sites"]})
    return seen


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "out"
    result = runner.invoke(app, ["demo", "--out", str(out), "--sites", str(N_SITES), "--render", "never",
                                 "--lang", "en"], env={"COLUMNS": "200"})
    return out, result


@pytest.mark.slow
def test_the_demo_runs_at_a_small_size_and_says_what_it_could_not_estimate(demo):
    out, result = demo
    assert result.exit_code == 0, result.output
    assert "SLA regression not estimable at this size" in result.output
    notes = json.loads((out / "demo.json").read_text(encoding="utf-8"))["notes"]
    assert "separated" in notes["sla_regression"]
    for line in ("2016 → 2026: the same companies, found / true (synthetic market)",
                 "Coded by: a SYNTHETIC coder", "re-audit 2026: ", "detection on the 2026 sites against their truth"):
        assert line in result.output, line


@pytest.mark.slow
def test_the_comparison_errs_only_where_detection_erred(demo):
    out, result = demo
    check = pd.read_csv(out / "reaudit-vs-truth.csv").set_index("channel")
    compare = read_csv(out / "audit-2026" / "compare.csv").set_index("channel")
    truth = pd.read_csv(out / "market-2026" / "transitions.csv").set_index("channel")
    for col in ("n_pairs", "adopted", "dropped"):
        assert (check[col] == compare[col]).all() and (check[f"true_{col}"] == truth[col]).all(), col
    # the pairs an audit formed that the truth does not have: sites audited ok that are no company website
    audits = [AuditFolder(out / name).read_sites() for name in ("audit", "audit-2026")]
    ok = [set(site_domains(s[s["status"] == "ok"])) for s in audits]
    seen = [seen_by_domain(out / name) for name in ("market", "market-2026")]
    pairs = ok[0] & ok[1]
    unknown = {d for d in pairs if seen[0].loc[d].isna().any() or seen[1].loc[d].isna().any()}
    assert (check["n_pairs"] - check["true_n_pairs"] == len(unknown)).all()
    # every other difference is a detection error of one wave, on a pair the truth knows
    known = sorted(pairs - unknown)
    for ch in CHANNELS:
        found = [s.assign(_d=site_domains(s)).set_index("_d").loc[known, ch].astype(int) for s in audits]
        wrong = sum(int((f != t.loc[known, ch].astype(int)).sum()) for f, t in zip(found, seen, strict=True))
        miss = (abs(check.loc[ch, "adopted"] - check.loc[ch, "true_adopted"])
                + abs(check.loc[ch, "dropped"] - check.loc[ch, "true_dropped"]))
        assert miss <= wrong, ch
        if not wrong:
            assert miss == 0


@pytest.mark.slow
def test_the_validation_sample_disagrees_exactly_where_coder_or_crawler_erred(demo):
    out, _ = demo
    labels = read_labels(out / "validation" / "labels-synthetic.csv").set_index("domain")
    errors = pd.read_csv(out / "validation" / "coder-errors.csv")
    sheet = read_csv(out / "validation" / "coding_sheet.csv")
    assert len(labels) == len(sheet) and set(labels.index) == set(sheet["domain"])
    seen = seen_by_domain(out / "market")
    cells = int(seen.loc[labels.index].notna().sum().sum())
    share = yaml.safe_load(VALIDATION_SPEC.read_text(encoding="utf-8"))["coder"]["flip_share"]
    assert len(errors) == round(share * cells) > 0
    sites = AuditFolder(out / "audit").read_sites()
    found = sites.assign(_d=site_domains(sites)).set_index("_d")
    validation = read_csv(out / "audit" / "validation.csv").set_index("channel")
    assert validation["coder"].str.contains("SYNTHETIC").all()
    for ch in CHANNELS:
        flipped = set(errors.loc[errors["channel"] == ch, "domain"])
        coded = labels[ch].dropna()
        for domain, value in coded.items():
            assert value == (1 - seen.loc[domain, ch] if domain in flipped else seen.loc[domain, ch]), (ch, domain)
        disagree = int((found.loc[coded.index, ch].astype(int) != coded.astype(int)).sum())
        assert validation.loc[ch, "fp"] + validation.loc[ch, "fn"] == disagree
        assert validation.loc[ch, "n"] == len(coded)


@pytest.mark.slow
def test_the_reports_show_the_reaudit_and_the_validation(demo):
    out, _ = demo
    reaudit = (out / "audit-2026" / "report" / "report.html").read_text(encoding="utf-8")
    assert "<section id='compare'>" in reaudit and "What changed between the audits" in reaudit
    assert (out / "audit-2026" / "report" / "charts" / "compare-en.png").exists()
    main = (out / "audit" / "report" / "report.html").read_text(encoding="utf-8")
    assert "<section id='validation'>" in main and "<section id='prevalence_corrected'>" in main
    assert "Coded by: a SYNTHETIC coder" in main


# --- the synthetic coder and the report's note (fast) -----------------------------------------------------

def sheet_and_truth():
    domains = [f"firm{i}.ru" for i in range(20)]
    sheet = pd.DataFrame({"sample_id": range(1, 21), "domain": domains, "url": [f"http://{d}/" for d in domains],
                          **{ch: "" for ch in CHANNELS}, "notes": ""})
    seen = pd.DataFrame({ch: [(i * (k + 2)) % 3 == 0 for i in range(20)] for k, ch in enumerate(CHANNELS)},
                        index=domains).astype(int).astype("Int64")
    seen.loc["firm3.ru"] = pd.NA  # a site without a truth stays blank
    return sheet, seen


def test_the_synthetic_coder_flips_a_known_share_of_cells(tmp_path):
    sheet, seen = sheet_and_truth()
    coding = synthetic_coding(sheet, seen, 0.1, seed=3)
    assert coding.cells == 19 * 5 and len(coding.errors) == round(0.1 * 95)
    again = synthetic_coding(sheet, seen, 0.1, seed=3)
    assert coding.labels.equals(again.labels) and coding.errors.equals(again.errors)
    assert not synthetic_coding(sheet, seen, 0.1, seed=4).errors.equals(coding.errors)
    path = tmp_path / "labels.csv"
    coding.labels.to_csv(path, index=False)
    labels = read_labels(path).set_index("domain")
    flipped = {(r.domain, r.channel) for r in coding.errors.itertuples()}
    for domain in seen.index:
        for ch in CHANNELS:
            if domain == "firm3.ru":
                assert pd.isna(labels.loc[domain, ch])
            else:
                truth = int(seen.loc[domain, ch])
                assert labels.loc[domain, ch] == (1 - truth if (domain, ch) in flipped else truth)
    assert coding.labels["notes"].str.startswith("SYNTHETIC coder").all()


def test_a_validation_table_says_who_coded_it_in_the_report(tmp_path):
    row = {"channel": "chat", "n": 10, "tp": 3, "fp": 1, "fn": 0, "tn": 6, "precision": 0.75,
           "precision_ci_low": 0.3, "precision_ci_high": 0.95, "recall": 1.0, "recall_ci_low": 0.44,
           "recall_ci_high": 1.0, "kappa": 0.78, "kappa_ci_low": 0.4, "kappa_ci_high": 1.0, "pabak": 0.8}
    tables = {"validation": pd.DataFrame([{**row, "coder": "a <b>SYNTHETIC</b> coder"}])}
    html = build_report(tables, tmp_path / "a", "en", {}, formats=("png",), chromium=None).html.read_text("utf-8")
    assert "Coded by: a &lt;b&gt;SYNTHETIC&lt;/b&gt; coder." in html
    tables = {"validation": pd.DataFrame([row])}  # a person's labels: nothing said
    html = build_report(tables, tmp_path / "b", "ru", {}, formats=("png",), chromium=None).html.read_text("utf-8")
    assert "Кто размечал" not in html and "<section id='validation'>" in html
