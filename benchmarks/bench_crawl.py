"""Crawl throughput against the physical limit and a naive sequential loop.

A local server adds a fixed latency to every response. Each site is the
synthetic `basic` fixture: robots.txt, home, contacts, support = 4 requests,
made one after another per site (one request in flight per site: polite).
The physical limit is  concurrency / (latency x requests per site)  sites/s.
The naive baseline fetches the same sites one request at a time with urllib.
Both run here, side by side, on the same server.
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

from chanaudit.crawler.config import AuditConfig  # noqa: E402
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
    args = ap.parse_args(argv)
    res = throughput(args.sites, args.latency, args.concurrency, args.naive_sites)
    print(f"crawl: {res['sites']} sites, latency {res['latency_s']}s, {res['concurrency']} connections; "
          f"physical limit {res['physical_limit_sites_per_s']} sites/s")
    print(f"  steady state (first request to last answer): {res['steady_sites_per_s']} sites/s = "
          f"{res['steady_share_of_limit']:.0%} of the limit (target >= 85%)")
    print(f"  end to end (with process start-up):          {res['sites_per_s']} sites/s = "
          f"{res['share_of_limit']:.0%} of the limit")
    print(f"  naive sequential loop: {res['naive_sites_per_s']} sites/s -> chanaudit is {res['speedup_vs_naive']}x faster")
    mem = memory(args.memory_rows, 200) if args.memory_rows else {}
    if mem:
        print(f"memory: {mem['rows']} rows in {mem['elapsed_s']} s ({mem['rows_per_s']} rows/s), "
              f"crawler peak RSS {mem['crawler_peak_rss_mb']} MB")
    return {"throughput": res, "memory": mem}


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
