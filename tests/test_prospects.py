"""Prospects for vendors: one row per company, XLSX and CSV ready for a CRM. The audit is SYNTHETIC (six sites
of tests/test_overrides.py, with identity records added here); the demo market's crawl is in test_benchmark.py."""

from __future__ import annotations

import openpyxl
import pandas as pd
import pytest
from typer.testing import CliRunner

from chanaudit.cli import app
from chanaudit.core.errors import InvalidOption
from chanaudit.core.folder import AuditFolder
from chanaudit.core.tables import read_csv
from chanaudit.reports.prospects import PROSPECT_COLUMNS, write_prospects
from tests.test_overrides import ev, make_audit, overrides_file


@pytest.fixture
def audit(tmp_path):
    folder = make_audit(tmp_path / "audit")
    sites = folder.read_sites()
    sites.loc[sites["site_id"] == 2, "name"] = "=HYPERLINK(\"http://evil\",\"x\")"  # formula injection
    sites.loc[sites["site_id"] == 3, "name"] = None  # no name in the input: the identity records give one
    folder.write(AuditFolder.SITES, sites)
    evidence = read_csv(folder.evidence)
    extra = [ev(1, "inn", "7707083893", "identity.inn", counted=False),
             ev(1, "ogrn", "1027700132195", "identity.ogrn", counted=False),
             ev(1, "inn", "7707083894", "identity.inn", counted=False),  # an edited file: a bad check digit
             ev(3, "company", "Ромашка", "identity.title", counted=False),
             ev(3, "company", "ООО «Ромашка»", "identity.jsonld", counted=False),
             ev(1, "phone", "+78432000000"), ev(1, "email", "a@firm1.ru", "email.mailto")]
    folder.write(AuditFolder.EVIDENCE, pd.concat([evidence, pd.DataFrame(extra)], ignore_index=True))
    return folder


def test_one_row_per_audited_company_with_contacts_and_identity(audit, tmp_path):
    result = write_prospects(audit, lang="en")
    xlsx, csv = result.written
    assert xlsx == audit.path / "prospects.xlsx" and csv == audit.path / "prospects.csv"
    t = result.table.set_index("site_id")
    assert list(result.table.columns) == PROSPECT_COLUMNS
    assert sorted(t.index) == [1, 2, 3, 5, 6] and result.audited == 5  # the failed site 4 is not a prospect
    assert list(result.table["site_id"])[0] == 6  # best score first
    one = t.loc[1]
    assert one["emails"] == "a@firm1.ru; b@firm1.ru"  # found twice: first
    assert one["phones"] == "+74951234567; +78432000000"
    assert one["inn"] == "7707083893" and one["ogrn"] == "1027700132195"  # the bad check digit dropped
    assert one["region"] == "Moscow; Republic of Tatarstan"  # from the phones, offline geocoder
    assert one["channels_present"] == "Email, Phone, Web form" and one["channels_missing"] == "Live chat, Client portal"
    assert (one["company"], one["company_source"], one["domain"], one["city"]) == ("Фирма 1", "input", "firm1.ru",
                                                                                 "Москва")
    assert (t.loc[3, "company"], t.loc[3, "company_source"]) == ("ООО «Ромашка»", "jsonld")
    assert t.loc[5, "emails"] == "x@firm5.ru; hidden@firm5.ru"  # visible first
    assert t.loc[6, "rank"] == 1 and t.loc[6, "score"] == 1.0


def test_the_workbook_opens_in_openpyxl_ready_for_import(audit):
    result = write_prospects(audit, lang="ru")
    book = openpyxl.load_workbook(result.written[0])
    assert book.sheetnames == ["prospects", "columns"]
    sheet = book["prospects"]
    assert [c.value for c in sheet[1]] == PROSPECT_COLUMNS
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == f"A1:P{len(result.table) + 1}"
    widths = {col: sheet.column_dimensions[col].width for col in "ABCDEFGHIJKLMNOP"}
    assert 8 <= widths["F"] <= 60 and widths["A"] < widths["F"]  # emails wider than the rank
    rows = {r[PROSPECT_COLUMNS.index("site_id")]: r for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert rows[1][PROSPECT_COLUMNS.index("phones")] == "+74951234567; +78432000000"  # text, no apostrophe
    evil = next(c for c in sheet["B"] if c.value and str(c.value).startswith("=HYPERLINK"))
    assert evil.data_type == "s" and evil.quotePrefix  # a string shown as typed, never a formula
    assert rows[6][PROSPECT_COLUMNS.index("score")] == 1 and rows[1][PROSPECT_COLUMNS.index("score")] == 0.4  # numbers
    notes = {r[0]: r for r in book["columns"].iter_rows(min_row=2, values_only=True)}
    assert set(notes) == set(PROSPECT_COLUMNS) and "E.164" in notes["phones"][2]
    raw = result.written[1].read_text(encoding="utf-8-sig")
    assert "'=HYPERLINK" in raw and "'+74951234567; +78432000000" in raw  # the CSV neutralises, Excel-safe


def test_filters(audit):
    missing = write_prospects(audit, missing=["portal"], min_channels=2).table
    assert sorted(missing["site_id"]) == [1, 5]  # no portal and at least two channels
    assert sorted(write_prospects(audit, missing=["portal", "chat"]).table["site_id"]) == [1, 3, 5]
    assert sorted(write_prospects(audit, cities=["казань"]).table["site_id"]) == [2, 6]
    assert write_prospects(audit, min_channels=5).table["site_id"].tolist() == [6]
    with pytest.raises(InvalidOption, match="--missing fax: not a channel"):
        write_prospects(audit, missing=["fax"])
    with pytest.raises(InvalidOption, match="--min-channels must be between 0 and 5"):
        write_prospects(audit, min_channels=6)


def test_overrides_change_channels_and_drop_rejected_contacts(audit, tmp_path):
    path = overrides_file(tmp_path, [{"site_id": 1, "channel": "email", "value": "reject", "finding": "b@firm1.ru"},
                                     {"site_id": 1, "channel": "portal", "value": 1}])
    t = write_prospects(audit, overrides=path).table.set_index("site_id")
    assert t.loc[1, "emails"] == "a@firm1.ru" and "Клиентский портал" in t.loc[1, "channels_present"]
    assert t.loc[1, "overridden"] == 1 and t.loc[2, "overridden"] == 0  # the portal; the email stays (a@ left)
    assert "overridden" not in write_prospects(audit).table


def test_cli(audit, tmp_path):
    out = tmp_path / "crm" / "leads.xlsx"
    res = CliRunner().invoke(app, ["prospects", str(audit), "--out", str(out), "--missing", "portal", "--city", "Москва",
                                   "--lang", "en"])
    assert res.exit_code == 0, res.output
    assert "3 of 5 audited companies" in res.output and out.exists() and (tmp_path / "crm" / "leads.csv").exists()
    res = CliRunner().invoke(app, ["prospects", str(audit), "--missing", "fax"])
    assert res.exit_code == 2 and "error: --missing fax: not a channel" in res.output


def test_benchmark_with_overrides(audit, tmp_path):
    from chanaudit.reports.benchmark import write_benchmark

    path = overrides_file(tmp_path, [{"site_id": 2, "channel": "portal", "value": 0},
                                     {"site_id": 6, "channel": "chat", "value": 0}])
    done = write_benchmark("firm1.ru", audit, tmp_path / "bench", lang="en", formats=("png",), overrides=path)
    table = done.benchmark.table.set_index("metric")
    # peers of site 1: 2, 3, 5, 6; after review portal only on 6, chat on 2
    assert table.loc["portal", ["market_k", "market_n", "overridden"]].tolist() == [1, 4, 1]
    assert table.loc["chat", ["market_k", "overridden"]].tolist() == [1, 1]
    assert table.loc["email", "overridden"] == 0 and table.loc["score", "overridden"] == 2
    assert done.benchmark.summary["local_by"] == "city" and done.benchmark.summary["local_peers"] == 2
