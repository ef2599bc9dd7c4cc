"""The coordinator of a queued audit: ``chanaudit audit SITES --out DIR --queue redis://HOST:PORT/DB``.

It holds the folder's lock and its journal, as a local run does; the crawl is done by workers
(:mod:`crawler.worker`) on any machine. It queues the sites not yet in the journal, a window of
:data:`WINDOW` at a time (the server holds that many, not the whole list), moves each result from
the server into the journal (written and ``fsync``\\ ed, then deleted on the server: a kill in
between leaves it there, and the journal takes a site once), and ends when every site is in.

What it keeps true (docs/scale-out.md):

- A site not yet in the journal is in the run's site stream or its result stream (a worker posts
  a result and deletes the site's entry in one step). When both streams are empty and sites are
  still missing, or the run's keys are gone (a server restarted without persistence), the missing
  sites are queued again: nothing is lost, and a result that arrives twice is journaled once.
- Resumed (``--resume``), it first takes the results that arrived while it was away, then queues
  only what is neither journaled nor still queued on the server.
- Stopped by a signal, it pauses the run (workers take no more of its sites; those under way post
  their results, kept on the server for ``--resume``).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from chanaudit.crawler.config import AuditConfig
from chanaudit.crawler.journal import Journal
from chanaudit.crawler.process import EXIT_DISK_FULL, EXIT_WRITE_FAILED
from chanaudit.crawler.queue import LEASE_SECONDS, Queue, RunKeys
from chanaudit.crawler.runner import stop_children
from chanaudit.crawler.sites import SiteInput
from chanaudit.crawler.worker import start_crawler

log = logging.getLogger("chanaudit.queue")
#: Sites queued on the server at once; topped up when half are taken.
WINDOW = 20_000
#: Results moved into the journal at once (one write, one fsync).
BATCH = 500
#: Times a local worker that ended before the run was done is started again.
RESTARTS = 3


def _me() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def new_run_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(3)


@dataclass
class QueueRun:
    """A queued run as the runner hands it over: where, which run, and what the coordinator saw."""

    url: str
    run_id: str
    lease: float = LEASE_SECONDS
    workers: int = 0  # local workers started by the coordinator
    discard: str | None = None  # a run this one replaces (--overwrite): its keys are deleted
    stats: dict = field(default_factory=lambda: {"duplicates_dropped": 0, "queued_again": 0, "outages": 0,
                                                 "local_worker_restarts": 0})


def crawl(run: QueueRun, pending: list[SiteInput], done: bytearray, config: AuditConfig, out: Path,
          journal_path: Path, total: int, progress: Callable[[int, int], None] | None, lock,
          job_of: Callable[[SiteInput], dict]) -> int:
    """Queue ``pending``, take the results into the journal until every one is in; 0, or the exit code
    of a journal that could not be written. ``done`` marks the site ids journaled (updated here)."""
    queue = Queue(run.url, say=log.warning)
    queue.connect()
    journal = Journal(journal_path).open()
    wanted = bytearray(len(done))
    for site in pending:
        wanted[site.site_id] = 1
    state = _State(run, queue, journal, pending, done, wanted, job_of, config.as_dict())
    children: list[subprocess.Popen | None] = []
    try:
        if run.discard and run.discard != run.run_id:
            queue.close_run(run.discard)
        existed = queue.open_run(run.run_id, config.as_dict(), run.lease, _me())
        if existed:  # resumed: what is still queued stays queued; what arrived meanwhile is journaled
            state.skip = queue.queued_site_ids(run.run_id)
        state.drain_all()
        log.info("run %s on %s: %d sites to crawl; %s", run.run_id, queue.safe_url, state.remaining,
                 f"{run.workers} local workers" if run.workers else
                 f"no local workers: start them with `chanaudit worker {queue.safe_url}`")
        children = _start_workers(run, config, out, lock) if state.remaining else []
        restarts = [0] * len(children)
        while state.remaining > 0:
            moved = state.drain()
            if progress:
                progress(total - state.remaining, total)
            if state.error is not None:
                return EXIT_DISK_FULL if state.error.errno in (28, 122) else EXIT_WRITE_FAILED
            if state.remaining == 0:
                break
            state.check()
            _keep_workers(children, restarts, run, config, out, lock)
            if not moved:
                time.sleep(0.2)
        queue.close_run(run.run_id)
        return 0
    except BaseException:
        with contextlib.suppress(Exception):  # one try: a server out of reach leaves the run open, as a kill does
            queue.client.hset(RunKeys.of(run.run_id).meta, "state", "paused")
        raise
    finally:
        _stop_workers(children, out)
        journal.close()
        run.stats["outages"] = queue.outages
        queue.close()


class _State:
    def __init__(self, run: QueueRun, queue: Queue, journal: Journal, pending: list[SiteInput], done: bytearray,
                 wanted: bytearray, job_of, config: dict):
        self.run, self.queue, self.journal, self.config = run, queue, journal, config
        self.pending, self.done, self.wanted, self.job_of = pending, done, wanted, job_of
        self.remaining = sum(1 for s in pending if not done[s.site_id])
        self.cursor = 0  # pending[:cursor] were queued (or skipped)
        self.skip: set[int] = set()  # queued on the server before a resume
        self.error: OSError | None = None

    def drain(self) -> int:
        """Move up to :data:`BATCH` results from the server into the journal; the number moved."""
        entries = self.queue.results(self.run.run_id, BATCH)
        lines, fresh = [], set()
        for _entry, site_id, line in entries:
            if 0 < site_id < len(self.done) and self.wanted[site_id] and not self.done[site_id] \
                    and line.endswith(b"\n") and site_id not in fresh:
                lines.append(line)
                fresh.add(site_id)
            else:
                self.run.stats["duplicates_dropped"] += 1
        if lines and not self.journal.append(lines):
            self.error = self.journal.error
            return 0
        for site_id in fresh:
            self.done[site_id] = 1
        self.remaining -= len(fresh)
        self.queue.delete_results(self.run.run_id, [entry for entry, _, _ in entries])
        return len(entries)

    def drain_all(self) -> None:
        while self.drain() and self.error is None:
            pass

    def check(self) -> None:
        """Top up the window; queue again what the server lost."""
        sites, results, exists = self.queue.lengths(self.run.run_id)
        if not exists:
            log.warning("run %s is gone from %s (a restart without persistence?): queueing again the %d sites not "
                        "received", self.run.run_id, self.queue.safe_url, self.remaining)
            self._again()
            return
        if self.cursor < len(self.pending):
            if sites < WINDOW // 2:
                self._top_up(WINDOW - sites)
        elif sites == 0 and results == 0 and self.remaining > 0:
            log.warning("run %s: %d sites neither queued nor finished on %s (lost by the server): queued again",
                        self.run.run_id, self.remaining, self.queue.safe_url)
            self._again()

    def _again(self) -> None:
        self.run.stats["queued_again"] += self.remaining
        self.cursor, self.skip = 0, set()
        self.queue.open_run(self.run.run_id, self.config, self.run.lease, _me())
        self._top_up(WINDOW)

    def _top_up(self, room: int) -> None:
        jobs = []
        while self.cursor < len(self.pending) and len(jobs) < room:
            site = self.pending[self.cursor]
            self.cursor += 1
            if not self.done[site.site_id] and site.site_id not in self.skip:
                jobs.append(self.job_of(site))
            if len(jobs) >= 1000:
                self.queue.enqueue(self.run.run_id, jobs)
                room -= len(jobs)
                jobs = []
        if jobs:
            self.queue.enqueue(self.run.run_id, jobs)


def _start_workers(run: QueueRun, config: AuditConfig, out: Path, lock) -> list[subprocess.Popen | None]:
    return [_start_worker(k, run, config, out, lock) for k in range(run.workers)]


def _start_worker(k: int, run: QueueRun, config: AuditConfig, out: Path, lock) -> subprocess.Popen:
    """A local crawler on the run, as the local crawl's children: it holds the folder's lock, watches its
    parent, and logs to crawl[.K].log; it stays until the run is done (``linger``)."""
    cfg = config.as_dict()
    cfg["concurrency"] = max(1, config.concurrency // run.workers)
    job = {"config": cfg, "log_file": str(out / ("crawl.log" if k == 0 else f"crawl.{k}.log")),
           "parent_pid": os.getpid(), "queue": {"run": run.run_id, "lease": run.lease, "linger": True}}
    job_path = out / f".job.{k}.json"
    job_path.write_text(json.dumps(job, ensure_ascii=False), encoding="utf-8")
    with open(out / "crawl.stderr.log", "ab") as err:
        child = start_crawler(job_path, run.url, stdout=err, stderr=err, pass_fds=[lock.fd])
    lock.add("crawler", child.pid)
    return child


def _keep_workers(children, restarts, run, config, out, lock) -> None:
    for k, child in enumerate(children):
        if child is None or child.poll() is None:
            continue
        if restarts[k] >= RESTARTS:
            log.warning("local worker %d ended again (exit code %s): not restarted; waiting for other workers",
                        k, child.returncode)
            children[k] = None
            continue
        restarts[k] += 1
        run.stats["local_worker_restarts"] += 1
        log.warning("local worker %d ended (exit code %s) before the run was done: started again", k, child.returncode)
        children[k] = _start_worker(k, run, config, out, lock)


def _stop_workers(children, out: Path) -> None:
    stop_children([c for c in children if c is not None])
    for k in range(len(children)):
        (out / f".job.{k}.json").unlink(missing_ok=True)
