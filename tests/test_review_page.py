"""The review page in the real browser (Debian chromium through Playwright): filter, search, confirm, reject,
set by hand, export; the exported file fed back with --overrides. Audits are SYNTHETIC (written here)."""

from __future__ import annotations

import base64
import hashlib
import json
import random
import re
import time
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from chanaudit.cli import app
from chanaudit.core.folder import AuditFolder
from chanaudit.core.overrides import audit_id, read_overrides
from chanaudit.core.tables import read_csv
from chanaudit.reports.review import embed_json, review_page, write_review
from tests.conftest import requires_chromium
from tests.test_overrides import make_audit

CHROMIUM = "/usr/bin/chromium"
HOSTILE = "<img src=x onerror=\"window.__xss=1\"></script><script>window.__xss=2</script>\u2028"


# --- without a browser: what the page is made of --------------------------------------------------------------

def test_data_are_escaped_and_the_policy_is_strict(tmp_path):
    sites = pd.DataFrame([{"site_id": 1, "input": "a.ru", "url": "http://a.ru/", "final_url": "javascript:alert(1)",
                           "status": "ok", "email": 1, "phone": 0, "chat": 0, "form": 0, "portal": 0, "name": HOSTILE}])
    evidence = pd.DataFrame([{"site_id": 1, "channel": "email", "value": HOSTILE, "page_url": "javascript:alert(2)",
                              "page_role": "home", "rule": "email.text", "snippet": HOSTILE, "counted": True}])
    page = review_page(sites, evidence, audit="t", lang="en")
    block = re.search(r'<script type="application/json" id="review-data">(.*?)</script>', page, re.S).group(1)
    assert "<" not in block and ">" not in block and "&" not in block and "\u2028" not in block
    assert json.loads(block)["sites"][0][2] == HOSTILE  # the escapes read back as the scraped text
    assert embed_json({"a": "</script>&\u2029"}) == '{"a":"\\u003c/script\\u003e\\u0026\\u2029"}'
    scripts = re.findall(r"<script>(.*?)</script>", page, re.S)
    assert len(scripts) == 1  # one inline script: ours
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page).group(1)
    digest = base64.b64encode(hashlib.sha256(scripts[0].encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in csp and csp.startswith("default-src 'none';")
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert not re.search(r"""(src|href)=["']?https?:""", page)  # nothing from the internet
    code = (Path(__file__).resolve().parents[1] / "reports" / "review_page.js").read_text(encoding="utf-8")
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
        assert sink not in code, sink


# --- in the browser ------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


def open_page(context, path: Path):
    page = context.new_page()
    problems, requests = [], []
    page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("request", lambda r: requests.append(r.url))
    page.goto(path.resolve().as_uri())
    page.wait_for_selector("body[data-ready='1']", timeout=20_000)
    page.problems, page.requests = problems, requests
    return page


def summary(page) -> str:
    return page.inner_text("#summary")


def visible_ids(page) -> list[int]:
    return sorted(int(x) for x in page.eval_on_selector_all("#rows .row:not([hidden])", "els => els.map(e => e.dataset.siteId)"))


def pick(page, site_id: int) -> None:
    page.click(f"#rows .row[data-site-id='{site_id}']")
    page.wait_for_selector(f"#detail[data-site-id='{site_id}']")


@pytest.mark.browser
@requires_chromium
def test_filter_search_decide_export_and_feed_back(browser, tmp_path):
    audit = make_audit(tmp_path / "audit")
    sites = audit.read_sites()
    sites.loc[sites["site_id"] == 2, "name"] = HOSTILE  # scraped text stays text
    audit.write(AuditFolder.SITES, sites)
    path = write_review(audit, lang="en")
    context = browser.new_context(accept_downloads=True)
    page = open_page(context, path)
    assert summary(page) == "6 of 6 shown; 0 reviewed; 0 changed"
    assert page.evaluate("window.__xss") is None and not page.query_selector("#rows img")
    # the policy is enforced: an inline script added at run time does not run (nor would an injected one)
    ran = page.evaluate("() => { const s = document.createElement('script'); s.textContent = 'window.__inline = 1';"
                        " document.body.appendChild(s); return window.__inline; }")
    assert ran is None and any("Content Security Policy" in p for p in page.problems)
    page.problems.clear()
    assert HOSTILE.strip("\u2028") in page.inner_text("#rows")

    # filters: status, channel, a passed-through column, review state; search over values and snippets
    page.select_option("#f-status", "ok")
    assert visible_ids(page) == [1, 2, 3, 5, 6]
    page.select_option("#f-channel", "portal:1")
    assert visible_ids(page) == [2, 6]
    page.select_option("#f-channel", "")
    page.select_option("#f-status", "")
    page.select_option("#f-column", label="city")
    page.select_option("#f-value", "Казань")
    assert visible_ids(page) == [2, 4, 6]
    page.select_option("#f-value", "")
    page.select_option("#f-rule", "chat.jivo")
    assert visible_ids(page) == [2]
    page.select_option("#f-rule", "")
    page.fill("#search", "b@firm1")
    assert visible_ids(page) == [1]
    page.fill("#search", "+74957654321")  # a phone number, in a value
    assert visible_ids(page) == [3]
    page.fill("#search", "")
    assert summary(page).startswith("6 of 6")

    # sorting by a header
    page.click("#head button[data-sort='score']")
    first = page.eval_on_selector("#rows .row[data-pos='0']", "e => e.dataset.siteId")
    assert first == "6"  # every channel: the best score
    page.click("#head button[data-sort='id']")

    # decisions, by keyboard and by buttons, signed by the reviewer
    page.fill("#reviewer", "ann")
    pick(page, 1)
    page.click("#findings tr[data-finding='a@firm1.ru'] button[data-act='reject-finding']")  # one of two emails
    page.keyboard.press("4")  # the form channel
    page.keyboard.press("r")  # reject: its only finding -> absent
    pick(page, 3)
    page.fill("#channels tr[data-channel='portal'] input.note", "by hand; in the footer")
    page.click("#channels tr[data-channel='portal'] button[data-act='set1']")
    pick(page, 6)
    page.keyboard.press("3")
    page.keyboard.press("n")  # chat absent by hand
    pick(page, 5)
    page.keyboard.press("2")
    page.keyboard.press("c")  # phone confirmed
    assert summary(page) == "6 of 6 shown; 4 reviewed; 3 changed"
    assert page.inner_text("#channels tr[data-channel='phone']").count("confirmed") == 1
    page.keyboard.press("k")  # the previous site is 4, the failed one: nothing to decide
    assert page.get_attribute("#detail", "data-site-id") == "4"
    page.select_option("#f-review", "changed")
    assert visible_ids(page) == [1, 3, 6]
    page.select_option("#f-review", "")

    # decisions persist in the browser
    page.reload()
    page.wait_for_selector("body[data-ready='1']")
    assert summary(page) == "6 of 6 shown; 4 reviewed; 3 changed"

    # export
    with page.expect_download() as info:
        page.click("#export")
    exported = tmp_path / "overrides.csv"
    info.value.save_as(exported)
    assert info.value.suggested_filename == "overrides.csv"
    table = read_csv(exported)
    assert list(table.columns) == ["site_id", "domain", "channel", "value", "finding", "note", "reviewer", "time",
                                   "audit"]
    assert set(table["audit"]) == {audit_id(audit)} and len(table) == 5
    assert table.set_index(["site_id", "channel"]).loc[(3, "portal"), ["value", "note", "reviewer"]].tolist() == [
        "1", "by hand; in the footer", "ann"]
    assert read_overrides(exported, audit.read_sites(), read_csv(audit.evidence), audit_id(audit)).rows == 5
    assert not page.problems, page.problems  # no error, no CSP violation
    assert {u.split(":")[0] for u in page.requests} <= {"file", "blob"}, page.requests  # nothing from a network

    # fed back: scores and shares change as decided (hand counts in tests/test_overrides.py, DECISIONS)
    runner = CliRunner()
    res = runner.invoke(app, ["score", str(audit), "--overrides", str(exported), "--draws", "10"])
    assert res.exit_code == 0, res.output
    scores = read_csv(audit.csv(AuditFolder.SCORES)).set_index("site_id")
    assert scores.loc[[1, 3, 6], "score"].tolist() == [0.2, 0.5, 0.8]
    res = runner.invoke(app, ["analyze", str(audit), "--overrides", str(exported)])
    assert res.exit_code == 0, res.output
    prev = read_csv(audit.csv(AuditFolder.PREVALENCE)).set_index("channel")
    assert prev["k"].to_dict() == {"email": 4, "phone": 4, "chat": 1, "form": 1, "portal": 3}

    # another browser loads the file
    fresh = browser.new_context()
    other = open_page(fresh, path)
    assert summary(other) == "6 of 6 shown; 0 reviewed; 0 changed"
    other.set_input_files("#import", str(exported))
    other.wait_for_selector("#summary:has-text('4 reviewed')")
    assert summary(other) == "6 of 6 shown; 4 reviewed; 3 changed"
    pick(other, 3)
    assert other.input_value("#channels tr[data-channel='portal'] input.note") == "by hand; in the footer"
    fresh.close()
    context.close()


def synthetic_audit(path: Path, n: int, seed: int = 3) -> AuditFolder:
    """A SYNTHETIC audit of ``n`` sites in six cities, one to four findings per channel present."""
    rng = random.Random(seed)
    cities = ["Москва", "Казань", "Омск", "Пермь", "Уфа", "Самара"]
    sites, evidence = [], []
    for i in range(1, n + 1):
        ok = rng.random() < 0.95
        flags = [int(rng.random() < p) if ok else None for p in (0.9, 0.8, 0.3, 0.5, 0.2)]
        sites.append({"site_id": i, "input": f"firm{i}.ru", "url": f"http://firm{i}.ru/",
                      "final_url": f"https://firm{i}.ru/", "status": "ok" if ok else "timeout",
                      **dict(zip(("email", "phone", "chat", "form", "portal"), flags, strict=True)),
                      "name": f"Фирма {i}", "city": cities[i % 6]})
        for ch, flag in zip(("email", "phone", "chat", "form", "portal"), flags, strict=True):
            for k in range(rng.randint(1, 2) if flag else 0):
                value = f"mail{k}@firm{i}.ru" if ch == "email" else f"{ch}-{i}-{k}"
                evidence.append({"site_id": i, "channel": ch, "value": value, "page_url": f"https://firm{i}.ru/",
                                 "page_role": "home", "method": "text", "rule": f"{ch}.text",
                                 "snippet": f"<p>{value} snippet of a page</p>", "counted": True})
    folder = AuditFolder(path)
    folder.write(AuditFolder.SITES, pd.DataFrame(sites))
    folder.write(AuditFolder.EVIDENCE, pd.DataFrame(evidence))
    return folder


@pytest.mark.browser
@requires_chromium
def test_three_thousand_sites_render_and_filter(browser, tmp_path, record_property):
    """Usable at 3,000 sites: only the rows in view exist, filters and search answer over all of them. The times
    are recorded (pytest's record_property, and printed with -s), never asserted: benchmarks/bench_review.py."""
    audit = synthetic_audit(tmp_path / "big", 3000)
    sites = audit.read_sites()
    path = write_review(audit, lang="en")
    context = browser.new_context()
    started = time.perf_counter()
    page = open_page(context, path)
    loaded = time.perf_counter() - started
    assert summary(page) == "3000 of 3000 shown; 0 reviewed; 0 changed"
    assert page.eval_on_selector_all("#rows .row", "els => els.length") < 120  # virtualised
    started = time.perf_counter()
    page.fill("#search", "firm2999.ru")
    page.wait_for_selector("body[data-filters='2']")
    searched = time.perf_counter() - started
    assert visible_ids(page) == [2999]
    page.fill("#search", "")
    page.select_option("#f-column", label="city")
    page.select_option("#f-value", "Омск")
    expected = int((sites["city"] == "Омск").sum())
    assert summary(page).startswith(f"{expected} of 3000")
    page.select_option("#f-value", "")
    page.eval_on_selector("#viewport", "v => { v.scrollTop = v.scrollHeight; }")
    page.wait_for_selector("#rows .row[data-site-id='3000']:not([hidden])")
    stats = page.evaluate("window.__review")
    for name, value in (("page_load_s", loaded), ("first_render_ms", stats["firstRenderMs"]),
                        ("search_s", searched), ("last_filter_ms", stats["lastFilterMs"])):
        record_property(name, round(value, 3))
    print(f"3000 sites: page load {loaded:.2f} s, first render {stats['firstRenderMs']:.0f} ms, search "
          f"{searched * 1000:.0f} ms, last filter {stats['lastFilterMs']:.0f} ms")
    assert not page.problems, page.problems
    context.close()
