"""kill -9 in the middle of a run, then --resume: no gaps, no duplicates."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from chanaudit.core.tables import read_csv
from chanaudit.crawler.journal import count_lines, read_journal
from chanaudit.demo.server import Site, SiteServer
from tests.conftest import FIXTURES, write_sites_csv

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]


def test_kill_9_then_resume(tmp_path):
    n = 24
    sites = [Site(f"s{i}", root=FIXTURES / "sites" / "basic") for i in range(n)]
    with SiteServer(sites, latency=0.25) as server:
        csv_path = write_sites_csv(tmp_path / "in.csv", [{"url": server.url(s.name), "name": s.name} for s in sites])
        out = tmp_path / "out"
        cmd = [sys.executable, "-m", "chanaudit.cli", "audit", str(csv_path), "--out", str(out), "--allow-private",
               "--render", "never", "--delay", "0", "--concurrency", "4", "--workers", "2", "--quiet"]
        env = {**os.environ, "TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS": ""}
        proc = subprocess.Popen(cmd, env=env, start_new_session=True, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while count_lines(out / "journal.jsonl") < 5 and time.monotonic() < deadline:
            time.sleep(0.05)
        os.killpg(proc.pid, signal.SIGKILL)  # parent and crawler child at once
        proc.wait()
        done_before = count_lines(out / "journal.jsonl")
        assert 5 <= done_before < n, "the kill must land mid-run"
        # a half-written line, as a kill during write leaves it
        with open(out / "journal.jsonl", "a", encoding="utf-8") as fh:
            fh.write('{"row": {"site_id": 99')
        requests_before = server.requests
        result = subprocess.run([*cmd, "--resume"], env=env, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        resumed_requests = server.requests - requests_before
    frame = read_csv(out / "sites.csv")
    assert list(frame["site_id"]) == list(range(1, n + 1))
    assert (frame["status"] == "ok").all()
    records = read_journal(out / "journal.jsonl")
    assert sorted(records) == list(range(1, n + 1))
    assert count_lines(out / "journal.jsonl") == n  # no duplicates, over both workers' journals
    assert (out / "journal.1.jsonl").exists()
    # the finished sites were not fetched again (3 pages + robots per site at most)
    assert resumed_requests <= (n - done_before) * 4 + 4
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["resumed_with"] == done_before and manifest["state"] == "complete"


def test_resume_refuses_another_input(tmp_path):
    from chanaudit.crawler.config import AuditConfig
    from chanaudit.crawler.runner import AuditError, run_audit

    with SiteServer([Site("a", root=FIXTURES / "sites" / "basic")]) as server:
        first = write_sites_csv(tmp_path / "a.csv", [{"url": server.url("a")}])
        cfg = AuditConfig(render="never", allow_private=True, delay=0, timeout=3)
        run_audit(first, tmp_path / "out", cfg)
        other = write_sites_csv(tmp_path / "b.csv", [{"url": server.url("a")}, {"url": "example.com"}])
        with pytest.raises(AuditError, match="different input"):
            run_audit(other, tmp_path / "out", cfg, resume=True)
