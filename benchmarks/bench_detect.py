"""Parse + detect time for a ~200 KB page, before and after, and lxml against BeautifulSoup.

The typical page is FIXED: benchmarks/pages/typical-200kb.html, a synthetic page committed with
the benchmark (built once by benchmarks/make_typical_page.py with the proportions of the saved
real home pages), so adding labelled sites never changes what is timed. It is timed against the
bare parse and against the detectors of the baseline commit (BASELINE, the last commit before
issue 17; CHANAUDIT_BENCH_BASELINE to choose another), loaded from git into this same process
as ``chanaudit_base``: before and after side by side, interleaved round by round.

The dense worst case (only the bodies of every saved page, up to ~200 KB of content) and the
real pages come from ../shared/realsites. Baseline of the views: the same views (text nodes,
links, scripts, forms) built with BeautifulSoup's html.parser and with bs4 over lxml.
"""

from __future__ import annotations

import gc
import importlib
import io
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from chanaudit.crawler import states  # noqa: E402
from chanaudit.crawler.detectors import detect  # noqa: E402
from chanaudit.crawler.page import Page, ParsedPage  # noqa: E402

REALSITES = Path(os.environ.get("CHANAUDIT_REALSITES", ROOT.parent / "shared" / "realsites")) / "sites"
if not REALSITES.is_dir():
    sys.exit(f"bench_detect: no saved real sites at {REALSITES} (set CHANAUDIT_REALSITES to shared/realsites)")
TYPICAL = Path(__file__).resolve().parent / "pages" / "typical-200kb.html"
TYPICAL_URL = "https://primer-service.example/"
#: The last commit before issue 17 (detection on unseen sites): the "before" of the typical page.
BASELINE = os.environ.get("CHANAUDIT_BENCH_BASELINE", "16952c0")


def load_baseline(rev: str = BASELINE):
    """(detect, Page) of commit ``rev``: its chanaudit/core and crawler/ from ``git archive``, renamed
    to the package ``chanaudit_base`` so that both versions live in this process; None without git
    or the commit."""
    try:
        tmp = Path(tempfile.mkdtemp(prefix="chanaudit-baseline-"))
        pkg = tmp / "chanaudit_base"
        for src, dst in (("chanaudit/core", "core"), ("crawler", "crawler")):
            data = subprocess.run(["git", "-C", str(ROOT), "archive", rev, src], capture_output=True, check=True).stdout
            with tarfile.open(fileobj=io.BytesIO(data)) as tar:
                tar.extractall(tmp / "x", filter="data")
            shutil.move(str(tmp / "x" / src), str(pkg / dst))
    except (OSError, subprocess.CalledProcessError):
        return None
    (pkg / "__init__.py").write_text("__version__ = 'baseline'\n", encoding="utf-8")
    for py in pkg.rglob("*.py"):
        code = py.read_text(encoding="utf-8")
        code = code.replace("chanaudit.crawler", "chanaudit_base.crawler").replace("chanaudit.core", "chanaudit_base.core")
        py.write_text(code.replace("from chanaudit import", "from chanaudit_base import"), encoding="utf-8")
    sys.path.insert(0, str(tmp))
    detectors = importlib.import_module("chanaudit_base.crawler.detectors")
    page = importlib.import_module("chanaudit_base.crawler.page")
    return detectors.detect, page.Page


def build_page(target: int = 200_000) -> str:
    bodies = []
    for path in sorted(REALSITES.rglob("*.html")):
        html = path.read_bytes().decode("utf-8", "replace")
        start, end = html.lower().find("<body"), html.lower().rfind("</body>")
        bodies.append(html[start:end] if start >= 0 and end > start else html)
    body, i = "", 0
    while len(body.encode()) < target:
        body += bodies[i % len(bodies)]
        i += 1
    return f"<!doctype html><html lang='ru'><head><meta charset='utf-8'></head>{body}</body></html>"


def timeit(fn, repeat: int = 30) -> list[float]:
    return interleaved({"fn": fn}, repeat)["fn"]


def interleaved(fns: dict, rounds: int = 30) -> dict[str, list[float]]:
    """Time each function once per round, round after round, so that the machine's slow
    spells (this 2-core VM has them) fall on every contender alike; a collection before
    each run keeps one contender's garbage off the next one's clock."""
    for fn in fns.values():
        fn()  # warm caches (compiled regexes, YAML tables)
    out: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            gc.collect()
            t0 = time.perf_counter()
            fn()
            out[name].append((time.perf_counter() - t0) * 1000)
    return out


def back_to_back(fn, runs: int = 60) -> list[float]:
    """Time ``fn`` run after run with no collection in between, as the crawler calls the
    detectors page after page: the garbage collector's passes land on the clock."""
    fn()
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def _elements(html: str) -> int:
    return sum(1 for _ in ParsedPage(Page("https://example.ru/", html)).tree.iter("*"))


def bs4_views(html: str, parser: str):
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, parser)
    for tag in soup(["script", "style", "template", "noscript"]):
        tag.extract()
    texts = [t for t in soup.find_all(string=True) if t.strip()]
    links = [a.get("href") for a in soup.find_all("a", href=True)]
    forms = soup.find_all("form")
    return texts, links, forms


def lxml_views(html: str):
    page = ParsedPage(Page("https://example.ru/", html))
    return page.text_nodes, page.links, page.scripts, page.forms


def lxml_html_views(html: str):
    """The same views over lxml.html's tree (its Python element-class lookup), the parser used before."""
    import lxml.html

    import chanaudit.crawler.dom as dom_module

    saved = dom_module._HTML_PARSER
    dom_module._HTML_PARSER = lxml.html.HTMLParser(encoding="utf-8", remove_comments=False, recover=True)
    try:
        return lxml_views(html)
    finally:
        dom_module._HTML_PARSER = saved


def parse_and_classify(html: str):
    """What the crawler adds on a home page (crawler/states.py): the site-state rules and the empty rule."""
    page = ParsedPage(Page("https://example.ru/", html, 200, headers={"server": "nginx"}))
    sig = states.signals(page)
    return states.classify(page, sig), states.is_empty(page, sig)


def real_pages() -> list[tuple[str, float, float]]:
    """(page, KB, median ms) of every saved real page, parsed and detected as the crawler does."""
    out = []
    for path in sorted(REALSITES.rglob("*.html")):
        html = path.read_bytes().decode("utf-8", "replace")
        times = timeit(lambda html=html: detect(Page("https://example.ru/", html)), repeat=15)
        out.append((str(path.relative_to(REALSITES)), len(html.encode()) / 1024, statistics.median(times)))
    return out


def main() -> dict:
    typical = TYPICAL.read_text(encoding="utf-8")
    contenders = {"detect": lambda: detect(Page(TYPICAL_URL, typical)),
                  "parse": lambda: ParsedPage(Page(TYPICAL_URL, typical))}
    baseline = load_baseline()
    if baseline is not None:
        base_detect, base_page = baseline
        contenders["before"] = lambda: base_detect(base_page(TYPICAL_URL, typical))
    both = interleaved(contenders, rounds=60)
    typical_times, parse_times = both["detect"], both["parse"]
    home = interleaved({"states": lambda: parse_and_classify(typical),
                        "parse": lambda: ParsedPage(Page(TYPICAL_URL, typical))}, rounds=30)
    steady = back_to_back(lambda: detect(Page(TYPICAL_URL, typical)))
    html = build_page()
    size = len(html.encode())
    full = timeit(lambda: detect(Page("https://example.ru/", html)))
    views = interleaved({"lxml": lambda: lxml_views(html), "lxml_html": lambda: lxml_html_views(html),
                         "bs4": lambda: bs4_views(html, "html.parser"), "bs4_lxml": lambda: bs4_views(html, "lxml")},
                        rounds=12)
    views_lxml, views_lxml_html, views_bs4, views_bs4_lxml = (views[k] for k in ("lxml", "lxml_html", "bs4", "bs4_lxml"))
    med = statistics.median
    rows = {
        "typical_kb": round(len(typical.encode()) / 1024),
        "typical_median_ms": round(med(typical_times), 2),
        "typical_p90_ms": round(sorted(typical_times)[int(0.9 * len(typical_times))], 2),
        "typical_min_ms": round(min(typical_times), 2),
        "typical_parse_median_ms": round(med(parse_times), 2),
        "typical_over_parse": round(med(typical_times) / med(parse_times), 2),
        "typical_steady_median_ms": round(med(steady), 2),
        "typical_steady_p90_ms": round(sorted(steady)[int(0.9 * len(steady))], 2),
        "page_kb": round(size / 1024),
        "parse_detect_median_ms": round(med(full), 2),
        "parse_detect_p90_ms": round(sorted(full)[int(0.9 * len(full))], 2),
        "parse_detect_min_ms": round(min(full), 2),
        "views_lxml_ms": round(med(views_lxml), 2),
        "views_lxml_html_ms": round(med(views_lxml_html), 2),
        "views_bs4_htmlparser_ms": round(med(views_bs4), 2),
        "views_bs4_lxml_ms": round(med(views_bs4_lxml), 2),
    }
    rows["typical_states_ms"] = round(med(home["states"]) - med(home["parse"]), 2)
    if baseline is not None:
        rows["baseline"] = BASELINE
        rows["typical_before_median_ms"] = round(med(both["before"]), 2)
        rows["typical_after_over_before"] = round(med(typical_times) / med(both["before"]), 2)
    rows["typical_elements"] = _elements(typical)
    rows["dense_elements"] = _elements(html)
    reals = real_pages()
    per_100kb = statistics.median(ms / kb * 100 for _, kb, ms in reals)
    largest = max(reals, key=lambda r: r[1])
    rows["real_pages"] = len(reals)
    rows["real_median_ms"] = round(statistics.median(ms for _, _, ms in reals), 2)
    rows["real_ms_per_100kb"] = round(per_100kb, 2)
    rows["real_largest_kb"] = round(largest[1])
    rows["real_largest_ms"] = round(largest[2], 2)
    print(f"real pages: {len(reals)} saved pages, median {rows['real_median_ms']} ms per page, "
          f"{per_100kb:.1f} ms per 100 KB; largest {largest[0]} ({largest[1]:.0f} KB): {largest[2]:.1f} ms")
    print(f"typical 200 KB page: {rows['typical_kb']} KB, fixed ({TYPICAL.name}, synthetic, {rows['typical_elements']} "
          f"elements): parse + 5 detectors median {rows['typical_median_ms']} ms, p90 {rows['typical_p90_ms']} ms, "
          f"min {rows['typical_min_ms']} ms (target <= 15 ms)")
    if baseline is not None:
        print(f"  before and after, side by side in this process: {BASELINE} median {rows['typical_before_median_ms']} ms, "
              f"now {rows['typical_median_ms']} ms = {rows['typical_after_over_before']}x the time before")
    else:
        print(f"  (no baseline: commit {BASELINE} not found by git)")
    print(f"  = {rows['typical_over_parse']}x the parse alone (UTF-8 encode + lxml) ({rows['typical_parse_median_ms']} ms), "
          f"a ratio that does not drift with the machine's speed")
    print(f"  back to back as in a crawl (no collection between pages, the collector's share included): "
          f"median {rows['typical_steady_median_ms']} ms, p90 {rows['typical_steady_p90_ms']} ms")
    print(f"  site states (home pages only): rules + empty rule {rows['typical_states_ms']} ms over the parse, "
          f"{rows['typical_states_ms'] / (rows['typical_median_ms'] - rows['typical_parse_median_ms']):.2f}x "
          f"what the five detectors add")
    print(f"dense page: {rows['page_kb']} KB = the bodies of all real pages concatenated (worst case: "
          f"{rows['dense_elements']} elements, {rows['typical_elements']} on the typical page)")
    print(f"parse + 5 detectors: median {rows['parse_detect_median_ms']} ms, p90 {rows['parse_detect_p90_ms']} ms, "
          f"min {rows['parse_detect_min_ms']} ms (a stress case, not the 200 KB page of the target)")
    print(f"parse + views, lxml.etree:      {rows['views_lxml_ms']:8.2f} ms  (1.00x)")
    print(f"parse + views, lxml.html:       {rows['views_lxml_html_ms']:8.2f} ms  "
          f"({rows['views_lxml_html_ms'] / rows['views_lxml_ms']:.1f}x slower)")
    print(f"parse + views, bs4 html.parser: {rows['views_bs4_htmlparser_ms']:8.2f} ms  "
          f"({rows['views_bs4_htmlparser_ms'] / rows['views_lxml_ms']:.1f}x slower)")
    print(f"parse + views, bs4 + lxml:      {rows['views_bs4_lxml_ms']:8.2f} ms  "
          f"({rows['views_bs4_lxml_ms'] / rows['views_lxml_ms']:.1f}x slower)")
    return rows


if __name__ == "__main__":
    main()
