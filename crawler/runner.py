"""The audit as a Python API: ``run_audit(sites_csv, out_dir, config)``.

Works the same from the CLI and a notebook: the crawl runs in child processes
(:mod:`crawler.process`), progress follows the journal, outputs are written
from the journal at the end — also after a crash or a stop, with every unfinished
site marked so that ``resume=True`` completes the run without gaps or duplicates.

What holds whatever happens (docs/nothing-lost.md): one exclusive lock per output
folder (a second run is refused while any process of the first lives); only
finished sites reach the journal; a run stopped by SIGTERM, SIGINT or SIGHUP
writes its outputs with the manifest ``incomplete`` and raises :class:`AuditStopped`;
a full disk is :class:`DiskFull`, never a traceback.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from chanaudit.core.errors import ChanauditError
from chanaudit.core.folder import AuditFolder, FolderLock
from chanaudit.crawler.browser import browser_version
from chanaudit.crawler.config import AuditConfig
from chanaudit.crawler.journal import JOURNAL, JournalIndex, count_lines, journal_files, repair
from chanaudit.crawler.output import FORMATS, Scorer, base_manifest, write_outputs
from chanaudit.crawler.process import EXIT_DISK_FULL, EXIT_ORPHANED, EXIT_STOPPED, EXIT_WRITE_FAILED
from chanaudit.crawler.queue import LEASE_SECONDS, Queue, redact
from chanaudit.crawler.sites import SiteList, read_sites
from chanaudit.crawler.urls import InvalidSiteInput, normalize_site_url


class AuditError(ChanauditError):
    """The audit cannot start (output folder in use, resume of another input...)."""


class AuditStopped(AuditError):
    """The run was stopped by a signal; the outputs are written and the manifest says ``incomplete``.
    ``exit_code`` is the shell's 128 + the signal's number (130 for SIGINT, 143 for SIGTERM)."""

    def __init__(self, message: str, signum: int):
        super().__init__(message)
        self.signum = signum
        self.exit_code = 128 + signum


class DiskFull(AuditError):
    """No space left on the output folder's device: free space and rerun with ``--resume``."""


#: What a crawler child's exit code says, for the rows it left unfinished.
CHILD_EXITS = {EXIT_STOPPED: "the crawler was stopped by a signal", EXIT_ORPHANED: "the crawler lost its parent",
               EXIT_DISK_FULL: "no space left on device", EXIT_WRITE_FAILED: "the crawler could not write its journal"}


class BrowserMissing(AuditError):
    """Rendering is asked for (``--render auto`` or ``always``) and there is no browser to run."""


@dataclass
class AuditResult:
    out: Path
    manifest: dict
    returncode: int

    @property
    def counts(self) -> dict[str, int]:
        return self.manifest["counts"]


Progress = Callable[[int, int], None]  # (done, total)


def run_audit(sites: str | Path | SiteList, out: str | Path, config: AuditConfig | None = None,
              resume: bool = False, overwrite: bool = False, progress: Progress | None = None,
              column: str | None = None, scorer: Scorer | None = None, queue: str | None = None,
              lease: float = LEASE_SECONDS, fmt: str = "csv") -> AuditResult:
    """Audit every site of ``sites`` into ``out`` (DESIGN.md: sites.csv, evidence.csv, pages.csv,
    manifest.json). ``scorer`` fills the ``score`` column of ok sites; without one it stays empty.
    ``fmt="parquet"`` writes evidence and pages as Parquet files. With ``queue`` (a Redis URL) the
    sites are crawled by the workers of a shared queue (:mod:`crawler.coordinator`; ``config.workers``
    local ones, none by default), ``lease`` seconds being how long a silent worker keeps a site.

    Raises :class:`~chanaudit.core.folder.FolderInUse` when another run holds ``out``,
    :class:`AuditStopped` after SIGTERM/SIGINT/SIGHUP (outputs written, manifest ``incomplete``) and
    :class:`DiskFull` when the device of ``out`` is full."""
    config = config or AuditConfig()
    config, rendering = check_rendering(config)  # before anything is read or written
    if fmt not in FORMATS:
        raise AuditError(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    if queue is not None:
        if not (math.isfinite(lease) and lease >= 1):
            raise AuditError(f"--lease must be at least 1 second, not {lease}")
        probe = Queue(queue)  # a wrong URL, host or password is said before anything is read or written
        try:
            probe.connect()
        finally:
            probe.close()
    out = Path(out)
    site_list = sites if isinstance(sites, SiteList) else read_sites(sites, column=column)
    if out.exists() and not out.is_dir():
        raise AuditError(f"{out}: is a file, not a folder; --out names the folder the audit writes into")
    try:
        out.mkdir(parents=True, exist_ok=True)
        with FolderLock(out) as lock, _signals_raise():
            try:
                return _run_locked(site_list, out, config, rendering, resume, overwrite, progress, scorer, lock,
                                   _Queued(queue, lease) if queue else None, fmt)
            except (_Signal, KeyboardInterrupt) as exc:  # before the crawl started or after the outputs
                signum = exc.signum if isinstance(exc, _Signal) else signal.SIGINT
                raise AuditStopped(f"{out}: stopped by {signal.Signals(signum).name} outside the crawl; the journal "
                                   "holds every finished site; rerun with --resume to finish", signum) from None
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise DiskFull(f"{out}: no space left on device; free space and rerun with --resume") from None
        if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            raise AuditError(f"{exc.filename or out}: {exc.strerror}; choose another --out") from None
        raise


@dataclass
class _Queued:
    url: str
    lease: float


def _run_locked(site_list: SiteList, out: Path, config: AuditConfig, rendering: dict, resume: bool,
                overwrite: bool, progress: Progress | None, scorer: Scorer | None, lock: FolderLock,
                queued: _Queued | None = None, fmt: str = "csv") -> AuditResult:
    folder = AuditFolder(out)
    journal_path = out / JOURNAL
    manifest_path = folder.manifest_path
    previous: dict = {}
    if journal_files(journal_path) and not (resume or overwrite):
        raise AuditError(f"{out} already holds a run; pass --resume to continue it or --overwrite to start again")
    if (resume or overwrite) and manifest_path.exists():
        try:
            previous = json.loads(manifest_path.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError):
            if resume:
                raise AuditError(f"{manifest_path}: not readable JSON, so the run cannot be checked for resuming; "
                                 "pass --overwrite to start again") from None
    if resume and manifest_path.exists() and previous.get("input", {}).get("sha256") != site_list.sha256:
        raise AuditError(f"{out}: the run there audited a different input file; resume needs the same file")
    if overwrite and not resume:
        for part in journal_files(journal_path):
            part.unlink()
        for path in (folder.sites, folder.evidence, folder.pages, folder.parquet(AuditFolder.EVIDENCE),
                     folder.parquet(AuditFolder.PAGES), manifest_path, folder.file(AuditFolder.CRAWL_LOG)):
            path.unlink(missing_ok=True)
    for part in journal_files(journal_path):
        repair(part)
    manifest = base_manifest(site_list, config.as_dict())
    manifest["rendering"] = rendering
    n_rows = len(site_list.sites)
    done = bytearray(n_rows + 1)  # site id -> in the journal: 1 byte a site, whatever the records hold
    with JournalIndex(journal_path, n_rows) as index:
        for site_id in index:
            done[site_id] = 1
        manifest["resumed_with"] = len(index) if resume else 0
    valid = [s for s in site_list.sites if s.url is not None]
    pending = [s for s in valid if not done[s.site_id]]
    run = None
    if queued is not None:
        from chanaudit.crawler.coordinator import QueueRun, new_run_id

        before = previous.get("queue") or {}
        run_id = before.get("run_id") if resume and before.get("run_id") else new_run_id()
        run = QueueRun(queued.url, run_id, queued.lease, config.workers)
        if overwrite and not resume and before.get("run_id"):
            run.discard = before["run_id"]  # the overwritten run: no worker must crawl it any longer
        manifest["queue"] = {"url": redact(queued.url), "run_id": run_id, "lease_s": queued.lease,
                             "local_workers": config.workers}
    folder.write_json(AuditFolder.MANIFEST, {**manifest, "state": "running"})
    rc, stopped = 0, None
    if pending or run is not None:
        try:
            if run is not None:
                from chanaudit.crawler import coordinator

                rc = coordinator.crawl(run, pending, done, config, out, journal_path, len(valid), progress, lock,
                                       _job)
            else:
                rc = _crawl(pending, config, out, journal_path, len(valid), progress, lock)
        except _Signal as exc:
            stopped = exc.signum
        except KeyboardInterrupt:
            stopped = signal.SIGINT
    with _signals_ignored():  # a second Ctrl-C does not cut the outputs short
        if run is not None:
            manifest["queue"].update(run.stats)
        with JournalIndex(journal_path, n_rows) as records:
            missing = sum(1 for s in valid if s.site_id not in records)
            why = (f"the run was stopped by {signal.Signals(stopped).name}" if stopped
                   else CHILD_EXITS.get(rc, f"the crawl stopped early (exit code {rc})" if rc else "the crawl ended early"))
            manifest["state"] = "complete" if rc == 0 and not stopped and not missing else "incomplete"
            manifest["crawler_exit_code"] = rc
            manifest["not_crawled"] = missing
            if stopped:
                manifest["stopped_by"] = signal.Signals(stopped).name
            final = write_outputs(site_list, records, out, manifest,
                                  missing_detail=f"not crawled: {why}; rerun with --resume", scorer=scorer, fmt=fmt)
    if stopped:
        raise AuditStopped(f"{out}: {why}; {missing} of {len(valid)} sites not crawled, the manifest says "
                           "incomplete; rerun with --resume to finish", stopped)
    if rc == EXIT_DISK_FULL:
        raise DiskFull(f"{out}: no space left on device; free space and rerun with --resume")
    return AuditResult(out, final, rc)


def _job(site) -> dict:
    """What a crawler needs of a site."""
    return {"site_id": site.site_id, "raw": site.raw, "url": site.url, "public_url": public_url(site)}


class _Signal(BaseException):
    """SIGTERM or SIGHUP in the parent, raised where it is (as SIGINT raises KeyboardInterrupt)."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def _raise_signal(signum, _frame):
    raise _Signal(signum)


@contextlib.contextmanager
def _signals_raise():
    """SIGTERM and SIGHUP raise :class:`_Signal` for the length of a run (Python's default would end the
    process at once, leaving the manifest ``running`` and the children orphaned). Only the main thread
    can set handlers; elsewhere (a notebook's worker thread) nothing changes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {s: signal.signal(s, _raise_signal) for s in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


@contextlib.contextmanager
def _signals_ignored():
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {s: signal.signal(s, signal.SIG_IGN) for s in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def check_rendering(config: AuditConfig) -> tuple[AuditConfig, dict]:
    """The configuration to crawl with (the browser's path resolved) and the manifest's
    ``rendering`` record; :class:`BrowserMissing` when rendering is on and the browser is not
    there, so that a run never quietly audits static HTML only."""
    if config.render == "never":
        return config, {"policy": "never", "browser": None, "browser_version": None}
    path = shutil.which(config.chromium)  # a path to an executable file, or a name on PATH
    if path is None:
        raise BrowserMissing(
            f"--render {config.render} needs a browser, and there is no executable at {config.chromium}. "
            "Install Debian's chromium (apt-get install chromium), pass --chromium PATH to the browser, "
            "or pass --render never to audit static HTML only.")
    path = os.path.abspath(path)
    if path != config.chromium:
        config = dataclasses.replace(config, chromium=path)
    return config, {"policy": config.render, "browser": path, "browser_version": browser_version(path)}


def public_url(site) -> str | None:
    """A ``domain`` column beside the fetched ``url``: the site's public identity (audits of copies)."""
    domain = (site.extra.get("domain") or "").strip()
    if not domain:
        return None
    try:
        return normalize_site_url(domain)
    except InvalidSiteInput:
        return None


def worker_count(config: AuditConfig, pending: int) -> int:
    """Explicit ``workers``, or one per core once the list is large enough to pay for it."""
    if config.workers > 0:
        return max(1, min(config.workers, pending))
    return max(1, min(os.cpu_count() or 1, pending // 200, 4))


def _crawl(pending, config: AuditConfig, out: Path, journal_path: Path, total: int,
           progress: Progress | None, lock: FolderLock) -> int:
    """Crawl in N child processes, sites dealt round-robin, the connection budget split. The children
    inherit the folder's lock; on any exception here (a signal) they are stopped and waited for."""
    n = worker_count(config, len(pending))
    env = dict(os.environ)
    env.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")
    children, jobs = [], []
    cfg = config.as_dict()
    cfg["concurrency"] = max(1, config.concurrency // n)
    try:
        with open(out / "crawl.stderr.log", "ab") as err:
            for k in range(n):
                part = journal_path if k == 0 else journal_path.with_name(f"{journal_path.stem}.{k}{journal_path.suffix}")
                job = {
                    "config": cfg, "journal": str(part),
                    "log_file": str(out / ("crawl.log" if k == 0 else f"crawl.{k}.log")),
                    "parent_pid": os.getpid(),
                    "sites": [_job(s) for s in pending[k::n]],
                }
                job_path = out / f".job.{k}.json"
                job_path.write_text(json.dumps(job, ensure_ascii=False), encoding="utf-8")
                jobs.append(job_path)
                child = subprocess.Popen([sys.executable, "-m", "chanaudit.crawler.process", str(job_path)], env=env,
                                         stdout=err, stderr=err, pass_fds=[lock.fd])
                children.append(child)
                lock.add("crawler", child.pid)
            while any(c.poll() is None for c in children):
                if progress:
                    progress(min(count_lines(journal_path), total), total)
                time.sleep(0.25)
    except BaseException:
        with _signals_ignored():
            stop_children(children)
        raise
    finally:
        for job_path in jobs:
            job_path.unlink(missing_ok=True)
    if progress:
        progress(min(count_lines(journal_path), total), total)
    return max((c.returncode for c in children), key=abs)


def stop_children(children: list[subprocess.Popen]) -> None:
    """SIGTERM, then SIGKILL for a child still there after its grace period (it journals nothing more)."""
    for child in children:
        if child.poll() is None:
            child.terminate()
    for child in children:
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
