"""Queued audits, for real (issue 15): a coordinator (`chanaudit audit --queue`), workers
(`chanaudit worker`), the tests' own redis-server, sites on 127.0.0.1 — and real kills of each of them.

Whatever dies (a worker with kill -9, the coordinator, the Redis server itself), every input row ends with
exactly one result row, all ok, nothing in the journal or the evidence twice.
"""

from __future__ import annotations

import os
import signal
import time

import pytest

from chanaudit.core.folder import AuditFolder
from chanaudit.core.tables import read_csv
from chanaudit.crawler.queue import GROUP, RUNS, Queue, RunKeys
from chanaudit.demo.server import Site, SiteServer
from tests.conftest import FIXTURES, write_sites_csv
from tests.faults import (
    alive,
    chanaudit,
    finish,
    journaled,
    latency_market,
    one_row_per_input,
    start,
    wait_for,
)

pytestmark = pytest.mark.slow
N = 16


@pytest.fixture
def market(tmp_path):
    """16 healthy sites answering after 0.2 s: a run of some seconds, long enough to kill something in it."""
    with latency_market(tmp_path, "q", N) as found:
        yield found


def audit_args(csv_path, out, url, *more):
    return ("audit", csv_path, "--out", out, "--allow-private", "--render", "never", "--delay", "0", "--timeout", "5",
            "--queue", url, "--lease", "2", "--quiet", *more)


def run_id(out) -> str | None:
    return (AuditFolder(out).manifest().get("queue") or {}).get("run_id")


def run_open(out, url) -> bool:
    rid = run_id(out)
    return bool(rid) and redis_of(url).hget(RunKeys.of(rid).meta, "state") == b"open"


def redis_of(url):
    import redis

    return redis.Redis.from_url(url)


def held_by(url, rid: str, pids: list[int]) -> int:
    """Sites leased to the crawler processes ``pids`` (consumers are named host:pid)."""
    consumers = redis_of(url).xinfo_consumers(RunKeys.of(rid).sites, GROUP)
    return sum(c["pending"] for c in consumers if int(c["name"].decode().rsplit(":", 1)[1]) in pids)


def group_pids(pgid: int) -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = open(f"/proc/{entry}/stat").read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(stat[2]) == pgid:
                pids.append(int(entry))
    return pids


def all_ok_once(out) -> None:
    frame = one_row_per_input(out, N)
    assert (frame["status"] == "ok").all(), frame[["site_id", "status", "status_detail"]]
    assert journaled(out) == N  # the coordinator's journal holds each site once
    evidence = read_csv(AuditFolder(out).evidence)
    assert not evidence.duplicated().any()
    assert evidence.groupby("site_id").size().nunique() == 1 and evidence["site_id"].nunique() == N  # same fixture
    assert AuditFolder(out).manifest()["state"] == "complete"


def test_kill_9_of_a_worker_mid_run_loses_nothing(market, redis_url, tmp_path):
    server, csv_path = market
    out = tmp_path / "out"
    coordinator = start(*audit_args(csv_path, out, redis_url))
    wait_for(lambda: run_open(out, redis_url), what="the run to be queued")
    victim = start("worker", redis_url, "--concurrency", "2", "--until-empty", "--allow-private")
    survivor = start("worker", redis_url, "--concurrency", "2", "--until-empty", "--allow-private")
    rid = run_id(out)
    wait_for(lambda: journaled(out) >= 3 and held_by(redis_url, rid, group_pids(victim.pid)) > 0,
             what="the victim to hold sites mid-run")
    lost = held_by(redis_url, rid, group_pids(victim.pid))
    os.killpg(victim.pid, signal.SIGKILL)  # a lost machine: the worker and its crawler, no goodbye
    victim.wait()
    done = finish(coordinator, 120)
    assert done.returncode == 0, done.output
    assert lost > 0 and journaled(out) == N  # its sites came back after the 2 s lease and were crawled
    all_ok_once(out)
    rest = finish(survivor, 60)
    assert rest.returncode == 0 and "no open run has sites queued or under way" in rest.output
    assert redis_of(redis_url).keys("*") == []  # the run is closed: its keys are gone


def test_resume_after_kill_9_of_the_coordinator_takes_what_arrived_meanwhile(market, redis_url, tmp_path):
    server, csv_path = market
    out = tmp_path / "out"
    coordinator = start(*audit_args(csv_path, out, redis_url))
    wait_for(lambda: run_open(out, redis_url), what="the run to be queued")
    worker = start("worker", redis_url, "--concurrency", "4", "--allow-private")
    try:
        wait_for(lambda: journaled(out) >= 3, what="three journaled sites")
        os.kill(coordinator.pid, signal.SIGKILL)
        coordinator.wait()
        before = journaled(out)
        assert before < N
        keys = RunKeys.of(run_id(out))
        r = redis_of(redis_url)
        wait_for(lambda: r.xlen(keys.sites) == 0 and r.xlen(keys.results) == N - before, timeout=60,
                 what="the worker to finish the run without its coordinator")
        requests = server.requests
        done = chanaudit(*audit_args(csv_path, out, redis_url, "--resume"))
        assert done.returncode == 0, done.output
        assert server.requests == requests  # nothing crawled again: the results kept on the server were taken
        all_ok_once(out)
        assert AuditFolder(out).manifest()["resumed_with"] == before
        assert r.keys("*") == []
    finally:
        worker.send_signal(signal.SIGTERM)
        stopped = finish(worker, 30)
    assert stopped.returncode == 143 and f"run {keys.meta.split('{')[1].split('}')[0]}: crawling" in stopped.output


def test_two_coordinators_on_one_folder_the_second_is_refused(market, redis_url, tmp_path):
    server, csv_path = market
    server.latency = 0.0
    out = tmp_path / "out"
    first = start(*audit_args(csv_path, out, redis_url))  # no worker yet: it waits
    wait_for(lambda: run_open(out, redis_url), what="the run to be queued")
    second = chanaudit(*audit_args(csv_path, out, redis_url, "--resume"))
    assert second.returncode == 2
    assert f"error: {out}: in use by another chanaudit run (run pid {first.pid}" in second.output
    first.send_signal(signal.SIGTERM)
    stopped = finish(first, 30)
    assert stopped.returncode == 143 and "the run was stopped by SIGTERM" in stopped.output
    rid = run_id(out)
    assert redis_of(redis_url).hget(RunKeys.of(rid).meta, "state") == b"paused"  # workers leave it alone
    assert AuditFolder(out).manifest()["state"] == "incomplete"
    done = chanaudit(*audit_args(csv_path, out, redis_url, "--resume", "--workers", "1"))  # same run, a local worker
    assert done.returncode == 0, done.output
    assert run_id(out) == rid
    all_ok_once(out)


def test_a_redis_restart_mid_run_loses_nothing(market, redis_server, redis_url, tmp_path):
    server, csv_path = market
    out = tmp_path / "out"
    coordinator = start(*audit_args(csv_path, out, redis_url, "--workers", "2", "--concurrency", "4"))
    wait_for(lambda: journaled(out) >= 3, what="three journaled sites")
    redis_server.restart(down=0.5)  # no persistence: the queue, the leases and the results in it are gone
    done = finish(coordinator, 120)
    assert done.returncode == 0, done.output
    all_ok_once(out)
    queue = AuditFolder(out).manifest()["queue"]
    assert queue["queued_again"] > 0 and queue["outages"] >= 1
    assert "connection lost" in done.output and "queueing again" in done.output


def test_a_worker_started_before_the_run_picks_it_up(market, redis_url, tmp_path):
    server, csv_path = market
    server.latency = 0.0
    out = tmp_path / "out"
    worker = start("worker", redis_url, "--concurrency", "4", "--allow-private")
    try:
        wait_for(lambda: len(redis_of(redis_url).client_list()) >= 2, what="the worker to connect")
        done = chanaudit(*audit_args(csv_path, out, redis_url))
        assert done.returncode == 0, done.output
        all_ok_once(out)
    finally:
        worker.send_signal(signal.SIGTERM)
        stopped = finish(worker, 30)
    assert f"run {run_id(out)}: crawling" in stopped.output and stopped.returncode == 143
    assert not any(alive(pid) for pid in group_pids(worker.pid))


def test_until_empty_ends_when_no_open_run_has_work(redis_url):
    done = chanaudit("worker", redis_url, "--until-empty")
    assert done.returncode == 0 and "no open run has sites queued or under way" in done.output
    queue = Queue(redis_url)
    queue.open_run("paused", {"render": "never"}, 2.0, "t")
    queue.enqueue("paused", [{"site_id": 1, "raw": "x.ru", "url": "http://x.ru/", "public_url": None}])
    queue.set_state("paused", "paused")  # its coordinator was stopped: not open
    started = time.monotonic()
    done = chanaudit("worker", redis_url, "--until-empty")
    assert done.returncode == 0 and "no open run" in done.output and time.monotonic() - started < 20
    assert queue.work("paused", 2.0) == (1, 0, 0)  # untouched
    assert queue.client.zrange(RUNS, 0, -1) == [b"paused"]
    queue.open_run("private", {"render": "never", "allow_private": True}, 2.0, "t")
    queue.enqueue("private", [{"site_id": 1, "raw": "127.0.0.1", "url": "http://127.0.0.1/", "public_url": None}])
    done = chanaudit("worker", redis_url, "--until-empty")  # not started with --allow-private: leaves it alone
    assert done.returncode == 0 and "run private: not crawled here: it allows private addresses" in done.output
    assert queue.work("private", 2.0) == (1, 0, 0)


def test_a_password_in_the_url_is_never_written(tmp_path):
    """A run on a server with a password: not in the output, the manifest, the logs, nor any file of the folder."""
    from tests.redisserver import RedisServer

    redis = RedisServer(password="pw-7f3a9c").start()
    sites = [Site(f"p{i}", root=FIXTURES / "sites" / "basic") for i in range(2)]
    try:
        with SiteServer(sites) as server:
            csv_path = write_sites_csv(tmp_path / "in.csv", [{"url": server.url(s.name)} for s in sites])
            out = tmp_path / "out"
            done = chanaudit("audit", csv_path, "--out", out, "--allow-private", "--render", "never", "--delay", "0",
                             "--queue", redis.url, "--workers", "1")
    finally:
        redis.stop()
    assert done.returncode == 0, done.output
    assert "pw-7f3a9c" not in done.output and f"redis://:***@127.0.0.1:{redis.port}/0" in done.output
    assert AuditFolder(out).manifest()["queue"]["url"] == f"redis://:***@127.0.0.1:{redis.port}/0"
    for path in out.iterdir():
        assert b"pw-7f3a9c" not in path.read_bytes(), path.name


def test_overwrite_closes_the_run_it_replaces(market, redis_url, tmp_path):
    """--overwrite of a queued run starts a new run and deletes the old one's keys: no worker crawls it for nobody."""
    server, csv_path = market
    server.latency = 0.0
    out = tmp_path / "out"
    first = start(*audit_args(csv_path, out, redis_url))
    wait_for(lambda: run_open(out, redis_url), what="the run to be queued")
    old = run_id(out)
    first.send_signal(signal.SIGTERM)
    assert finish(first, 30).returncode == 143
    assert redis_of(redis_url).exists(RunKeys.of(old).sites)  # paused, its sites still queued
    done = chanaudit(*audit_args(csv_path, out, redis_url, "--overwrite", "--workers", "1"))
    assert done.returncode == 0, done.output
    assert run_id(out) != old
    all_ok_once(out)
    assert redis_of(redis_url).keys("*") == []


def test_a_local_worker_killed_mid_run_is_started_again(market, redis_url, tmp_path):
    """`--workers 2` on the queue: kill -9 of one local crawler; the coordinator starts it again, its sites
    come back after the lease, and the run completes."""
    from tests.faults import crawler_pids

    server, csv_path = market
    out = tmp_path / "out"
    coordinator = start(*audit_args(csv_path, out, redis_url, "--workers", "2", "--concurrency", "4"))
    wait_for(lambda: journaled(out) >= 3 and len(crawler_pids(out)) == 2, what="three journaled sites")
    victim = crawler_pids(out)[0]
    os.kill(victim, signal.SIGKILL)
    done = finish(coordinator, 120)
    assert done.returncode == 0, done.output
    assert "local worker 0 ended (exit code -9) before the run was done: started again" in done.output
    all_ok_once(out)
    assert AuditFolder(out).manifest()["queue"]["local_worker_restarts"] == 1
    assert len(crawler_pids(out)) == 3 and not any(alive(pid) for pid in crawler_pids(out))
