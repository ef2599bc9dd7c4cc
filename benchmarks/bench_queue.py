"""The shared queue (issue 15): 1 worker against 3, side by side in one run, and the coordinator's memory
for a list of 1,000,000 rows.

Throughput: a local market (the synthetic `basic` fixture: robots.txt, home, contacts, support = 4
requests a site, one after another) behind a server that delays every answer by ``--latency``, so that
the crawl is bound by latency, not by this 2-core machine's CPU. A queued audit (``run_audit(queue=…)``,
the coordinator in this process) is crawled by ``chanaudit worker --until-empty`` processes, each with
the same ``--concurrency``: first 1, then 3. The rate is the steady one — sites journaled between the
20th and the 80th percentile of the run, so process start-up and the last stragglers are left out —
and the end-to-end one beside it. Each worker's limit is concurrency / (latency x 4) sites/s.

Memory: the coordinator (``chanaudit audit --queue``, a process of its own) on a list of 1,000,000
rows, fed by a stand-in worker in this process that takes the queued sites and posts a small
synthetic result for each (no crawl: what is measured is reading the list, queueing it, taking a
million results into the journal and writing the outputs from it). Peak RSS from ``wait4``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from chanaudit.crawler.config import AuditConfig  # noqa: E402
from chanaudit.crawler.queue import RUNS, Queue, RunKeys  # noqa: E402
from chanaudit.crawler.runner import run_audit  # noqa: E402
from chanaudit.demo.server import Site, SiteServer  # noqa: E402
from tests.redisserver import RedisServer  # noqa: E402

BASIC = ROOT / "tests" / "fixtures" / "sites" / "basic"
REQUESTS_PER_SITE = 4
CENSUS = 4_739_438  # .ru domains scanned by the iTrack census of online consultants
ENV = {**os.environ, "TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS": ""}


def _workers(url: str, n: int, concurrency: int) -> list[subprocess.Popen]:
    return [subprocess.Popen([sys.executable, "-m", "chanaudit.cli", "worker", url, "--concurrency", str(concurrency),
                              "--until-empty", "--allow-private"], env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for _ in range(n)]


def crawl(server: SiteServer, url: str, n_workers: int, n_sites: int, latency: float, concurrency: int,
          tmp: Path) -> dict:
    names = [f"w{n_workers}s{i}" for i in range(n_sites)]
    listing = tmp / f"sites-{n_workers}.csv"
    listing.write_text("url\n" + "\n".join(server.url(n) for n in names) + "\n", encoding="utf-8")
    out = tmp / f"out-{n_workers}"
    times: list[tuple[float, int]] = []  # (time, sites journaled), as the coordinator reports its progress
    cfg = AuditConfig(render="never", allow_private=True, delay=0, concurrency=concurrency, timeout=30, workers=0)
    workers = []
    t0 = time.perf_counter()
    try:
        workers = _workers(url, n_workers, concurrency)  # they wait for the run, then crawl it
        result = run_audit(listing, out, cfg, queue=url, lease=30,
                           progress=lambda done, _total: times.append((time.perf_counter(), done)))
        elapsed = time.perf_counter() - t0
    finally:
        for w in workers:
            try:
                w.wait(timeout=60)
            except subprocess.TimeoutExpired:
                w.kill()
    lo, hi = int(n_sites * 0.2), int(n_sites * 0.8)
    t_lo = next(t for t, n in times if n >= lo)
    t_hi = next((t for t, n in times if n >= hi), times[-1][0])
    steady = (hi - lo) / (t_hi - t_lo)
    t_first = next((t for t, n in times if n > 0), times[-1][0])
    t_all = next((t for t, n in times if n >= n_sites), times[-1][0])
    phases = {"first_result_s": round(t_first - t0, 1), "p20_s": round(t_lo - t0, 1), "p80_s": round(t_hi - t0, 1),
              "last_result_s": round(t_all - t0, 1)}
    limit = n_workers * concurrency / (latency * REQUESTS_PER_SITE)
    return {"workers": n_workers, "sites": n_sites, "ok": result.counts.get("ok", 0), "concurrency_each": concurrency,
            "latency_s": latency, "elapsed_s": round(elapsed, 1), "end_to_end_sites_per_s": round(n_sites / elapsed, 2),
            "steady_sites_per_s": round(steady, 2), "limit_sites_per_s": round(limit, 2),
            "share_of_limit": round(steady / limit, 3), **phases}


def throughput(latency: float, concurrency: int, sites_per_worker: int) -> dict:
    redis = RedisServer().start()
    names = [f"w{k}s{i}" for k in (1, 3) for i in range(sites_per_worker * k)]
    try:
        with SiteServer([Site(n, root=BASIC) for n in names], latency=latency) as server, \
                tempfile.TemporaryDirectory() as tmp:
            one = crawl(server, redis.url, 1, sites_per_worker, latency, concurrency, Path(tmp))
            three = crawl(server, redis.url, 3, 3 * sites_per_worker, latency, concurrency, Path(tmp))
    finally:
        redis.stop()
    per_worker = three["steady_sites_per_s"] / 3
    hours = {k: round(CENSUS / (per_worker * k) / 3600, 1) for k in (1, 3, 10, 30)}
    return {"one": one, "three": three, "speedup": round(three["steady_sites_per_s"] / one["steady_sites_per_s"], 2),
            "end_to_end_speedup": round(three["end_to_end_sites_per_s"] / one["end_to_end_sites_per_s"], 2),
            "per_worker_sites_per_s": round(per_worker, 2), "census_sites": CENSUS, "census_hours_by_workers": hours}


# -- memory ------------------------------------------------------------------------------------------------
def _line(site_id: int, url: str) -> bytes:
    row = {"site_id": site_id, "input": url, "url": f"http://{url}/", "final_url": f"http://{url}/", "status": "ok",
           "status_detail": "", "http_status": 200, "pages": 1, "rendered": 0, "email": 1, "phone": 0, "chat": 0,
           "form": 0, "portal": 0, "channels": 1, "final_domain": url, "moved": 0}
    evidence = [{"page_role": "home", "channel": "email", "value": f"info@{url}", "page_url": f"http://{url}/",
                 "method": "mailto", "rule": "email.mailto", "snippet": f"info@{url}", "detail": "", "counted": True}]
    pages = [{"site_id": site_id, "url": f"http://{url}/", "role": "home", "depth": 0, "http_status": 200,
              "bytes": 2048, "content_type": "text/html", "rendered": 0, "elapsed_ms": 200, "error": "", "state": "",
              "state_rule": "", "state_evidence": ""}]
    return (json.dumps({"row": row, "evidence": evidence, "pages": pages}) + "\n").encode()


def stand_in_worker(url: str, stop: threading.Event, counts: dict) -> None:
    """Takes queued sites as fast as the server gives them and posts a synthetic result for each."""
    queue = Queue(url, stop=stop)
    while not stop.is_set():
        runs = queue.client.zrange(RUNS, 0, -1)
        if not runs:
            time.sleep(0.1)
            continue
        run_id = runs[0].decode()
        taken = queue.take(run_id, "stand-in", 1000, lease=600)
        if not taken:
            time.sleep(0.05)
            continue
        keys = RunKeys.of(run_id)
        pipe = queue.client.pipeline(transaction=False)
        for entry, job in taken:
            queue._finish(keys=list(keys.all), args=["workers", job["site_id"], _line(job["site_id"], job["raw"]), entry],
                          client=pipe)
        pipe.execute()
        counts["posted"] += len(taken)
    queue.close()


def memory(rows: int) -> dict:
    redis = RedisServer().start()
    stop = threading.Event()
    counts = {"posted": 0}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            listing = Path(tmp) / "big.csv"
            with open(listing, "w", encoding="utf-8") as fh:
                fh.write("url,name,city\n")
                fh.writelines(f"site{i}.example.ru,Company {i},Moscow\n" for i in range(rows))
            worker = threading.Thread(target=stand_in_worker, args=(redis.url, stop, counts), daemon=True)
            worker.start()
            t0 = time.perf_counter()
            proc = subprocess.Popen([sys.executable, "-m", "chanaudit.cli", "audit", str(listing), "--out",
                                     str(Path(tmp) / "out"), "--render", "never", "--queue", redis.url, "--quiet"],
                                    env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            _, status, usage = os.wait4(proc.pid, 0)
            elapsed = time.perf_counter() - t0
            err = proc.stderr.read().decode(errors="replace")
            proc.stderr.close()
            out = Path(tmp) / "out"
            manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
            sizes = {name: round((out / name).stat().st_size / 2**20, 1)
                     for name in ("journal.jsonl", "sites.csv", "evidence.csv", "pages.csv")}
    finally:
        stop.set()
        redis.stop()
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"the coordinator failed: {err[-2000:]}")
    return {"rows": rows, "state": manifest["state"], "ok": manifest["counts"].get("ok", 0),
            "elapsed_s": round(elapsed, 1), "coordinator_peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
            "files_mb": sizes, "posted": counts["posted"]}


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser()
    ap.add_argument("--latency", type=float, default=0.5)
    ap.add_argument("--concurrency", type=int, default=8, help="connections of each worker")
    ap.add_argument("--sites-per-worker", type=int, default=120)
    ap.add_argument("--memory-rows", type=int, default=1_000_000)
    args = ap.parse_args(argv)
    res = throughput(args.latency, args.concurrency, args.sites_per_worker)
    print(f"queue: latency {args.latency}s, {args.concurrency} connections per worker, "
          f"{args.sites_per_worker} sites per worker")
    for r in (res["one"], res["three"]):
        print(f"  {r['workers']} worker(s): {r['sites']} sites ({r['ok']} ok) in {r['elapsed_s']} s; steady "
              f"{r['steady_sites_per_s']} sites/s = {r['share_of_limit']:.0%} of the limit {r['limit_sites_per_s']}; "
              f"end to end {r['end_to_end_sites_per_s']} sites/s")
    print(f"  3 workers / 1 worker: {res['speedup']}x steady (target >= 2.7x), {res['end_to_end_speedup']}x end to end")
    hours = ", ".join(f"{k} worker(s) {h} h" for k, h in res["census_hours_by_workers"].items())
    print(f"  {res['census_sites']:,} sites at {res['per_worker_sites_per_s']} sites/s per worker: {hours}")
    mem = memory(args.memory_rows) if args.memory_rows else {}
    if mem:
        print(f"memory: coordinator on {mem['rows']:,} rows ({mem['state']}, {mem['ok']:,} ok) in {mem['elapsed_s']} s: "
              f"peak RSS {mem['coordinator_peak_rss_mb']} MB; journal {mem['files_mb']['journal.jsonl']} MB, sites.csv "
              f"{mem['files_mb']['sites.csv']} MB, evidence {mem['files_mb']['evidence.csv']} MB, pages "
              f"{mem['files_mb']['pages.csv']} MB")
    return {"throughput": res, "memory": mem}


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
