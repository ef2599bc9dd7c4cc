"""Exports open cleanly in Excel: BOM, no formula injection, round trip."""

from chanaudit.core.tables import read_csv, write_csv


def test_formula_injection_neutralised_and_round_trip(tmp_path):
    rows = [{"value": "=HYPERLINK(\"http://evil\")", "n": 1}, {"value": "+74951234567", "n": -2},
            {"value": "@SUM(A1)", "n": 3}, {"value": "Телефон", "n": 4}]
    path = write_csv(rows, tmp_path / "t.csv")
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel reads Cyrillic
    text = raw.decode("utf-8-sig")
    assert "'=HYPERLINK" in text and "'+7495" in text and "'@SUM" in text
    assert ",-2" in text  # numbers are not text: left alone
    back = read_csv(path)
    assert list(back["value"]) == [r["value"] for r in rows]


def test_whole_numbers_stay_integers_beside_blanks(tmp_path):
    # an ok row has http_status 200 and channel flags; a failed row has blanks there
    rows = [{"status": "ok", "http_status": 200, "email": 1, "score": 0.3},
            {"status": "dns_error", "http_status": None, "email": None, "score": None}]
    text = write_csv(rows, tmp_path / "t.csv").read_text(encoding="utf-8-sig")
    assert text.splitlines() == ["status,http_status,email,score", "ok,200,1,0.3", "dns_error,,,"]
