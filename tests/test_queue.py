"""The shared queue's model on a real redis-server (issue 15): leases, idempotent results, what a stopping
worker puts back, the URL's password never shown. No crawl here: tests/test_queue_crawl.py crawls."""

from __future__ import annotations

import json
import threading
import time

import pytest

from chanaudit.crawler.queue import GROUP, Queue, QueueError, RunKeys, check_url, redact
from chanaudit.crawler.worker import QueueSource
from tests.faults import chanaudit
from tests.redisserver import RedisServer


def job(site_id: int) -> dict:
    return {"site_id": site_id, "raw": f"s{site_id}.ru", "url": f"http://s{site_id}.ru/", "public_url": None}


@pytest.fixture
def queue(redis_url):
    q = Queue(redis_url)
    q.open_run("r1", {"render": "never"}, 1.0, "test")
    q.enqueue("r1", [job(i) for i in range(1, 6)])
    yield q
    q.close()


def test_the_password_is_never_shown():
    assert redact("redis://:s3cret@db.example:6379/0") == "redis://:***@db.example:6379/0"
    assert redact("rediss://user:s3cret@db.example/2") == "rediss://user:***@db.example/2"
    assert redact("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"
    for bad, why in [("http://h:1/0", "not a Redis URL"), ("redis://h:99999/0", "not a Redis URL"),
                     ("redis://:pw@h:1/x", "the database must be a number"), ("redis:///0", "not a Redis URL")]:
        with pytest.raises(QueueError, match=why) as raised:
            check_url(bad)
        assert "pw" not in str(raised.value)


def test_a_site_taken_by_a_dead_worker_returns_after_its_lease(queue):
    taken = queue.take("r1", "dead", 2, lease=1.0)
    assert [j["site_id"] for _, j in taken] == [1, 2]
    assert [j["site_id"] for _, j in queue.take("r1", "live", 10, lease=1.0)] == [3, 4, 5]  # not 1, 2: leased
    assert queue.work("r1", 1.0) == (0, 5, 0)
    time.sleep(1.1)
    assert queue.work("r1", 1.0)[2] == 5  # every lease ran out: none extended
    again = queue.take("r1", "live", 10, lease=1.0)
    assert sorted(j["site_id"] for _, j in again) == [1, 2, 3, 4, 5]


def test_a_live_worker_keeps_its_leases_and_never_takes_back_one_it_lost(queue):
    mine = queue.take("r1", "a", 2, lease=1.0)
    ids = [e for e, _ in mine]
    for _ in range(3):  # extended every 0.5 s: never idle past the lease
        time.sleep(0.5)
        assert queue.extend("r1", "a", ids) == set(ids)
    assert sorted(j["site_id"] for _, j in queue.take("r1", "b", 10, lease=1.0)) == [3, 4, 5]
    time.sleep(1.1)
    taken_over = queue.take("r1", "b", 10, lease=1.0)  # a's leases ran out (it stopped extending): b has them
    assert sorted(j["site_id"] for _, j in taken_over) == [1, 2, 3, 4, 5]
    assert queue.extend("r1", "a", ids) == set()  # a, slow but alive, does not take them back


def test_a_site_finished_twice_is_posted_once(queue):
    (e1, j1), = queue.take("r1", "a", 1, lease=1.0)
    time.sleep(1.1)
    (e2, j2), = queue.take("r1", "b", 1, lease=1.0)  # the same entry, taken over
    assert e1 == e2 and j1 == j2
    line = (json.dumps({"row": {"site_id": 1}}) + "\n").encode()
    assert queue.finish("r1", 1, line, [e2]) == 1
    assert queue.finish("r1", 1, line, [e1]) == 0  # the slow worker's copy: dropped
    results = queue.results("r1")
    assert [(sid, rec) for _, sid, rec in results] == [(1, line)]
    assert queue.lengths("r1") == (4, 1, True)  # its entry acknowledged and deleted


def test_a_stopping_worker_puts_back_what_it_did_not_finish(queue):
    taken = queue.take("r1", "a", 3, lease=60.0)
    assert queue.release("r1", "a", [e for e, _ in taken]) == 3
    assert queue.work("r1", 60.0) == (5, 0, 0)  # at once, not after the lease
    assert sorted(j["site_id"] for _, j in queue.take("r1", "b", 10, lease=60.0)) == [1, 2, 3, 4, 5]
    assert queue.release("r1", "a", [e for e, _ in taken]) == 0  # no longer a's


def test_a_result_for_a_run_that_is_gone_is_not_posted(queue):
    (entry, _), = queue.take("r1", "a", 1, lease=1.0)
    queue.close_run("r1")
    assert queue.finish("r1", 1, b"{}\n", [entry]) == -1
    assert queue.client.keys("*") == []  # nothing left behind, not even by the late result
    assert queue.take("r1", "a", 1, lease=1.0) == [] and queue.extend("r1", "a", [entry]) == set()


def test_the_source_takes_what_the_spider_has_room_for_and_posts_what_it_finishes(queue):
    source = QueueSource(queue, "r1", "w", lease=1.0, concurrency=2).start()  # room for 2 + 1 sites
    spider = type("Spider", (), {"states": {}})()
    try:
        source.want = source.capacity
        deadline = time.monotonic() + 5
        while len(source.inbox) < 3 and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.3)
        assert len(source.inbox) == 3 and queue.work("r1", 1.0)[:2] == (2, 3)
        site = source.inbox.popleft()
        assert source.record({"site_id": site["site_id"]}, [], [])
        time.sleep(1.5)  # past the lease: the source extended it
        assert queue.work("r1", 1.0)[2] == 0
        assert [sid for _, sid, _ in queue.results("r1")] == [site["site_id"]]
        source.seal()
        assert not source.record({"site_id": 5}, [], [])
    finally:
        source.close(grace=2)
    assert queue.work("r1", 1.0) == (4, 0, 0)  # the two never started were put back
    assert spider.states == {}


def test_the_queue_waits_out_a_restart(redis_server, redis_url):
    q = Queue(redis_url, stop=threading.Event(), say=(said := []).append)
    q.open_run("r2", {}, 1.0, "t")
    redis_server.kill()
    restarted = threading.Timer(0.8, redis_server.start)
    restarted.start()
    assert q.run_exists("r2") is False  # waited for the server, which came back empty
    restarted.join()
    assert q.outages == 1 and "connection lost" in said[0] and "connection back" in said[1]
    assert "127.0.0.1" in said[0]


def test_a_wrong_password_is_a_clear_error_without_the_password(tmp_path):
    server = RedisServer(password="s3cret").start()
    try:
        url = server.url.replace("s3cret", "wrong-pass")
        sites = tmp_path / "in.csv"
        sites.write_text("url\nexample.ru\n", encoding="utf-8")
        done = chanaudit("audit", sites, "--out", tmp_path / "out", "--render", "never", "--queue", url)
        assert done.returncode == 2, done.output
        assert f"error: redis://:***@127.0.0.1:{server.port}/0: the server refused the credentials" in done.output
        assert "wrong-pass" not in done.output and not (tmp_path / "out").exists()
        done = chanaudit("worker", "--until-empty", env={"CHANAUDIT_QUEUE": f"redis://127.0.0.1:{server.port}/0"})
        assert done.returncode == 2 and "needs a password" in done.output
    finally:
        server.stop()


def test_run_keys_share_one_slot():
    keys = RunKeys.of("20261127-abc")
    assert all(k.startswith("chanaudit:{20261127-abc}:") for k in keys.all) and GROUP == "workers"


def test_the_compose_file_runs_this_checkout_s_worker():
    """deploy/compose.yaml cannot be run here (no Docker): what it relies on is checked instead — the worker's
    command and options exist, the URL travels in the variable the worker reads, the image copies every
    package folder of pyproject.toml, Redis keeps its keys (noeviction) and asks for a password."""
    import tomllib
    from pathlib import Path

    import yaml
    from typer.testing import CliRunner

    from chanaudit.cli import app
    from chanaudit.crawler.queue import URL_ENV

    root = Path(__file__).resolve().parents[1]
    compose = yaml.safe_load((root / "deploy" / "compose.yaml").read_text(encoding="utf-8"))
    worker, redis = compose["services"]["worker"], compose["services"]["redis"]
    command = worker["command"]
    assert command[0] == "worker" and URL_ENV in worker["environment"]
    assert worker["environment"][URL_ENV].startswith("redis://:${CHANAUDIT_REDIS_PASSWORD")
    usage = CliRunner().invoke(app, ["worker", "--help"], env={"COLUMNS": "200"}).output
    assert all(flag in usage for flag in command[1:] if flag.startswith("--"))
    assert "--requirepass" in redis["command"] and "noeviction" in redis["command"]
    dockerfile = (root / "deploy" / "Dockerfile").read_text(encoding="utf-8")
    folders = set(tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["package-dir"].values())
    assert all(f"COPY {folder} {folder}" in dockerfile for folder in folders)
    assert 'ENTRYPOINT ["chanaudit"]' in dockerfile
