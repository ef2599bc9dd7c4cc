"""Workers of a queued audit: ``chanaudit worker redis://HOST:PORT/DB`` on any machine.

:func:`serve` is the worker: it watches the queue's open runs (oldest first) and, for a run with
sites waiting (or sites whose lease ran out), starts a crawler child — the same
``python -m chanaudit.crawler.process`` a local audit runs, with the run's configuration, so the
address rule, robots.txt, the browser proxy and DNS pinning are the same — and waits for it to
run out of work. In the child, :class:`QueueSource` feeds the spider whole sites (each site's
one-click chain stays in the worker that took it: one request in flight per site, its delay
kept), extends the leases of the sites under way, and posts each finished site back.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from pathlib import Path

from chanaudit.crawler.config import AuditConfig
from chanaudit.crawler.journal import journal_line
from chanaudit.crawler.queue import URL_ENV, Queue, QueueError, QueueStopped, RunKeys

log = logging.getLogger("chanaudit.queue")
#: Seconds a worker's child waits with nothing to do before it ends (its worker then looks again).
IDLE_EXIT = 1.0
#: Seconds a worker waits after a crawler that failed before it starts another.
FAILED_WAIT = 5.0


def consumer_name(tag: str = "") -> str:
    """How a crawler process is named in the queue (``host:pid``): seen in ``XINFO CONSUMERS``."""
    return f"{socket.gethostname()}:{os.getpid()}{tag}"


def capacity(concurrency: int) -> int:
    """Sites a crawler holds at once: its connections, and a quarter more for those between two requests."""
    return concurrency + max(1, concurrency // 4)


class QueueSource:
    """The spider's sites and its recorder in a queued run (``AuditSpider(sites=source, recorder=source)``).

    A thread of its own talks to the server, so that the crawl never waits on the network: it takes
    sites while the spider has room (:meth:`stream`), resets the idle time of the leases it holds
    every third of the lease, and posts each finished site (:meth:`record`) — result, acknowledgement
    and deletion in one step. Sealed (a run-level stop), it records nothing more; closed, it posts what
    was finished before and puts back what was not."""

    def __init__(self, queue: Queue, run_id: str, consumer: str, lease: float, concurrency: int,
                 linger: bool = False, idle_exit: float = IDLE_EXIT):
        self.queue, self.run_id, self.consumer, self.lease = queue, run_id, consumer, lease
        self.capacity = capacity(concurrency)
        self.linger, self.idle_exit = linger, idle_exit
        self.inbox: deque[dict] = deque()  # taken, not yet started by the spider
        self.outbox: deque[tuple[int, bytes]] = deque()  # finished, not yet posted
        self.held: dict[int, list[bytes]] = {}  # site id -> its entries leased to us (the thread's own)
        self.want = 0
        self.dry = False  # the last look found nothing to take
        self.sealed = False
        self.closing = False
        self.counts = {"taken": 0, "posted": 0, "duplicates": 0, "dropped": 0, "released": 0}
        self._stop = queue.stop or threading.Event()
        queue.stop = self._stop
        self._thread = threading.Thread(target=self._run, name="queue", daemon=True)

    # -- the spider's side (the reactor thread) ------------------------------------------------------
    def start(self) -> QueueSource:
        self._thread.start()
        return self

    async def stream(self, spider):
        """Sites as the spider has room for them; ends when there is nothing to take and nothing under
        way for :attr:`idle_exit` seconds (never, with ``linger``: a coordinator's own workers)."""
        idle_since = None
        while not (self.sealed or self._stop.is_set()):
            while self.inbox:
                yield self.inbox.popleft()
            self.want = max(0, self.capacity - len(spider.states))
            if self.linger or spider.states or self.outbox or not self.dry:
                idle_since = None
            elif idle_since is None:
                idle_since = time.monotonic()
            elif time.monotonic() - idle_since >= self.idle_exit:
                return
            await asyncio.sleep(0.05)

    def record(self, row: dict, evidence: list, pages: list) -> bool:
        if self.sealed:
            return False
        self.outbox.append((int(row["site_id"]), journal_line(row, evidence, pages)))
        return True

    def seal(self) -> None:
        self.sealed = True

    def close(self, grace: float = 5.0) -> None:
        """Post what was finished, put back what was not, within ``grace`` seconds (a server out of reach
        for longer leaves them to expire)."""
        self.closing = True
        if self._thread.is_alive():
            self._thread.join(timeout=grace)
        self._stop.set()
        self._thread.join(timeout=1)
        log.info("run %s: %s", self.run_id, ", ".join(f"{k} {v}" for k, v in self.counts.items()))

    # -- the thread ---------------------------------------------------------------------------------
    def _run(self) -> None:
        extended = time.monotonic()
        checked, open_ = 0.0, True
        while not self._stop.is_set():
            try:
                if self.closing:
                    self._post_all()
                    self._release()
                    return
                busy = self._post_all()
                if time.monotonic() - extended >= self.lease / 3:
                    self._extend()
                    extended = time.monotonic()
                n = self.want - len(self.inbox)
                if n > 0 and not self.sealed:
                    if time.monotonic() - checked >= 1.0:
                        open_, checked = self._is_open(), time.monotonic()
                    taken = self._take(n) if open_ else 0
                    self.dry = taken == 0
                    busy = busy or taken > 0
                if not busy:
                    self._stop.wait(0.1)
            except QueueStopped:
                return
            except QueueError as exc:
                log.error("%s", exc)
                self._stop.wait(1.0)
            except Exception:  # noqa: BLE001 - the thread must go on: a site left unposted returns by its lease
                log.exception("queue thread of run %s", self.run_id)
                self._stop.wait(1.0)

    def _is_open(self) -> bool:
        meta = RunKeys.of(self.run_id).meta
        return self.queue.call(lambda r: r.hget(meta, "state")) == b"open"

    def _take(self, n: int) -> int:
        taken = 0
        for entry, job in self.queue.take(self.run_id, self.consumer, n, self.lease):
            site_id = int(job["site_id"])
            if site_id in self.held:  # a second entry of a site under way here: finished with it
                self.held[site_id].append(entry)
                continue
            self.held[site_id] = [entry]
            self.inbox.append(job)
            taken += 1
        self.counts["taken"] += taken
        return taken

    def _post_all(self) -> bool:
        posted = False
        while self.outbox:
            site_id, line = self.outbox[0]
            outcome = self.queue.finish(self.run_id, site_id, line, self.held.get(site_id, []))
            self.outbox.popleft()
            self.held.pop(site_id, None)
            self.counts[{1: "posted", 0: "duplicates"}.get(outcome, "dropped")] += 1
            if outcome < 0:
                log.warning("run %s is not on the server (closed, or the server lost it): the result of site %d is "
                            "left to the coordinator, which queues what it has not received", self.run_id, site_id)
            posted = True
        return posted

    def _extend(self) -> None:
        ids = [e for entries in self.held.values() for e in entries]
        held = self.queue.extend(self.run_id, self.consumer, ids)
        lost = len(ids) - len(held)
        if lost:
            log.info("run %s: %d lease(s) taken over by another worker (a slow site); the result is kept once",
                     self.run_id, lost)

    def _release(self) -> None:
        ids = [e for entries in self.held.values() for e in entries]
        self.counts["released"] += self.queue.release(self.run_id, self.consumer, ids)
        self.held.clear()


# -- the worker: chanaudit worker URL ------------------------------------------------------------------
@dataclasses.dataclass
class WorkerOptions:
    concurrency: int | None = None  # connections of this worker (default: the run's --concurrency)
    until_empty: bool = False  # end when no open run has sites queued or under way
    chromium: str | None = None  # this machine's browser, for runs that render
    log_file: str | None = None  # the crawls' log (Scrapy's), appended
    allow_private: bool = False  # take runs that allow private addresses (this machine's networks)
    poll: float = 1.0  # seconds between two looks at the runs when there is nothing to do


def serve(url: str, options: WorkerOptions | None = None, say=print) -> int:
    """Crawl sites of any open run until stopped (or, with ``until_empty``, until no open run has sites
    queued or under way). Returns the exit code: 0, or 128 + the signal that stopped it."""
    from chanaudit.crawler.runner import BrowserMissing, check_rendering

    options = options or WorkerOptions()
    stop = threading.Event()
    stopped: list[int] = []

    def on_signal(signum, _frame):
        stopped.append(signum)
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)}
    queue = Queue(url, stop=stop, say=say)
    refused: dict[str, str] = {}  # run id -> why this machine cannot crawl it
    try:
        queue.call(lambda r: r.ping(), "(first contact)")  # a worker waits for its server to come up
        say(f"worker {consumer_name()} on {queue.safe_url}: waiting for runs")
        while not stop.is_set():
            run = _next_run(queue, refused)
            if run is None:
                if options.until_empty and not _outstanding(queue, refused):
                    say("no open run has sites queued or under way: done")
                    return 0
                stop.wait(options.poll)
                continue
            run_id, meta = run
            try:
                config = AuditConfig.from_dict(json.loads(meta["config"]))
            except (ValueError, TypeError) as exc:
                refused[run_id] = f"its configuration does not read ({exc})"
                say(f"run {run_id}: not crawled here: {refused[run_id]}")
                continue
            if config.allow_private and not options.allow_private:
                refused[run_id] = ("it allows private addresses (--allow-private), and this worker was not started "
                                   "with --allow-private: it would reach this machine's own networks")
                say(f"run {run_id}: not crawled here: {refused[run_id]}")
                continue
            if options.chromium:
                config = dataclasses.replace(config, chromium=options.chromium)
            try:
                config, _ = check_rendering(config)
            except BrowserMissing as exc:
                refused[run_id] = str(exc)
                say(f"run {run_id}: not crawled here: {exc}")
                continue
            if options.concurrency:
                config = dataclasses.replace(config, concurrency=options.concurrency)
            say(f"run {run_id}: crawling ({config.concurrency} connections, render {config.render})")
            code = _crawl_run(url, run_id, float(meta.get("lease", 60)), config, options, stop)
            if code == 0 or stop.is_set():
                say(f"run {run_id}: nothing left to take here")
            else:  # a crawler that fails at once must not be started again in a tight loop
                say(f"run {run_id}: the crawler ended with exit code {code}; looking again in {FAILED_WAIT:.0f} s")
                stop.wait(FAILED_WAIT)
    except QueueStopped:
        pass
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        queue.close()
    return 128 + stopped[0] if stopped else 0


def _next_run(queue: Queue, refused: dict[str, str]) -> tuple[str, dict] | None:
    for run_id, meta in queue.runs():
        if meta.get("state") != "open" or run_id in refused:
            continue
        waiting, _held, expired = queue.work(run_id, float(meta.get("lease", 60)))
        if waiting or expired:
            return run_id, meta
    return None


def _outstanding(queue: Queue, refused: dict[str, str]) -> bool:
    """Some open run this worker may crawl has sites queued or under way (a worker holding them may still die)."""
    for run_id, meta in queue.runs():
        if meta.get("state") == "open" and run_id not in refused:
            waiting, held, _ = queue.work(run_id, float(meta.get("lease", 60)))
            if waiting or held:
                return True
    return False


def _crawl_run(url: str, run_id: str, lease: float, config: AuditConfig, options: WorkerOptions,
               stop: threading.Event) -> int:
    job = {"config": config.as_dict(), "log_file": options.log_file, "parent_pid": os.getpid(),
           "queue": {"run": run_id, "lease": lease, "linger": False}}
    with tempfile.TemporaryDirectory(prefix="chanaudit-worker-") as tmp:
        job_path = Path(tmp) / "job.json"
        job_path.write_text(json.dumps(job, ensure_ascii=False), encoding="utf-8")
        child = start_crawler(job_path, url)
        try:
            while child.poll() is None:
                if stop.wait(0.25):
                    child.terminate()  # it posts what it finished and puts back the rest
                    break
            return _wait(child)
        except BaseException:
            _wait(child)
            raise


def start_crawler(job_path: Path, url: str, **popen) -> subprocess.Popen:
    """A crawler child on a queued run; the URL travels in its environment, never in a file or its argv."""
    env = {**os.environ, URL_ENV: url}
    env.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")
    return subprocess.Popen([sys.executable, "-m", "chanaudit.crawler.process", str(job_path)], env=env, **popen)


def _wait(child: subprocess.Popen) -> int:
    try:
        return child.wait(timeout=15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            child.kill()
        return child.wait()
