"""Survey: import of three export formats, validation, pseudonymisation, weighting, join, analyses.
Fixtures in tests/fixtures/survey are SYNTHETIC."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from chanaudit.cli import app
from chanaudit.core.tables import write_csv
from chanaudit.demo.survey import generate_survey
from chanaudit.survey.analyses import headline_figures, tool_vs_sla
from chanaudit.survey.importer import UnknownColumns, import_survey
from chanaudit.survey.join import domain_key, join_audit
from chanaudit.survey.pseudonymise import MissingSalt
from chanaudit.survey.weighting import (
    WeightingError,
    design_effect,
    poststratify,
    rake,
    weighted_proportion,
)

FIX = Path(__file__).parent / "fixtures" / "survey"


def test_yandex_forms_cp1251_semicolon_with_issues():
    res = import_survey(FIX / "yandex-forms-cp1251.csv", salt="s")
    assert (res.format, res.encoding, res.delimiter) == ("yandex_forms", "cp1251", ";")
    f = res.frame
    assert f["record_all_requests"].tolist()[:2] == [1, 0]
    assert f["sla_control"].tolist() == ["yes", "dont_know_term", "no"]
    assert f["tool_type"].tolist() == ["specialised_platform", "email_spreadsheets", "crm"]
    assert f["company_size"].tolist() == ["11-50", "1-10", "250+"]
    # "Может быть" is not yes/no (line 4); "7,5" employees is not a whole number (line 3): kept as missing
    reasons = {(i.line, i.column): i.reason for i in res.issues}
    assert reasons[(4, "Фиксируете ли вы все входящие обращения?")] == "not a yes/no answer"
    assert reasons[(3, "Точное число сотрудников")] == "not a whole number"
    assert pd.isna(f.loc[2, "record_all_requests"]) and len(f) == 3


def test_personal_data_never_in_the_output():
    res = import_survey(FIX / "yandex-forms-cp1251.csv", salt="s")
    text = res.frame.to_csv()
    for pii in ("Иванов", "Петров", "+7 900", "Сидорова"):
        assert pii not in text
    assert res.frame["respondent_id"].str.match(r"r_[0-9a-f]{16}$").all()
    again = import_survey(FIX / "yandex-forms-cp1251.csv", salt="s")
    assert res.frame["respondent_id"].tolist() == again.frame["respondent_id"].tolist()  # stable
    other = import_survey(FIX / "yandex-forms-cp1251.csv", salt="other")
    assert res.frame["respondent_id"][0] != other.frame["respondent_id"][0]  # keyed


def test_limesurvey_and_xlsx():
    ls = import_survey(FIX / "limesurvey.csv", salt="s")
    assert ls.format == "limesurvey" and ls.frame["tool_type"].tolist() == ["specialised_platform", "email_spreadsheets"]
    xl = import_survey(FIX / "excel-export.xlsx", salt="s")
    assert xl.format == "excel" and xl.frame["sla_control"].tolist() == ["no", "yes"]


def test_missing_required_column_and_salt(tmp_path, monkeypatch):
    path = tmp_path / "x.csv"
    path.write_text("Сайт,Регион\nfirm.ru,Москва\n", encoding="utf-8")
    with pytest.raises(UnknownColumns, match="record_all_requests"):
        import_survey(path, salt="s")
    monkeypatch.delenv("CHANAUDIT_SURVEY_SALT", raising=False)
    with pytest.raises(MissingSalt):
        import_survey(FIX / "limesurvey.csv")


def test_poststratification_by_hand():
    # sample: 3 small, 1 large; population 50/50 -> weights small 0.5/0.75=0.667, large 0.5/0.25=2, mean-normalised
    frame = pd.DataFrame({"size": ["s", "s", "s", "l"]})
    w = poststratify(frame, "size", {"s": 0.5, "l": 0.5})
    assert w.tolist() == pytest.approx([2 / 3, 2 / 3, 2 / 3, 2.0])  # mean (2+2)/4 = 1 already
    with pytest.raises(WeightingError, match="no respondent in m"):
        poststratify(frame, "size", {"s": 0.5, "l": 0.3, "m": 0.2})


def test_raking_hits_all_margins():
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"a": rng.choice(["x", "y"], 500, p=[0.7, 0.3]), "b": rng.choice(["u", "v", "w"], 500)})
    margins = {"a": {"x": 0.5, "y": 0.5}, "b": {"u": 0.2, "v": 0.3, "w": 0.5}}
    w = rake(frame, margins)
    for var, target in margins.items():
        shares = w.groupby(frame[var]).sum() / w.sum()
        for level, share in target.items():
            assert shares[level] == pytest.approx(share, abs=1e-6)


def test_design_effect_by_hand():
    # weights 1,1,2,2: n=4, sum=6, sum sq=10 -> n_eff = 36/10 = 3.6, deff = 4/3.6 = 1.111
    deff, n_eff = design_effect(pd.Series([1, 1, 2, 2]))
    assert n_eff == pytest.approx(3.6) and deff == pytest.approx(1.1111, abs=1e-4)
    res = weighted_proportion(pd.Series([1, 0, 1, 0]), pd.Series([1.0, 1.0, 2.0, 2.0]))
    assert res["estimate"] == pytest.approx(0.5)  # hand: (1+2)/6


def test_domain_keys_and_join():
    assert domain_key("https://www.Пример.рф/о-нас") == domain_key("пример.рф") == "xn--e1afmkfd.xn--p1ai"
    assert domain_key("") == "" and domain_key("not a site") == ""
    survey = pd.DataFrame({"respondent_id": ["r1", "r2", "r3"], "website": ["www.firm-a.ru", "", "other.ru"]})
    sites = pd.DataFrame({"site_id": [1, 2], "url": ["http://firm-a.ru/", "http://firm-b.ru/"], "status": "ok",
                          "score": [0.6, 0.2]})
    res = join_audit(survey, sites)
    assert res.frame.loc[0, "site_id"] == 1 and res.match_rate == pytest.approx(1 / 3)
    assert set(res.unmatched_survey["reason"]) == {"no website", "no audited site with this domain"}
    assert res.unmatched_sites["site_id"].tolist() == [2]


def test_synthetic_survey_calibrated():
    frame = generate_survey(4000, seed=5)
    assert frame.attrs["synthetic"]
    col = "Фиксируете ли вы все входящие обращения?"
    assert abs((frame[col] == "Да").mean() - 0.539) < 0.025


def test_headline_and_tool_vs_sla(tmp_path):
    path = tmp_path / "export.csv"
    generate_survey(3000, seed=2).to_csv(path, index=False)
    frame = import_survey(path, salt="s").frame
    figures = headline_figures(frame).set_index("figure_id")
    assert figures.loc["no_sla_control", "estimate"] > 1 / 3  # "more than a third"
    assert figures.loc["digital_tools", "estimate"] > 0.40
    assert abs(figures.loc["analyse_data", "estimate"] - 0.2) < 0.04
    _, test = tool_vs_sla(frame)
    assert test["odds_ratio"] > 3 and test["p_val"] < 1e-6


def test_cli_import_summary_join(tmp_path):
    runner = CliRunner()
    res = runner.invoke(app, ["survey", "import", str(FIX / "yandex-forms-cp1251.csv"), "--out", str(tmp_path),
                              "--salt", "s"])
    assert res.exit_code == 0, res.output
    assert "yandex_forms" in res.output and "2 issues" in res.output
    assert "Иванов" not in (tmp_path / "survey.csv").read_text(encoding="utf-8-sig")
    export = tmp_path / "big.csv"
    assert runner.invoke(app, ["survey", "generate", "--out", str(export), "--n", "300"]).exit_code == 0
    big = tmp_path / "big"
    assert runner.invoke(app, ["survey", "import", str(export), "--out", str(big), "--salt", "s"]).exit_code == 0
    margins = Path(__file__).parents[1] / "datasets" / "survey" / "population-margins.yaml"
    res = runner.invoke(app, ["survey", "summary", str(big / "survey.csv"), "--margins", str(margins)])
    assert res.exit_code == 0, res.output
    assert "design effect" in res.output
    audit = tmp_path / "audit"
    write_csv(pd.DataFrame({"site_id": [1], "url": ["http://firm-a.ru/"], "status": ["ok"]}), audit / "sites.csv")
    res = runner.invoke(app, ["survey", "join", str(tmp_path / "survey.csv"), str(audit)])
    assert res.exit_code == 0 and "matched" in res.output
    bad = runner.invoke(app, ["survey", "import", str(tmp_path / "none.csv"), "--salt", "s"])
    assert bad.exit_code == 2 and "no such file" in bad.output


def test_a_stray_quote_is_reported_and_later_rows_survive(tmp_path):
    lines = (FIX / "limesurvey.csv").read_text(encoding="utf-8").splitlines()
    lines[1] = '"' + lines[1]  # an unclosed quote on file line 2
    lines.append("3,2026-02-02,3,Yes,No,No,CRM,Yes,Yes,11-50,firm-e.ru,e@f.ru")
    path = tmp_path / "export.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    res = import_survey(path, salt="s")
    assert len(res.frame) == 3 and res.frame["tool_type"].tolist()[1:] == ["email_spreadsheets", "crm"]
    assert [str(i) for i in res.issues if i.line == 2] == [f'{path}:2: a quote (") opened on this line is never closed']


def test_survey_stage_import_summary_join(tmp_path):
    from chanaudit import survey
    from chanaudit.core.errors import UnknownColumn
    from chanaudit.core.folder import AuditFolder
    from chanaudit.core.tables import TableError

    folder = AuditFolder(tmp_path / "survey")
    result = survey.run_import(FIX / "yandex-forms-cp1251.csv", folder, salt="s")
    assert folder.read(folder.SURVEY).shape == result.frame.shape
    assert len(folder.read(folder.SURVEY_ISSUES)) == len(result.issues) == 2
    summary = survey.run_summary(folder)  # the folder's survey.csv, unweighted
    assert summary.weights is None
    assert list(folder.read(folder.SURVEY_FIGURES)["figure_id"]) == list(summary.figures["figure_id"])
    assert folder.read_json(folder.TOOL_VS_SLA_TEST)["n"] == summary.test["n"]
    assert folder.has(folder.TOOL_VS_SLA)
    audit = AuditFolder(tmp_path / "audit")
    audit.write(audit.SITES, pd.DataFrame({"site_id": [1, 2], "url": ["http://firm-a.ru/", "http://nobody.ru/"],
                                           "status": ["ok", "ok"]}))
    joined = survey.run_join(folder.csv(folder.SURVEY), audit)  # a CSV works as well as its folder
    assert folder.read(folder.JOINED)["site_id"].notna().sum() == (joined.frame["site_id"].notna()).sum() >= 1
    assert list(folder.read(folder.UNMATCHED_SITES)["site_id"]) == [2]
    with pytest.raises(UnknownColumn, match="no column 'domain' to join on"):
        survey.run_join(folder, audit, key="domain")
    with pytest.raises(WeightingError, match="nope.yaml: no such margins file"):
        survey.run_summary(folder, tmp_path / "nope.yaml")
    with pytest.raises(UnknownColumn, match="no column 'tool_type'"):
        survey.run_summary(audit.sites)
    with pytest.raises(TableError, match="no such file"):
        survey.run_summary(tmp_path / "none.csv")


def test_cli_survey_errors_are_named(tmp_path):
    runner = CliRunner()
    out = tmp_path / "s"
    assert runner.invoke(app, ["survey", "import", str(FIX / "limesurvey.csv"), "--out", str(out),
                               "--salt", "s"]).exit_code == 0
    res = runner.invoke(app, ["survey", "summary", str(out / "survey.csv"), "--margins", str(tmp_path / "m.yaml")])
    assert res.exit_code == 2 and "m.yaml: no such margins file" in res.output
    res = runner.invoke(app, ["survey", "join", str(out / "survey.csv"), str(tmp_path / "no-audit")])
    assert res.exit_code == 2 and "no such file" in res.output
