"""Issue 12, item 5: real kills of a real audit against a slow server on 127.0.0.1.

Whatever stops the run (kill -9 of the CLI, SIGTERM, `timeout`, Ctrl-C), unfinished sites never reach the
journal, an orphaned crawler stops by itself within seconds, the manifest is never `complete`, and
`--resume` finishes every site exactly once. A second run on the same folder is refused by its lock.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from chanaudit.core.folder import AuditFolder, FolderInUse, FolderLock
from chanaudit.crawler.journal import read_journal
from tests.faults import (
    alive,
    chanaudit,
    crawler_pids,
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
def slow_market(tmp_path):
    """16 healthy sites, each request answered after 0.2 s: a run of several seconds to kill."""
    with latency_market(tmp_path, "s", N) as market:
        yield market


def audit_args(csv_path, out, *more):
    return ("audit", csv_path, "--out", out, "--allow-private", "--render", "never", "--delay", "0",
            "--concurrency", "2", "--workers", "2", "--timeout", "5", "--quiet", *more)


def journal_statuses(out) -> set[str]:
    return {rec["row"]["status"] for rec in read_journal(AuditFolder(out).journal).values()}


def resume_finishes_everything(server, csv_path, out, done_before: int) -> None:
    server.latency = 0.0
    requests_before = server.requests
    done = chanaudit(*audit_args(csv_path, out, "--resume"))
    assert done.returncode == 0, done.output
    frame = one_row_per_input(out, N)
    assert (frame["status"] == "ok").all(), frame[["site_id", "status", "status_detail"]]
    assert journaled(out) == N  # every site once over both workers' journals: no duplicates
    assert sorted(read_journal(AuditFolder(out).journal)) == list(range(1, N + 1))
    manifest = AuditFolder(out).manifest()
    assert manifest["state"] == "complete" and manifest["resumed_with"] == done_before
    assert server.requests - requests_before <= (N - done_before) * 4 + 4  # finished sites not fetched again


def test_kill_9_of_the_cli_orphans_stop_without_journaling(slow_market, tmp_path):
    server, csv_path = slow_market
    out = tmp_path / "out"
    proc = start(*audit_args(csv_path, out))
    wait_for(lambda: journaled(out) >= 3, what="three finished sites")
    children = crawler_pids(out)
    assert len(children) == 2
    os.kill(proc.pid, signal.SIGKILL)  # the CLI only: its crawlers are orphaned
    proc.wait()
    killed = time.monotonic()
    wait_for(lambda: not any(alive(pid) for pid in children), timeout=15, what="the orphaned crawlers to stop")
    assert time.monotonic() - killed < 8  # parent checked 4x a second, then at most a 5 s grace
    done_before = journaled(out)
    assert done_before < N, "the kill must land mid-run"
    time.sleep(0.5)
    assert journaled(out) == done_before  # nothing written after they stopped
    assert journal_statuses(out) == {"ok"}  # no unfinished site journaled as an error
    assert AuditFolder(out).manifest()["state"] != "complete"
    resume_finishes_everything(server, csv_path, out, done_before)


@pytest.mark.parametrize("how", ["sigterm-cli", "sigint-group", "timeout"])
def test_stopped_run_writes_incomplete_outputs_and_resumes(slow_market, tmp_path, how):
    server, csv_path = slow_market
    out = tmp_path / "out"
    if how == "timeout":  # coreutils timeout: SIGTERM to the CLI and to its process group
        proc = start(*audit_args(csv_path, out), prefix=("timeout", "-s", "TERM", "4"))
    else:
        proc = start(*audit_args(csv_path, out))
        wait_for(lambda: journaled(out) >= 3, what="three finished sites")
        if how == "sigterm-cli":
            os.kill(proc.pid, signal.SIGTERM)
        else:  # Ctrl-C in a terminal: SIGINT to the whole foreground group
            os.killpg(proc.pid, signal.SIGINT)
    done = finish(proc)
    expected = {"sigterm-cli": (143, "SIGTERM"), "sigint-group": (130, "SIGINT"), "timeout": (124, "SIGTERM")}[how]
    assert done.returncode == expected[0], done.output
    assert f"the run was stopped by {expected[1]}" in done.output and "rerun with --resume" in done.output
    assert f"error: {out}:" in done.output
    manifest = AuditFolder(out).manifest()
    assert manifest["state"] == "incomplete" and manifest["stopped_by"] == expected[1]
    frame = one_row_per_input(out, N)
    not_crawled = frame[frame["status"] != "ok"]
    assert len(not_crawled) == manifest["not_crawled"] > 0
    assert not_crawled["status_detail"].str.startswith(f"not crawled: the run was stopped by {expected[1]}").all()
    done_before = journaled(out)
    assert journal_statuses(out) <= {"ok"}
    assert not any(alive(pid) for pid in crawler_pids(out))
    resume_finishes_everything(server, csv_path, out, done_before)


def test_two_runs_on_one_folder_one_is_refused(slow_market, tmp_path):
    server, csv_path = slow_market
    server.latency = 0.05
    out = tmp_path / "out"
    first = start(*audit_args(csv_path, out))
    time.sleep(0.3)
    second = start(*audit_args(csv_path, out, "--overwrite"))
    runs = [finish(first, 120), finish(second, 120)]
    codes = sorted(r.returncode for r in runs)
    assert codes == [0, 2], [r.output for r in runs]
    winner, loser = (first, second) if runs[0].returncode == 0 else (second, first)
    refused = runs[[first, second].index(loser)].output
    assert f"error: {out}: in use by another chanaudit run (run pid {winner.pid}" in refused
    assert "rerun with --resume" in refused
    frame = one_row_per_input(out, N)
    assert (frame["status"] == "ok").all()
    assert journaled(out) == N
    assert AuditFolder(out).manifest()["state"] == "complete"


CHILD_HOLDS_LOCK = """
import subprocess, sys, time
from chanaudit.core.folder import FolderLock
lock = FolderLock(sys.argv[1]).acquire()
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"], pass_fds=[lock.fd])
lock.add("crawler", child.pid)
print(child.pid, flush=True)
time.sleep(30)
"""


def test_lock_outlives_a_killed_parent_while_a_child_holds_it(tmp_path):
    """kill -9 of the run leaves its crawler holding the lock: a second run names it, then gets the folder."""
    parent = subprocess.Popen([sys.executable, "-c", CHILD_HOLDS_LOCK, str(tmp_path)], stdout=subprocess.PIPE,
                              text=True)
    child = int(parent.stdout.readline())
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait()
    with pytest.raises(FolderInUse) as refused:
        FolderLock(tmp_path).acquire()
    message = str(refused.value)
    assert message.startswith(f"{tmp_path}: in use by another chanaudit run")
    assert f"run pid {parent.pid} (ended)" in message and f"crawler pid {child}" in message
    assert f"crawler pid {child} (ended)" not in message
    os.kill(child, signal.SIGKILL)
    wait_for(lambda: not alive(child), what="the child to end")
    lock = FolderLock(tmp_path).acquire()  # free once the last holder is gone
    assert json.dumps(lock.path.read_text()).startswith(f'"run {os.getpid()}')
    lock.release()
