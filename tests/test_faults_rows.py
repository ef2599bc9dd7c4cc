"""Issue 12, items 6, 7, 9 and 10: hostile input files. Every input row gets exactly one output row; a bad
cell costs its own row (invalid_input, file:line, reason), never the file or the run.

The files are built here byte by byte: XLSX with a stale ``<dimension>`` (the sheet XML edited as
exporters write it), an XLSX zip bomb, a UTF-8 CSV with one cp1251 line, a NUL byte, a 1 MB cell and a
stray quote that swallows rows.
"""

from __future__ import annotations

import zipfile

import pytest

from chanaudit.core.folder import AuditFolder
from chanaudit.core.tables import MAX_XLSX_UNPACKED, TableError, read_table
from chanaudit.crawler.sites import SiteListError, read_sites
from chanaudit.demo.server import Site, SiteServer
from chanaudit.demo.survey import generate_survey
from tests.conftest import FIXTURES
from tests.faults import chanaudit, edit_sheet, one_row_per_input, stale_dimension, write_xlsx

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def four_sites():
    sites = [Site(f"s{i}", root=FIXTURES / "sites" / "basic") for i in range(4)]
    with SiteServer(sites) as server:
        yield [server.url(s.name) for s in sites]


def audit(csv_path, out, *more):
    return chanaudit("audit", csv_path, "--out", out, "--allow-private", "--render", "never", "--delay", "0",
                     "--timeout", "5", *more)


# -- item 6: XLSX with a stale <dimension> ------------------------------------------------------------------
@pytest.mark.parametrize("ref", ["A1:B4", "A1:A1", "A1"])
def test_stale_dimension_every_row_is_read(tmp_path, ref):
    path = write_xlsx(tmp_path / "sites.xlsx", [["url", "name"], *[[f"site{i}.ru", f"Компания {i}"] for i in range(20)]])
    stale_dimension(path, ref)
    sites = read_sites(path)
    assert [s.raw for s in sites.sites] == [f"site{i}.ru" for i in range(20)]
    assert [s.line for s in sites.sites] == list(range(2, 22))
    assert sites.sites[-1].extra == {"name": "Компания 19"}


def test_audit_of_a_stale_dimension_xlsx(tmp_path, four_sites):
    rows = [["url", "name"], *[[four_sites[i % 4], f"n{i}"] for i in range(12)]]
    path = stale_dimension(write_xlsx(tmp_path / "sites.xlsx", rows), "A1:B4")
    done = audit(path, tmp_path / "out")
    assert done.returncode == 0, done.output
    assert "12 rows" in done.output
    frame = one_row_per_input(tmp_path / "out", 12)
    assert (frame["status"] == "ok").all() and list(frame["name"]) == [f"n{i}" for i in range(12)]


def test_survey_import_of_a_stale_dimension_xlsx(tmp_path):
    export = generate_survey(20, 1)
    path = write_xlsx(tmp_path / "export.xlsx", [list(export.columns), *export.astype(str).values.tolist()])
    stale_dimension(path, "A1:L4")
    done = chanaudit("survey", "import", path, "--out", tmp_path / "sv", env={"CHANAUDIT_SURVEY_SALT": "s"})
    assert done.returncode == 0, done.output
    assert "20 respondents" in done.output
    assert len(AuditFolder(tmp_path / "sv").read(AuditFolder.SURVEY)) == 20


# -- zip bombs and long cells in XLSX ---------------------------------------------------------------------------
def _bomb(path):
    """A real zip bomb: a sheet of one inline string a little over the unpacked limit, deflated to ~100 KB."""
    head = (b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
            b'spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>')
    body = head + b"A" * (MAX_XLSX_UNPACKED + 1) + b"</t></is></c></row></sheetData></worksheet>"
    write_xlsx(path, [["url"], ["a.ru"]])
    with zipfile.ZipFile(path) as archive:
        parts = {info.filename: archive.read(info) for info in archive.infolist()}
    parts["xl/worksheets/sheet1.xml"] = body
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return path


def test_xlsx_zip_bomb_is_refused_before_parsing(tmp_path):
    path = _bomb(tmp_path / "bomb.xlsx")
    assert path.stat().st_size < 1_000_000
    with pytest.raises(TableError, match=r"bomb.xlsx: the workbook unpacks to 100 MB, more than 100 MB \(a zip bomb"):
        read_table(path)
    done = audit(path, tmp_path / "out")
    assert done.returncode == 2 and f"error: {path}: the workbook unpacks to" in done.output
    done = chanaudit("survey", "import", path, "--out", tmp_path / "sv", env={"CHANAUDIT_SURVEY_SALT": "s"})
    assert done.returncode == 2 and f"error: {path}: the workbook unpacks to" in done.output


def test_xlsx_cell_over_the_limit_costs_its_row(tmp_path):
    path = write_xlsx(tmp_path / "sites.xlsx", [["url", "note"], ["a.ru", "x"], ["b.ru", "LONG"], ["c.ru", "z"]])
    edit_sheet(path, b">LONG<", b">" + b"y" * 40_000 + b"<")  # openpyxl itself writes at most 32,767
    sites = read_sites(path)
    assert [s.url for s in sites.sites] == ["http://a.ru/", None, "http://c.ru/"]
    assert sites.sites[1].error == f"{path}:3: a cell of 40,000 characters, more than 32,767; the row is not read"
    assert sites.sites[1].extra == {"note": ""}


# -- items 7, 9 and 10: one hostile CSV, one row each ------------------------------------------------------------
def test_hostile_csv_every_row_costs_only_itself(tmp_path, four_sites):
    s0, s1, s2, s3 = four_sites
    lines = [
        b"url,name",  # 1
        f"{s0},ООО Альфа".encode(),  # 2
        "http://[1::2::3]/,Плохой адрес 1".encode(),  # 3
        "http://[::1/,Плохой адрес 2".encode(),  # 4
        "http://x.com]/,Плохой адрес 3".encode(),  # 5
        "javascript:alert(1),Скрипт".encode(),  # 6
        "mailto:info@firm.ru,Почта".encode(),  # 7
        f"{s1},x\x00y".encode(),  # 8: a NUL byte in the first 4 KB
        f"{s2},ООО Бета".encode("cp1251"),  # 9: one cp1251 line in a UTF-8 file
        b"http://big.ru/," + b"A" * 1_000_000,  # 10: a 1 MB cell
        b'"stray.ru,Q',  # 11: a quote opened here ...
        f"{s3},Gamma".encode(),  # 12
        f"{s1},Delta".encode(),  # 13
        b'closing.ru",Z',  # 14: ... and closed here, swallowing lines 12-13
    ]
    path = tmp_path / "sites.csv"
    path.write_bytes(b"\n".join(lines) + b"\n")
    out = tmp_path / "out"
    done = audit(path, out)
    assert done.returncode == 0, done.output
    frame = one_row_per_input(out, 13)
    by_line = dict(zip(range(2, 15), frame.to_dict("records"), strict=True))
    assert [line for line, r in by_line.items() if r["status"] == "ok"] == [2, 9, 12, 13]
    expected = {
        3: "bad IPv6 address '1::2::3'",
        4: "unbalanced [ ]",
        5: "unbalanced [ ]",
        6: "a javascript: link, not a website",
        7: "an e-mail link (mailto:), not a website",
        8: "a NUL byte (binary data) in the row",
        10: "a cell of 1,000,000 characters, more than 32,767; the row is not read",
        11: 'a quote (") opened on this line runs to line 14, swallowing lines 12–13; read without it',
        14: "bad domain",
    }
    for line, reason in expected.items():
        row = by_line[line]
        assert row["status"] == "invalid_input", (line, row)
        assert row["status_detail"].startswith(f"{path}:{line}: ") and reason in row["status_detail"], (line, row)
        assert f"invalid input: {path}:{line}:" in done.output
    assert by_line[9]["name"] == "ООО Бета" and by_line[2]["name"] == "ООО Альфа"
    assert f"warning: {path}:9: not utf-8 like the rest of the file: read as cp1251" in done.output
    assert by_line[10]["name"] != by_line[10]["name"]  # NaN: the long cell is emptied, not carried
    manifest = AuditFolder(out).manifest()
    assert manifest["state"] == "complete" and manifest["input"]["encoding"] == "utf-8"
    assert manifest["counts"] == {"invalid_input": 9, "ok": 4}


def test_mixed_encodings_are_read_by_majority_with_the_odd_lines_reported(tmp_path):
    rows = ["url,name", "пример.рф,Пример", "сайт.рф,Сайт", "почта.рф,Почта", "компания.рф,Компания"]
    data = [r.encode("utf-8") for r in rows]
    data[3] = rows[3].encode("cp1251")  # one cp1251 line among UTF-8 ones
    path = tmp_path / "mixed.csv"
    path.write_bytes(b"\r\n".join(data) + b"\r\n")
    sites = read_sites(path)
    assert sites.encoding == "utf-8"
    # reference: Python's own IDNA 2003 codec, independent of the idna package the reader uses
    assert [s.url for s in sites.sites] == [f"http://{r.split(',')[0].encode('idna').decode()}/" for r in rows[1:]]
    assert [s.extra["name"] for s in sites.sites] == ["Пример", "Сайт", "Почта", "Компания"]
    assert sites.warnings == [f"{path}:4: not utf-8 like the rest of the file: read as cp1251"]
    # the reverse: a cp1251 file with one UTF-8 line (and koi8-r is not mistaken for it)
    data = [r.encode("cp1251") for r in rows]
    data[2] = rows[2].encode("utf-8")
    path.write_bytes(b"\n".join(data) + b"\n")
    sites = read_sites(path)
    assert sites.encoding == "cp1251"
    assert [s.extra["name"] for s in sites.sites] == ["Пример", "Сайт", "Почта", "Компания"]
    assert sites.warnings == [f"{path}:3: not cp1251 like the rest of the file: read as utf-8"]


def test_a_stray_quote_never_closed_still_costs_one_row(tmp_path):
    path = tmp_path / "sites.csv"
    path.write_text('url,name\na.ru,A\n"b.ru,B\nc.ru,C\n', encoding="utf-8")
    sites = read_sites(path)
    assert [s.url for s in sites.sites] == ["http://a.ru/", None, "http://c.ru/"]
    assert sites.sites[1].error == f'{path}:3: a quote (") opened on this line is never closed'


def test_a_multi_line_answer_is_not_a_stray_quote(tmp_path):
    path = tmp_path / "sites.csv"
    path.write_text('url,note\na.ru,"line one\nline two, with a comma\nline three"\nb.ru,B\n', encoding="utf-8")
    sites = read_sites(path)
    assert [s.url for s in sites.sites] == ["http://a.ru/", "http://b.ru/"]
    assert sites.sites[0].extra["note"] == "line one\nline two, with a comma\nline three"


def test_binary_and_utf16_files_are_still_refused_whole(tmp_path):
    path = tmp_path / "sites.csv"
    path.write_bytes(bytes(range(256)) * 20)
    with pytest.raises(SiteListError, match="binary content"):
        read_sites(path)


def test_survey_import_keeps_every_respondent_of_a_hostile_csv(tmp_path):
    export = generate_survey(12, 3)
    export.iloc[5, export.columns.get_loc("Регион")] = "Я" * 1_000_000  # file line 7: a 1 MB answer
    path = tmp_path / "export.csv"
    export.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")
    lines = path.read_bytes().split(b"\n")
    lines[3] = lines[3].decode("utf-8").encode("cp1251")  # file line 4 in cp1251
    path.write_bytes(b"\n".join(lines))
    done = chanaudit("survey", "import", path, "--out", tmp_path / "sv", env={"CHANAUDIT_SURVEY_SALT": "s"})
    assert done.returncode == 0, done.output
    assert "12 respondents" in done.output
    issues = AuditFolder(tmp_path / "sv").read(AuditFolder.SURVEY_ISSUES)
    reasons = dict(zip(issues["line"], issues["reason"], strict=False))
    assert reasons[4] == "not utf-8 like the rest of the file: read as cp1251"
    assert reasons[7] == "a cell of 1,000,000 characters, more than 32,767; the row is not read"
    survey = AuditFolder(tmp_path / "sv").read(AuditFolder.SURVEY)
    assert len(survey) == 12
