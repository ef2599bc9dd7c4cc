"""The review page at 1,000, 3,000 and 10,000 SYNTHETIC sites in Debian's chromium: page load, the script's
first render, a search over every value and snippet, a filter by column, a decision, and the page's size.

Baseline: the budget a person notices — 100 ms for a keystroke's answer, 1 s to open a page."""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from chanaudit.reports.review import write_review  # noqa: E402
from tests.test_review_page import CHROMIUM, synthetic_audit  # noqa: E402


def measure(browser, path: Path, rounds: int = 5) -> dict:
    loads, renders, searches, filters, decisions = [], [], [], [], []
    for r in range(rounds):
        context = browser.new_context()
        page = context.new_page()
        started = time.perf_counter()
        page.goto(path.resolve().as_uri())
        page.wait_for_selector("body[data-ready='1']", timeout=60_000)
        loads.append(time.perf_counter() - started)
        renders.append(page.evaluate("window.__review.firstRenderMs"))
        page.fill("#search", f"firm{17 + r}.ru")
        page.wait_for_selector("body[data-filters='2']")
        searches.append(page.evaluate("window.__review.lastFilterMs"))
        page.fill("#search", "")
        page.select_option("#f-column", label="city")
        page.select_option("#f-value", "Омск")
        page.wait_for_selector("body[data-filters='5']")
        filters.append(page.evaluate("window.__review.lastFilterMs"))
        page.click("#rows .row[data-pos='0']")
        started = time.perf_counter()
        page.keyboard.press("r")
        page.wait_for_selector("#summary:has-text('1 reviewed')")
        decisions.append((time.perf_counter() - started) * 1000)
        context.close()
    med = statistics.median
    return {"page_kb": round(path.stat().st_size / 1024), "load_s": round(med(loads), 2),
            "first_render_ms": round(med(renders)), "search_ms": round(med(searches), 1),
            "filter_ms": round(med(filters), 1), "decision_ms": round(med(decisions))}


def main(sizes=(1000, 3000, 10000)) -> dict:
    from playwright.sync_api import sync_playwright

    out = {}
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        for n in sizes:
            audit = synthetic_audit(Path(tmp) / f"a{n}", n)
            evidence = len(audit.read("evidence"))
            res = measure(browser, write_review(audit, lang="en"))
            out[n] = {"sites": n, "findings": evidence, **res}
            print(f"review page, {n} sites / {evidence} findings ({res['page_kb']} KB): load {res['load_s']} s "
                  f"(script {res['first_render_ms']} ms); search {res['search_ms']} ms, filter {res['filter_ms']} ms, "
                  f"a decision {res['decision_ms']} ms (median of 5; budget 1 s / 100 ms)")
        browser.close()
    return out


if __name__ == "__main__":
    main()
