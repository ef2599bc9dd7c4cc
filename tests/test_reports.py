"""Charts draw what the tables say; the report escapes everything scraped. Tables are SYNTHETIC."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

from chanaudit.analysis.combinations import channel_counts, combinations
from chanaudit.analysis.prevalence import prevalence
from chanaudit.analysis.reproduce import reproduce
from chanaudit.analysis.studies import load_study
from chanaudit.reports import charts
from chanaudit.reports.document import build_report, safe_link
from chanaudit.reports.review import review_page


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
    page = review_page(sites(), evidence, audit="t")  # the review page replaced evidence.html: data as JSON
    assert "<script>alert(1)</script>" not in page and "\\u003cscript\\u003ealert(1)\\u003c/script\\u003e" in page
    assert "onerror=alert(1)>" not in page and "<b onmouseover" not in page
    assert 'href="javascript:' not in page


@pytest.mark.slow
def test_build_report_writes_html_pdf_review(tmp_path):
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
    assert paths.review_html.exists() and len(paths.charts) >= 5
    assert "href='review.html'" in html  # the report links to the review page


# --- human words: group labels, section headings, column headers, verdicts -------------------------------

def city_sites() -> pd.DataFrame:
    """SYNTHETIC: Москва 12 audited sites, Казань 11, three small towns 3 + 2 + 1 (6 together)."""
    sizes = [("Москва", 12), ("Казань", 11), ("Омск", 3), ("Пермь", 2), ("Уфа", 1)]
    rows = [{"city": c, "email": i % 2, "phone": 1, "chat": 0, "form": int(i < 2), "portal": 0, "status": "ok"}
            for c, n in sizes for i in range(n)]
    frame = pd.DataFrame(rows)
    frame["site_id"] = range(1, len(frame) + 1)
    return frame


def test_group_chart_names_the_variable_and_labels_groups_with_n():
    from chanaudit.analysis.compare import grouped_comparison

    table, _ = grouped_comparison(city_sites(), "city", min_n=10)
    ax = charts.plot_groups(table, lang="ru")
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["Москва (n = 12)", "Казань (n = 11)", "другие (3 группы, n = 6)"]  # largest first
    assert ax.get_title() == "Каналы по группам: Город"
    assert "10" in ax.get_xaxis().get_label().get_text()  # the folding rule is written on the chart
    ax = charts.plot_groups(table, lang="en")
    assert [t.get_text() for t in ax.get_yticklabels()][-1] == "other (3 groups, n = 6)"
    assert ax.get_title() == "Channels by group: City"
    unfolded, _ = grouped_comparison(city_sites(), "city", min_n=1)
    ax = charts.plot_groups(unfolded.assign(group_var="sector"), lang="ru")
    assert ax.get_title().endswith(": sector")  # an unknown variable is shown as it is
    assert [t.get_text() for t in ax.get_yticklabels()][-1] == "Уфа (n = 1)"


def _report_tables(lang_sites: pd.DataFrame) -> dict:
    from chanaudit.analysis.compare import grouped_comparison

    s = lang_sites
    groups, tests = grouped_comparison(s, "city", min_n=10)
    rep = reproduce(s, load_study("okdesk-2016-it-outsourcing"))
    return {"sites": s, "prevalence": prevalence(s), "channel_counts": channel_counts(s),
            "combinations": combinations(s), "scores": s.assign(score=0.2), "top": sites().sort_values("rank"),
            "reproduce-okdesk-2016-it-outsourcing": rep.drop(columns=["verdict_label_en", "verdict_label_ru"]),
            "groups-city": groups, "groups-city-tests": tests,
            "accuracy": pd.DataFrame([{"channel": "email", "tp": 5, "fp": 0, "fn": 1, "tn": 3, "n": 9,
                                       "precision": 1.0, "recall": 5 / 6, "f1": 0.909}])}


@pytest.mark.parametrize("lang,headings,words", [
    ("ru", ["Доля сайтов с каждым каналом", "Сверка с исследованием: Каналы обращений в службу поддержки",
            "Каналы по группам: Город", "Различаются ли группы", "Число каналов на сайте", "Сочетания каналов",
            "Лидеры по баллу", "Точность обнаружения каналов"],
     ["Сайтов с каналом", "95% ДИ", "Вывод", "согласуется", "нет опубликованного значения",
      "Москва (n = 12)", "другие (3 группы, n = 6)", "Эл. почта + Телефон", "Найдено верно"]),
    ("en", ["Share of sites with each channel", "Checked against the study: Support request channels",
            "Channels by group: City", "Do the groups differ", "Number of channels per site", "Channel combinations",
            "Highest-scoring companies", "Channel detection accuracy"],
     ["Sites with it", "95% CI", "Verdict", "consistent", "no published value", "other (3 groups, n = 6)",
      "Email + Phone", "Found correctly"]),
])
def test_report_speaks_to_people_in_both_languages(tmp_path, monkeypatch, lang, headings, words):
    import re

    from chanaudit.reports import document

    monkeypatch.setattr(document, "_print_pdf", lambda *a, **k: False)  # no browser, no PDF: the HTML is tested
    monkeypatch.setattr(document, "_pdf_from_charts", lambda made, path: path.write_bytes(b"%PDF-"))
    paths = build_report(_report_tables(city_sites()), tmp_path, lang, {"version": "t", "counts": {"ok": 29}},
                         formats=("png",))
    html = paths.html.read_text(encoding="utf-8")
    shown = [re.sub(r"<[^>]+>", "", h) for h in re.findall(r"<h[23]>(.*?)</h[23]>", html)]
    for heading in headings:
        assert any(h.startswith(heading) for h in shown), (heading, shown)
    internal = {"prevalence", "channel_counts", "combinations", "scores", "top", "accuracy", "groups-city",
                "groups-city-tests", "reproduce-okdesk-2016-it-outsourcing"}
    assert not internal & set(shown)
    assert html.count("<p class='lead'>") >= len(headings)  # every section says what it shows
    headers = [re.sub(r"<[^>]+>", "", h) for h in re.findall(r"<th[^>]*>(.*?)</th>", html)]
    assert headers and not [h for h in headers if re.fullmatch(r"[a-z0-9]+(_[a-z0-9]+)+", h)], headers
    for word in words:
        assert word in html, word
    visible = re.sub(r"<[^>]+>", " ", re.sub(r"<style>.*?</style>", "", html))
    for code in ("no_published_value", "not_computable", "ci_low", "label_ru", "n_channels", "group_var"):
        assert code not in visible, code
    share = f"{13 / 29:.1%}"  # email: hand, 6 + 5 + 1 + 1 + 0 of 29; a share stays a percentage
    assert f"<td class='num'>{share.replace('.', ',') if lang == 'ru' else share}</td>" in html
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html  # scraped names escaped
    assert 'href="javascript:' not in html


def test_report_command_folds_small_groups_of_an_old_table(tmp_path):
    from chanaudit.analysis.compare import compare_groups
    from chanaudit.core.tables import write_csv
    from chanaudit.reports import load_tables

    s = city_sites()
    write_csv(s, tmp_path / "sites.csv")
    old, old_tests = compare_groups(s, "city", ["email", "phone", "chat", "form", "portal"])  # no folding
    write_csv(old, tmp_path / "groups-city.csv")
    write_csv(old_tests, tmp_path / "groups-city-tests.csv")
    said = []
    tables = load_tables(tmp_path, 10, say=said.append)
    groups = tables["groups-city"]
    assert set(groups["group"].astype(str)) == {"Москва", "Казань", "other"}
    assert groups.set_index("group").loc["other", "n"].max() == 6 and said and "folded" in said[0]
    assert len(pd.read_csv(tmp_path / "groups-city.csv", encoding="utf-8-sig")) == len(old)  # the CSV untouched
    kept = load_tables(tmp_path, 1)["groups-city"]
    assert set(kept["group"].astype(str)) == {"Москва", "Казань", "Омск", "Пермь", "Уфа"}


@pytest.mark.parametrize("lang,ticks", [("ru", ["0,0", "0,1", "0,2"]), ("en", ["0.0", "0.1", "0.2"])])
def test_score_axes_use_the_language_decimal_mark(lang, ticks):
    ax = charts.plot_score_distribution(pd.DataFrame({"score": [0.1, 0.4, 0.4, 1.0]}), lang=lang)
    ax.figure.canvas.draw()
    assert [t.get_text() for t in ax.get_xticklabels()][:3] == ticks


# --- the stage: chanaudit.reports.build ------------------------------------------------------------------

def test_report_states_the_weights_the_scores_used(tmp_path, monkeypatch):
    from pathlib import Path

    from typer.testing import CliRunner

    from chanaudit.cli import app
    from chanaudit.core.tables import write_csv
    from chanaudit.reports import build

    legends = {}
    save = charts.save_figure

    def spy(fig, stem, formats=("png",), dpi=300):  # what the saved chart's legend says
        legend = fig.axes[0].get_legend()
        legends[Path(stem).name] = [t.get_text() for t in legend.get_texts()] if legend else []
        return save(fig, stem, formats, dpi)

    monkeypatch.setattr(charts, "save_figure", spy)
    write_csv(sites(), tmp_path / "sites.csv")
    res = CliRunner().invoke(app, ["score", str(tmp_path), "--weight", "email=0.4", "--weight", "phone=0",
                                   "--normalise", "--draws", "20"])
    assert res.exit_code == 0, res.output
    paths = build(tmp_path, "en", formats=("png",), chromium=None)  # no browser: the PDF from the charts
    assert paths.pdf.read_bytes().startswith(b"%PDF")
    html = paths.html.read_text(encoding="utf-8")
    # hand: (0.4, 0, 0.2, 0.2, 0.4) / 1.2 = 0.333, 0, 0.167, 0.167, 0.333
    assert "Email — 0.333; Phone — 0; Live chat — 0.167; Web form — 0.167; Client portal — 0.333)" in html
    assert legends["top-en"] == ["Email (0.333)", "Phone (0)", "Live chat (0.167)", "Web form (0.167)",
                                 "Client portal (0.333)"]
    assert "Email — 0.1;" not in html and "default weights" not in html
    (tmp_path / "scoring.json").unlink()  # scores without a record of their weights: defaults, said so
    html = build(tmp_path, "ru", formats=("png",), chromium=None).html.read_text(encoding="utf-8")
    assert ("Эл. почта — 0,1; Телефон — 0,1; Онлайн-чат — 0,2; Веб-форма — 0,2; Клиентский портал — 0,4; "
            "веса исследования по умолчанию: запуск оценки (chanaudit score) не записан") in html
    assert legends["top-ru"] == ["Эл. почта (0,1)", "Телефон (0,1)", "Онлайн-чат (0,2)", "Веб-форма (0,2)",
                                 "Клиентский портал (0,4)"]


def test_report_stage_checks_its_options(tmp_path):
    from chanaudit.core.errors import InvalidOption
    from chanaudit.core.folder import NotAnAuditFolder
    from chanaudit.core.tables import write_csv
    from chanaudit.reports import build

    write_csv(sites(), tmp_path / "sites.csv")
    with pytest.raises(InvalidOption, match="lang must be ru or en, not 'de'"):
        build(tmp_path, "de")
    with pytest.raises(InvalidOption, match="chart formats must be among png, svg, pdf, not gif"):
        build(tmp_path, formats=("png", "gif"))
    with pytest.raises(NotAnAuditFolder, match="no such file"):
        build(tmp_path / "nope")
    assert not (tmp_path / "report").exists()


def test_importing_and_drawing_leave_matplotlib_alone():
    """Notebook-safe: no backend switched, no pyplot figure registry, no rcParams changed."""
    import os
    import subprocess
    import sys

    code = (
        "import sys, matplotlib\n"
        "before, rc = matplotlib.get_backend(), dict(matplotlib.rcParams)\n"
        "import pandas as pd\n"
        "import chanaudit.reports\n"
        "from chanaudit.reports import charts\n"
        "ax = charts.plot_score_distribution(pd.DataFrame({'score': [0.1, 0.5]}), lang='en')\n"
        "ax.figure.canvas.draw()\n"
        "changed = sorted(k for k, v in matplotlib.rcParams.items() if rc[k] != v)\n"
        "print(before, matplotlib.get_backend(), 'matplotlib.pyplot' in sys.modules, changed)\n"
    )
    env = {**os.environ, "MPLBACKEND": "svg"}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["svg", "svg", "False", "[]"], done.stdout
