"""The flow of the sample (analysis/flow.py) and the base every share states: the table, the CLI, the report."""

from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

from chanaudit.analysis.flow import COLUMNS, base, base_lines, sample_flow
from chanaudit.analysis.prevalence import prevalence
from chanaudit.cli import app
from chanaudit.core.folder import AuditFolder

#: 20 input rows, counted by hand: 2 invalid, 3 not reachable (2 dns, 1 robots), 4 no working company site
#: (2 parked, 1 challenge, 1 empty), 11 ok of which 2 moved.
STATUSES = (["invalid_input"] * 2 + ["dns_error"] * 2 + ["robots_blocked"] + ["parked"] * 2 + ["challenge", "empty"]
            + ["ok"] * 11)


def sites_frame() -> pd.DataFrame:
    rows = []
    for i, status in enumerate(STATUSES, start=1):
        ok = status == "ok"
        rows.append({"site_id": i, "input": f"s{i}.ru", "url": f"http://s{i}.ru/", "status": status,
                     "status_detail": "", "email": int(i % 2 == 0) if ok else None, "phone": 1 if ok else None,
                     "chat": 0 if ok else None, "form": int(i % 3 == 0) if ok else None, "portal": 0 if ok else None,
                     "channels": None, "score": None, "final_domain": f"s{i}.ru",
                     "moved": (1 if i in (19, 20) else 0) if status not in ("invalid_input", "dns_error") else None})
    return pd.DataFrame(rows)


def test_flow_counts_and_reasons():
    flow = sample_flow(sites_frame())
    assert list(flow.columns) == COLUMNS
    assert list(flow["step"]) == ["input", "valid", "reachable", "audited"]
    assert list(flow["n"]) == [20, 18, 15, 11]
    assert list(flow["excluded"]) == [2, 3, 4, 0]
    assert list(flow["statuses"]) == ["invalid_input=2", "dns_error=2;robots_blocked=1",
                                      "parked=2;challenge=1;empty=1", ""]
    assert flow.loc[1, "reason_en"] == "not reachable: DNS error 2, blocked by robots.txt 1"
    assert flow.loc[2, "reason_ru"] == ("не рабочий сайт компании: припаркован или продаётся 2, проверка на робота 1, "
                                        "пустая страница 1")
    assert flow.loc[0, "reason_en"] == "invalid input"
    assert flow.loc[3, "note_en"] == "of which 2 redirected to another domain and audited there (moved=1)"
    assert base(flow) == 11 == int(prevalence(sites_frame())["n"].max())  # the base of every share


def test_base_lines_say_it_in_both_languages():
    flow = sample_flow(sites_frame())
    en, ru = base_lines(flow, "en"), base_lines(flow, "ru")
    assert en[0] == "base: 11 working company websites (status ok) of 20 input rows"
    assert ru[0] == "база: 11 рабочих сайтов компаний (статус ok) из 20 строк входного списка"
    assert en[1:] == ["  excluded 2: invalid input",
                      "  excluded 3: not reachable: DNS error 2, blocked by robots.txt 1",
                      "  excluded 4: not a working company website: parked or for sale 2, anti-bot challenge 1, "
                      "empty page 1",
                      "  of which 2 redirected to another domain and audited there (moved=1)"]


def test_skipped_redirects_and_unknown_statuses():
    frame = sites_frame()
    frame.loc[18, "status"] = "moved"  # --offsite-redirects skip
    frame.loc[19, "status"] = "teapot"  # an edited file: counted, never lost
    flow = sample_flow(frame)
    assert list(flow["n"]) == [20, 18, 14, 9] and int(flow["excluded"].sum()) + base(flow) == 20
    assert "redirects to another domain (skipped) 1" in flow.loc[2, "reason_en"]
    assert "teapot 1" in flow.loc[1, "reason_en"]
    assert flow.loc[3, "note_en"] == ""  # the moved sites were not audited


def test_an_audit_before_site_states_has_no_moved_column():
    frame = sites_frame().drop(columns=["moved", "final_domain"])
    flow = sample_flow(frame)
    assert base(flow) == 11 and flow.loc[3, "note_en"] == ""


@pytest.fixture
def folder(tmp_path):
    out = AuditFolder(tmp_path / "audit")
    out.path.mkdir()
    out.write(AuditFolder.SITES, sites_frame())
    return out


def test_analyze_and_reproduce_print_the_same_base(folder):
    runner = CliRunner()
    analyzed = runner.invoke(app, ["analyze", str(folder.path), "--lang", "en"])
    reproduced = runner.invoke(app, ["reproduce", str(folder.path), "--lang", "en"])
    assert analyzed.exit_code == 0 and reproduced.exit_code == 0, analyzed.output + reproduced.output
    lines = base_lines(sample_flow(sites_frame()), "en")
    for line in lines:
        assert line.strip() in analyzed.output and line.strip() in reproduced.output
    assert folder.read(AuditFolder.FLOW)["n"].tolist() == [20, 18, 15, 11]  # written beside prevalence
    russian = runner.invoke(app, ["analyze", str(folder.path)])
    assert "база: 11 рабочих сайтов компаний" in russian.output


def test_a_survey_study_prints_no_site_base(tmp_path):
    from chanaudit.demo.survey import generate_survey

    export = tmp_path / "survey.csv"
    generate_survey(n=60, seed=1).to_csv(export, index=False)
    runner = CliRunner()
    imported = runner.invoke(app, ["survey", "import", str(export), "--out", str(tmp_path / "sv"), "--salt", "x"])
    assert imported.exit_code == 0, imported.output
    done = runner.invoke(app, ["reproduce", str(tmp_path / "sv" / "survey.csv"), "--study", "okdesk-2026-survey",
                               "--lang", "en"])
    assert done.exit_code == 0, done.output
    assert "working company websites" not in done.output


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_the_chart_draws_the_table(lang, tmp_path):
    from chanaudit.reports import charts

    flow = sample_flow(sites_frame())
    ax = charts.plot_flow(flow, lang=lang)
    shown = "\n".join(t.get_text() for t in ax.texts)
    for _, r in flow.iterrows():
        assert f"n = {r['n']}" in shown and r[f"label_{lang}"] in shown
    assert ("• DNS error 2" if lang == "en" else "• ошибка DNS 2") in shown
    assert ("Excluded: 4 — not a working company website" if lang == "en" else
            "Исключено: 4 — не рабочий сайт компании") in shown
    assert "moved=1" in shown  # the note of the last box
    saved = charts.save_figure(ax.figure, tmp_path / f"flow-{lang}", dpi=100)
    assert [p.suffix for p in saved] == [".png", ".svg", ".pdf"] and all(p.stat().st_size > 1000 for p in saved)
    edited = flow.assign(n=[7, 6, 5, 4], excluded=[1, 1, 1, 0])  # whatever the table says is drawn
    assert "n = 7" in "\n".join(t.get_text() for t in charts.plot_flow(edited, lang=lang).texts)


def test_the_report_opens_with_the_flow_and_states_the_base(folder, tmp_path):
    from chanaudit import reports

    paths = reports.build(folder, "en", formats=("png",), chromium=None)
    page = paths.html.read_text(encoding="utf-8")
    sections = [p.split("'", 1)[0] for p in page.split("<section id='")[1:]]
    assert sections[0] == "flow"
    assert paths.charts["flow"][0].name == "flow-en.png"
    flow_part = page.split("<section id='flow'>")[1].split("</section>")[0]
    assert "Why excluded" in flow_part and "not reachable: DNS error 2, blocked by robots.txt 1" in flow_part
    base = "Base: 11 working company websites of 20 input rows"
    for name in ("prevalence", "combinations", "channel_counts", "reproduce-okdesk-2016-it-outsourcing"):
        if f"<section id='{name}'>" in page:
            assert base in page.split(f"<section id='{name}'>")[1].split("</section>")[0], name
    assert page.count(base) >= 3
    ru = reports.build(folder, "ru", out=tmp_path / "ru", formats=("png",), chromium=None).html.read_text(encoding="utf-8")
    assert "База: 11 рабочих сайтов компаний из 20 строк входного списка" in ru and "Отбор сайтов" in ru
