"""The development gate through the crawler *with rendering* (issue 17): the labelled real sites of
../shared/realsites (or CHANAUDIT_REALSITES) served on 127.0.0.1 and audited as their public domains
with --render auto and always, third-party scripts off and on, one crawl after the other, each
scored against the hand labels (tests/quality.py) and timed.

    .venv/bin/python benchmarks/gate_render.py [auto-off,auto-on,always-off,always-on]

What it can and cannot show: the saved copies are served locally, so every third-party host the
pages name (CDNs, tag managers, chat vendors, the site's own domain in absolute URLs) is
unreachable — on the development VM its lookup fails at once. "On" therefore measures the
browser *attempting* those scripts (the attempted-request evidence, the cost of failing hops), not
what they would inject once loaded. Run it without internet access: with it, the "on" crawls would
fetch the real third-party scripts of these sites, as an audit does.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from chanaudit.core.contract import CHANNELS  # noqa: E402
from chanaudit.core.tables import read_csv  # noqa: E402
from chanaudit.crawler.config import AuditConfig  # noqa: E402
from chanaudit.crawler.runner import run_audit  # noqa: E402
from chanaudit.demo.server import Site, SiteServer  # noqa: E402
from tests import quality, realsites  # noqa: E402
from tests.conftest import write_sites_csv  # noqa: E402

CONFIGS = {"auto-off": ("auto", False), "auto-on": ("auto", True), "always-off": ("always", False),
           "always-on": ("always", True)}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] if ordered else float("nan")


def run(name: str, sites, folder: Path) -> dict:
    render, third_party = CONFIGS[name]
    served = [Site(s.slug, root=s.directory) for s in sites]
    with SiteServer(served) as server:
        rows = [{"url": server.url(s.slug), "domain": s.domain, "slug": s.slug} for s in sites]
        csv_path = write_sites_csv(folder / "in.csv", rows)
        started = time.perf_counter()
        result = run_audit(csv_path, folder / "out", AuditConfig(
            render=render, third_party_scripts=third_party, allow_private=True, delay=0, timeout=10))
        wall = time.perf_counter() - started
    frame = read_csv(folder / "out" / "sites.csv")
    pages = read_csv(folder / "out" / "pages.csv")
    evidence = read_csv(folder / "out" / "evidence.csv")
    truth = {s.slug: s.labels for s in sites}
    found = {r["slug"]: {ch: int(r[ch]) if r["status"] == "ok" else 0 for ch in CHANNELS} for _, r in frame.iterrows()}
    metrics = quality.score(truth, found)
    rendered = pages[pages["rendered"] == 1]
    ok_rendered = rendered[rendered["error"].isna()]
    chat = evidence[evidence["channel"] == "chat"]
    by_method = chat.groupby("method")["site_id"].nunique().to_dict()
    only = {}
    for method in ("attempted_request", "corner"):
        sites_with = set(chat[chat["method"] == method]["site_id"])
        others = set(chat[chat["method"] != method]["site_id"])
        only[method] = len(sites_with - others)
    times = [float(t) for t in ok_rendered["elapsed_ms"]]
    attempts = [float(n) for n in ok_rendered["requests"].dropna()]
    return {
        "config": name, "wall_s": round(wall, 1), "statuses": frame["status"].value_counts().to_dict(),
        "metrics": metrics, "below_floors": quality.below(metrics, "crawler"),
        "mismatches": quality.mismatches(truth, found),
        "pages_rendered": int(len(rendered)), "render_errors": int(rendered["error"].notna().sum()),
        "render_ms_median": statistics.median(times) if times else None,
        "render_ms_p90": percentile(times, 0.9) if times else None,
        "attempts_median": statistics.median(attempts) if attempts else None,
        "attempts_max": max(attempts) if attempts else None,
        "chat_sites_by_method": by_method, "chat_sites_only_by": only,
        "manifest_rendering": result.manifest.get("rendering"),
    }


def main(argv: list[str] | None = None) -> list[dict]:
    names = (argv[0].split(",") if argv else list(CONFIGS))
    sites = realsites.load()
    print(f"{len(sites)} labelled sites; {quality.corpus_note(realsites.corpus_hash())}")
    out = []
    for name in names:
        with tempfile.TemporaryDirectory() as tmp:
            r = run(name, sites, Path(tmp))
        out.append(r)
        render, third_party = CONFIGS[name]
        print(f"\n== --render {render}, third-party scripts {'on' if third_party else 'off'} ==")
        print(quality.table(r["metrics"], f"realsites through the crawler ({len(sites)} sites)"))
        print(f"statuses {r['statuses']}; wall {r['wall_s']} s; pages rendered {r['pages_rendered']} "
              f"({r['render_errors']} failed); render time per page median {r['render_ms_median']} ms, "
              f"p90 {r['render_ms_p90']} ms; attempted requests per rendered page median {r['attempts_median']}, "
              f"max {r['attempts_max']}")
        print(f"chat sites by method {r['chat_sites_by_method']}; found only by {r['chat_sites_only_by']}")
        for line in r["below_floors"] + r["mismatches"]:
            print("  ", line)
    return out


if __name__ == "__main__":
    main(sys.argv[1:])
