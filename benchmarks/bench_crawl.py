"""Crawl throughput against the physical limit and a naive sequential loop; same-site script files.

A local server adds a fixed latency to every response. Each site is the
synthetic `basic` fixture: robots.txt, home, contacts, support = 4 requests,
made one after another per site (one request in flight per site: polite).
The physical limit is  concurrency / (latency x requests per site)  sites/s.
The naive baseline fetches the same sites one request at a time with urllib.
Both run here, side by side, on the same server.

Script files: sites whose home page names same-site scripts (a chat loader kept in
/js/livechat.js on half of them, six plain files on the other half) show how many files the
crawler reads per page and site, how many bytes, and what they cost in time beside the same
sites without the scripts (the bounds are `script_files` in crawler/signatures/chat.yaml).
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from chanaudit.core.tables import read_csv  # noqa: E402
from chanaudit.crawler.config import AuditConfig  # noqa: E402
from chanaudit.crawler.detectors import scriptfiles  # noqa: E402
from chanaudit.crawler.runner import run_audit  # noqa: E402
from chanaudit.demo.server import Site, SiteServer  # noqa: E402

BASIC = ROOT / "tests" / "fixtures" / "sites" / "basic"
REQUESTS_PER_SITE = 4


def write_list(path: Path, urls: list[str]) -> Path:
    path.write_text("url\n" + "\n".join(urls) + "\n", encoding="utf-8")
    return path


def naive(urls: list[str]) -> float:
    t0 = time.perf_counter()
    for url in urls:
        for path in ("robots.txt", "", "kontakty/", "podderzhka/"):
            try:
                urllib.request.urlopen(url + path, timeout=10).read()
            except Exception:  # noqa: BLE001
                pass
    return len(urls) / (time.perf_counter() - t0)


def throughput(n_sites: int, latency: float, concurrency: int, naive_sites: int) -> dict:
    sites = [Site(f"s{i}", root=BASIC) for i in range(n_sites)]
    with SiteServer(sites, latency=latency) as server, tempfile.TemporaryDirectory() as tmp:
        urls = [server.url(s.name) for s in sites]
        csv_path = write_list(Path(tmp) / "sites.csv", urls)
        cfg = AuditConfig(render="never", allow_private=True, delay=0, concurrency=concurrency, per_site=1,
                          timeout=30)
        t0 = time.perf_counter()
        result = run_audit(csv_path, Path(tmp) / "out", cfg)
        elapsed = time.perf_counter() - t0
        steady = server.last_request - server.first_request + latency  # first request in .. last answer out
        ok = result.counts.get("ok", 0)
        naive_rate = naive(urls[:naive_sites])
    limit = concurrency / (latency * REQUESTS_PER_SITE)
    rate = n_sites / elapsed
    steady_rate = n_sites / steady
    return {"sites": n_sites, "ok": ok, "latency_s": latency, "concurrency": concurrency,
            "elapsed_s": round(elapsed, 2), "sites_per_s": round(rate, 2),
            "physical_limit_sites_per_s": round(limit, 2), "share_of_limit": round(rate / limit, 3),
            "steady_sites_per_s": round(steady_rate, 2), "steady_share_of_limit": round(steady_rate / limit, 3),
            "naive_sites_per_s": round(naive_rate, 3), "speedup_vs_naive": round(rate / naive_rate, 1)}


TAWK = (b"var Tawk_API=Tawk_API||{};(function(){var s1=document.createElement('script');s1.async=true;"
        b"s1.src='https://embed.tawk.to/0123456789abcdef/default';document.head.appendChild(s1);})();")
PLAIN = [f"/js/{name}.js" for name in ("app", "main", "menu", "slider", "forms", "stats")]


def _home(scripts: list[str]) -> bytes:
    html = (BASIC / "index.html").read_text(encoding="utf-8")
    tags = "".join(f'<script src="{src}"></script>' for src in scripts)
    return html.replace("</head>", tags + "</head>").encode()


def script_files(n_sites: int, latency: float, concurrency: int) -> dict:
    """Same-site script files read by the crawler: counts, bytes and time, beside the same sites
    without scripts."""
    plain_code = b"(function(){var x = document.querySelectorAll('.menu a');})();" * 40
    with_scripts = []
    for i in range(n_sites):
        if i % 2:
            routes = {"/": ("text/html", _home(["/js/jquery.min.js", "/js/livechat.js"])),
                      "/js/livechat.js": ("application/javascript", TAWK)}
        else:
            routes = {"/": ("text/html", _home(PLAIN)), **{p: ("application/javascript", plain_code) for p in PLAIN}}
        with_scripts.append(Site(f"js{i}", root=BASIC, routes=routes))
    without = [Site(f"nojs{i}", root=BASIC) for i in range(n_sites)]
    out = {}
    for label, sites in (("without", without), ("with", with_scripts)):
        with SiteServer(sites, latency=latency) as server, tempfile.TemporaryDirectory() as tmp:
            csv_path = write_list(Path(tmp) / "sites.csv", [server.url(s.name) for s in sites])
            cfg = AuditConfig(render="never", allow_private=True, delay=0, concurrency=concurrency, per_site=1,
                              timeout=30)
            t0 = time.perf_counter()
            result = run_audit(csv_path, Path(tmp) / "out", cfg)
            out[f"{label}_elapsed_s"] = round(time.perf_counter() - t0, 2)
            pages = read_csv(Path(tmp) / "out" / "pages.csv")
            sites_frame = read_csv(Path(tmp) / "out" / "sites.csv")
            files = pages[pages["role"] == "script"]
            out[f"{label}_script_files"] = len(files)
            out[f"{label}_script_bytes"] = int(files["bytes"].fillna(0).sum())
            out[f"{label}_max_files_per_site"] = int(files.groupby("site_id").size().max()) if len(files) else 0
            out[f"{label}_chat_sites"] = int(sites_frame["chat"].sum())
            out[f"{label}_ok"] = result.counts.get("ok", 0)
    limits = scriptfiles.limits()
    out.update({"sites": n_sites, "per_page": limits.per_page, "per_site": limits.per_site,
                "max_bytes": limits.max_bytes,
                "time_ratio": round(out["with_elapsed_s"] / out["without_elapsed_s"], 2)})
    return out


def memory(n_rows: int, n_ports: int) -> dict:
    """Peak RSS of the crawler process for n_rows input rows (served by n_ports local sites)."""
    sites = [Site(f"m{i}", root=BASIC) for i in range(n_ports)]
    with SiteServer(sites) as server, tempfile.TemporaryDirectory() as tmp:
        urls = [server.url(sites[i % n_ports].name) for i in range(n_rows)]
        csv_path = write_list(Path(tmp) / "sites.csv", urls)
        cfg = AuditConfig(render="never", allow_private=True, delay=0, concurrency=64, per_site=8, timeout=30)
        t0 = time.perf_counter()
        result = run_audit(csv_path, Path(tmp) / "out", cfg)
        elapsed = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"rows": n_rows, "ok": result.counts.get("ok", 0), "elapsed_s": round(elapsed, 1),
            "rows_per_s": round(n_rows / elapsed, 1), "crawler_peak_rss_mb": round(peak_mb, 1)}


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sites", type=int, default=1000)
    ap.add_argument("--latency", type=float, default=0.2)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--naive-sites", type=int, default=10)
    ap.add_argument("--memory-rows", type=int, default=10000)
    ap.add_argument("--script-sites", type=int, default=200)
    args = ap.parse_args(argv)
    res = throughput(args.sites, args.latency, args.concurrency, args.naive_sites)
    print(f"crawl: {res['sites']} sites, latency {res['latency_s']}s, {res['concurrency']} connections; "
          f"physical limit {res['physical_limit_sites_per_s']} sites/s")
    print(f"  steady state (first request to last answer): {res['steady_sites_per_s']} sites/s = "
          f"{res['steady_share_of_limit']:.0%} of the limit (target >= 85%)")
    print(f"  end to end (with process start-up):          {res['sites_per_s']} sites/s = "
          f"{res['share_of_limit']:.0%} of the limit")
    print(f"  naive sequential loop: {res['naive_sites_per_s']} sites/s -> chanaudit is {res['speedup_vs_naive']}x faster")
    js = script_files(args.script_sites, args.latency, args.concurrency) if args.script_sites else {}
    if js:
        print(f"script files: {js['sites']} sites (half with a chat loader in /js/livechat.js, half with six plain "
              f"files): {js['with_script_files']} files read, {js['with_script_bytes'] / 1024:.0f} KB, at most "
              f"{js['with_max_files_per_site']} a site (bounds: {js['per_page']} a page, {js['per_site']} a site, "
              f"{js['max_bytes'] // 1024} KB a file); chat found on {js['with_chat_sites']} sites")
        print(f"  time {js['with_elapsed_s']} s against {js['without_elapsed_s']} s for the same sites without "
              f"scripts ({js['time_ratio']}x; each file read is one more request of the site, one after another)")
    mem = memory(args.memory_rows, 200) if args.memory_rows else {}
    if mem:
        print(f"memory: {mem['rows']} rows in {mem['elapsed_s']} s ({mem['rows_per_s']} rows/s), "
              f"crawler peak RSS {mem['crawler_peak_rss_mb']} MB")
    return {"throughput": res, "script_files": js, "memory": mem}


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
