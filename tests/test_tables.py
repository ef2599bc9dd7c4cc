"""Exports open cleanly in Excel: BOM, no formula injection, round trip."""

from chanaudit.tables import read_csv, write_csv


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
