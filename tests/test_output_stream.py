"""Outputs streamed from the journal (issue 15): an offset index instead of every record in memory, the
CSVs cell for cell as write_csv writes them, and evidence and pages as Parquet (``--format parquet``).
Records are synthetic, as the spider journals them."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from chanaudit.core.contract import EVIDENCE_COLUMNS, PAGE_COLUMNS, SITE_COLUMNS, Evidence
from chanaudit.core.folder import AuditFolder
from chanaudit.core.tables import read_csv, write_csv
from chanaudit.crawler import output
from chanaudit.crawler.journal import Journal, JournalIndex, read_journal
from chanaudit.crawler.output import CsvOut, base_manifest, write_outputs
from chanaudit.crawler.sites import read_sites
from chanaudit.crawler.spider import PageRecord

HOSTILE = ["=HYPERLINK(\"http://x\")", "+7 495 000-00-00", "-1", "@SUM(A1)", "Рога и копыта", 'a "quoted", cell',
           "two\nlines", "", None]


def journal_site(journal: Journal, site_id: int, status: str = "ok", n_evidence: int = 2) -> None:
    ok = status == "ok"
    row = {"site_id": site_id, "input": f"s{site_id}.ru", "url": f"http://s{site_id}.ru/",
           "final_url": f"http://s{site_id}.ru/" if ok else "", "status": status,
           "status_detail": HOSTILE[site_id % len(HOSTILE)] or "", "http_status": 200 if ok else None,
           "pages": 2, "rendered": 0, "email": 1 if ok else None, "phone": 0 if ok else None, "chat": 0 if ok else None,
           "form": 1 if ok else None, "portal": 0 if ok else None, "channels": 2 if ok else None,
           "final_domain": f"s{site_id}.ru", "moved": 0}
    evidence = [("home" if k % 2 else "contacts",
                 Evidence("email", f"info{k}@s{site_id}.ru", f"http://s{site_id}.ru/", "mailto", "email.mailto",
                          snippet=HOSTILE[(site_id + k) % len(HOSTILE)] or "", counted=bool(k % 3)))
                for k in range(n_evidence)]
    pages = [PageRecord(site_id, f"http://s{site_id}.ru/", "home", 0, 200, 1234, "text/html", 0, 210),
             PageRecord(site_id, f"http://s{site_id}.ru/js/a.js", "script", 0, None, 0, "", 0, 0, "timeout: 5 s")]
    assert journal.record(row, evidence, pages)


@pytest.fixture
def audit(tmp_path, sites_csv):
    """Ten input rows (one invalid) crawled by two workers' journals, the last line of one cut by a kill,
    site 4 journaled twice (the later record stands), site 9 never finished."""
    path = sites_csv([{"url": f"s{i}.ru" if i != 6 else "javascript:alert(1)", "name": HOSTILE[i % len(HOSTILE)] or "x"}
                      for i in range(1, 11)])
    site_list = read_sites(path)
    out = tmp_path / "out"
    first, second = Journal(out / "journal.jsonl").open(), Journal(out / "journal.1.jsonl").open()
    for sid in (1, 2, 3, 4):
        journal_site(first, sid)
    for sid in (4, 5, 7, 8, 10):
        journal_site(second, sid, status="http_error" if sid == 7 else "ok")
    journal_site(first, 4, n_evidence=5)
    first.close()
    second.close()
    with open(out / "journal.jsonl", "ab") as fh:
        fh.write(b'{"row": {"site_id": 9, "status": "ok", "inp')  # a kill mid-write
    return site_list, out


def test_the_index_finds_the_last_complete_record_of_each_site(audit):
    site_list, out = audit
    with JournalIndex(out / "journal.jsonl", len(site_list.sites)) as index:
        assert sorted(index) == [1, 2, 3, 4, 5, 7, 8, 10] and len(index) == 8
        assert 9 not in index and 6 not in index and 0 not in index and 11 not in index
        assert len(index[4]["evidence"]) == 5  # the last record stands (journal.1, then journal)
        assert {sid: index.get(sid) for sid in index} == read_journal(out / "journal.jsonl")
        assert index.get(9) is None


def test_a_line_with_its_keys_in_another_order_is_still_indexed(tmp_path):
    line = {"pages": [], "evidence": [], "row": {"status": "ok", "site_id": 2}}
    (tmp_path / "journal.jsonl").write_text(json.dumps(line) + "\n", encoding="utf-8")
    with JournalIndex(tmp_path / "journal.jsonl", 3) as index:
        assert list(index) == [2] and index[2]["row"]["status"] == "ok"


def test_streamed_outputs_are_the_files_write_csv_writes(audit):
    """The same bytes as writing every table at once with write_csv from the records in memory (the way
    the outputs were written before): formula triggers neutralised, whole numbers without .0, booleans."""
    site_list, out = audit
    with JournalIndex(out / "journal.jsonl", len(site_list.sites)) as index:
        manifest = write_outputs(site_list, index, out, base_manifest(site_list, {}), missing_detail="not crawled")
    records = read_journal(out / "journal.jsonl")
    rows = output.site_rows(site_list, records, "not crawled")
    order = [s.site_id for s in site_list.sites if s.site_id in records]
    reference = out / "reference"
    write_csv(rows, reference / "sites.csv", columns=[*SITE_COLUMNS, *site_list.passthrough])
    write_csv([{"site_id": sid, **ev} for sid in order for ev in records[sid]["evidence"]], reference / "evidence.csv",
              columns=EVIDENCE_COLUMNS)
    write_csv([p for sid in order for p in records[sid]["pages"]], reference / "pages.csv", columns=PAGE_COLUMNS)
    for name in ("sites.csv", "evidence.csv", "pages.csv"):
        assert (out / name).read_bytes() == (reference / name).read_bytes(), name
    frame = read_csv(out / "sites.csv")
    assert list(frame["site_id"]) == list(range(1, 11))
    assert list(frame["status"]) == ["ok"] * 5 + ["invalid_input", "http_error", "ok", "error", "ok"]
    assert manifest["counts"] == {"error": 1, "http_error": 1, "invalid_input": 1, "ok": 7}
    assert manifest["evidence_rows"] == 2 * 7 + 5 and manifest["scripts_fetched"] == 8
    assert manifest["pages_fetched"] == 8 and manifest["format"] == "csv"
    assert not list(out.glob("*.tmp"))


def test_a_cell_is_written_as_write_csv_writes_it(tmp_path):
    values = [None, "", "=1+1", "-3", "@x", "\tx", "текст", 'a "b"', "x\r\ny", 0, 7, -2, 200.0, 0.35, 1e-07,
              float("nan"), True, False]
    rows = [{"v": v} for v in values]
    stream = CsvOut(tmp_path / "stream.csv", ["v"])
    for row in rows:
        stream.write(row)
    stream.commit()
    for v in values:  # cell for cell: each value alone in a column, as write_csv types a column by its values
        write_csv([{"v": v}], tmp_path / "one.csv", columns=["v"])
        one = CsvOut(tmp_path / "mine.csv", ["v"])
        one.write({"v": v})
        one.commit()
        assert (tmp_path / "mine.csv").read_bytes() == (tmp_path / "one.csv").read_bytes(), repr(v)
    assert read_csv(tmp_path / "stream.csv")["v"].iloc[2] == "=1+1"  # neutralised on disk, read back as it was


def test_parquet_holds_evidence_and_pages_and_every_stage_reads_them(audit, monkeypatch):
    site_list, out = audit
    monkeypatch.setattr(output, "PARQUET_BATCH", 3)  # several batches: the order must hold across them
    with JournalIndex(out / "journal.jsonl", len(site_list.sites)) as index:
        write_outputs(site_list, index, out, base_manifest(site_list, {}))
    csv_evidence = read_csv(out / "evidence.csv")
    csv_pages = read_csv(out / "pages.csv")
    with JournalIndex(out / "journal.jsonl", len(site_list.sites)) as index:
        manifest = write_outputs(site_list, index, out, base_manifest(site_list, {}), fmt="parquet")
    folder = AuditFolder(out)
    assert manifest["format"] == "parquet"
    assert not folder.evidence.exists() and not folder.pages.exists()  # the CSVs of the earlier run are gone
    assert folder.has(AuditFolder.EVIDENCE) and folder.has(AuditFolder.PAGES)
    evidence, pages = folder.read(AuditFolder.EVIDENCE), folder.read(AuditFolder.PAGES)
    assert list(evidence.columns) == list(EVIDENCE_COLUMNS) and list(pages.columns) == list(PAGE_COLUMNS)
    assert len(evidence) == len(csv_evidence) == manifest["evidence_rows"] and len(pages) == len(csv_pages)
    assert evidence["snippet"].tolist() == csv_evidence["snippet"].tolist()  # raw text, formula triggers too
    assert evidence["counted"].tolist() == csv_evidence["counted"].tolist()
    assert pages["http_status"].isna().tolist() == csv_pages["http_status"].isna().tolist()
    assert pages["elapsed_ms"].tolist() == csv_pages["elapsed_ms"].tolist()
    assert str(pd.read_parquet(folder.parquet(AuditFolder.PAGES))["bytes"].dtype) == "int64"
    assert set(folder.tables()) >= {"sites", "evidence", "pages"}
    with JournalIndex(out / "journal.jsonl", len(site_list.sites)) as index:
        write_outputs(site_list, index, out, base_manifest(site_list, {}))
    assert folder.evidence.exists() and not folder.parquet(AuditFolder.EVIDENCE).exists()


@pytest.mark.slow
def test_a_parquet_audit_is_read_by_the_later_stages(tmp_path):
    """`chanaudit audit --format parquet` for real, then `chanaudit review` and `chanaudit analyze` on its folder."""
    from chanaudit.demo.server import Site, SiteServer
    from tests.conftest import FIXTURES, write_sites_csv
    from tests.faults import chanaudit

    sites = [Site(f"p{i}", root=FIXTURES / "sites" / "basic") for i in range(2)]
    with SiteServer(sites) as server:
        listing = write_sites_csv(tmp_path / "in.csv", [{"url": server.url(s.name)} for s in sites])
        out = tmp_path / "out"
        done = chanaudit("audit", listing, "--out", out, "--allow-private", "--render", "never", "--delay", "0",
                         "--format", "parquet", "--workers", "1")
    assert done.returncode == 0, done.output
    folder = AuditFolder(out)
    assert folder.parquet(AuditFolder.EVIDENCE).exists() and not folder.evidence.exists()
    assert folder.manifest()["format"] == "parquet"
    assert (folder.read(AuditFolder.EVIDENCE)["value"] == "info@test-service.ru").sum() >= 2
    reviewed = chanaudit("review", out)
    assert reviewed.returncode == 0, reviewed.output
    assert "info@test-service.ru" in (out / "report" / "review.html").read_text(encoding="utf-8")
    analyzed = chanaudit("analyze", out)
    assert analyzed.returncode == 0, analyzed.output
    bad = chanaudit("audit", listing, "--out", tmp_path / "x", "--format", "xlsx")
    assert bad.returncode == 2 and "error: format must be csv or parquet, not 'xlsx'" in bad.output
