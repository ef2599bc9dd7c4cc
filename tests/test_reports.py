"""Charts draw what the tables say; the report escapes everything scraped. Tables are SYNTHETIC."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

from analysis.combinations import channel_counts, combinations
from analysis.prevalence import prevalence
from analysis.reproduce import reproduce
from analysis.studies import load_study
from reports import charts
from reports.document import build_report, evidence_page, safe_link


def sites() -> pd.DataFrame:
    rows = [(1, 1, 0, 1, 0), (1, 1, 1, 1, 1), (1, 0, 0, 0, 0), (0, 1, 0, 1, 1), (1, 1, 0, 0, 0)]
    frame = pd.DataFrame(rows, columns=["email", "phone", "chat", "form", "portal"])
    frame["status"] = "ok"
    frame["site_id"] = range(1, 6)
    frame["name"] = ["<script>alert(1)</script>", "Фирма «Альфа»", "B", "C", "D"]
    frame["url"] = ["javascript:alert(1)", "https://alfa.ru/", "https://b.ru/", "https://c.ru/", "https://d.ru/"]
    frame["final_url"] = frame["url"]
    frame["score"] = [0.4, 1.0, 0.1, 0.7, 0.2]
    frame["rank"] = [3, 1, 5, 2, 4]
    return frame


def test_prevalence_bars_equal_estimates_and_labels_are_russian():
    table = prevalence(sites())
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a missing Cyrillic glyph warns: fail on it
        ax = charts.plot_prevalence(table, lang="ru")
        ax.figure.canvas.draw()
    heights = sorted(round(p.get_width(), 6) for p in ax.patches)
    assert heights == sorted(round(x, 6) for x in table["estimate"])
    labels = {t.get_text() for t in ax.get_yticklabels()}
    assert labels == set(table["label_ru"])


def test_reproduce_dumbbell_marks_every_figure():
    table = reproduce(sites(), load_study("okdesk-2016-it-outsourcing"))
    ax = charts.plot_reproduce(table, lang="en")
    assert len(ax.get_yticklabels()) == len(table)
    assert any("exactly 4" in t.get_text() for t in ax.get_yticklabels())


def test_upset_and_counts_and_top(tmp_path):
    combos = combinations(sites())
    ax = charts.plot_upset(combos, lang="ru")
    assert [round(p.get_height()) for p in ax.patches] == combos["k"].tolist()
    ax = charts.plot_channel_counts(channel_counts(sites()), lang="en")
    assert len(ax.patches) == 12  # 6 counts x (exactly, at least)
    top = sites().sort_values("rank")
    ax = charts.plot_top(top, {"email": .1, "phone": .1, "chat": .2, "form": .2, "portal": .4}, lang="ru")
    paths = charts.save_figure(ax.figure, tmp_path / "top", ("png", "svg", "pdf"))
    assert all(p.stat().st_size > 1000 for p in paths)


def test_safe_links_and_escaping():
    assert safe_link("javascript:alert(1)") == "javascript:alert(1)"  # text, never a link
    assert safe_link("https://a.ru/?q=<x>").startswith('<a href="https://a.ru/?q=&lt;x&gt;"')
    evidence = pd.DataFrame([{"site_id": 1, "channel": "email", "value": "\"><img src=x onerror=alert(1)>",
                              "page_url": "javascript:alert(2)", "page_role": "home", "rule": "email.text",
                              "snippet": "<b onmouseover=alert(3)>x</b>"}])
    page = evidence_page(sites(), evidence)
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    assert "onerror=alert(1)>" not in page and "<b onmouseover" not in page
    assert 'href="javascript:' not in page


@pytest.mark.slow
def test_build_report_writes_html_pdf_evidence(tmp_path):
    s = sites()
    tables = {"sites": s, "prevalence": prevalence(s), "channel_counts": channel_counts(s),
              "combinations": combinations(s), "scores": s, "top": s.sort_values("rank"),
              "reproduce-okdesk-2016-it-outsourcing": reproduce(s, load_study("okdesk-2016-it-outsourcing")),
              "evidence": pd.DataFrame(columns=["site_id", "channel", "value", "page_url", "page_role", "rule",
                                                "snippet"])}
    paths = build_report(tables, tmp_path, "ru", {"version": "t", "counts": {"ok": 5}}, formats=("png",))
    html = paths.html.read_text(encoding="utf-8")
    assert "Аудит каналов обращений" in html and "data:image/png;base64" in html
    assert "<script>alert(1)</script>" not in html
    assert paths.pdf.exists() and paths.pdf.read_bytes().startswith(b"%PDF")
    assert paths.evidence_html.exists() and len(paths.charts) >= 5
