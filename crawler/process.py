"""The crawl itself, run in a child process: ``python -m chanaudit.crawler.process JOB.json``.

Twisted's reactor cannot restart inside one Python process, so the API and the
CLI run each crawl here; the parent follows the journal for progress and
writes the outputs. A job with ``queue`` crawls a queued run instead of a list: its
sites come from the shared queue and its results go back there (crawler/worker.py).
A run-level stop — the parent died (checked four times a second),
SIGTERM/SIGINT/SIGHUP, a journal write failed (a full disk) — seals the journal
(or the queue), stops the crawl and ends the process within :data:`GRACE_SECONDS`;
the sites not finished are left out of the journal for ``--resume`` (or put back in
the queue).
"""

from __future__ import annotations

import errno
import json
import logging
import os
import signal
import sys
import threading
from pathlib import Path

from chanaudit.crawler.browser import BrowserPolicy
from chanaudit.crawler.config import CHROMIUM_ARGS, AuditConfig
from chanaudit.crawler.journal import Journal
from chanaudit.crawler.proxy import BrowserProxy
from chanaudit.crawler.resolver import HOSTS_ENV, OFFLINE_ENV, PUBLIC_ENV, Resolutions


def crawl_settings(cfg: AuditConfig, log_file: str | None = None, resolutions: Resolutions | None = None,
                   proxy: BrowserProxy | None = None) -> dict:
    """Scrapy's settings for a crawl. ``resolutions`` are the crawl's pinned DNS answers (shared by
    the address guard, the connections and the browser proxy); rendering needs ``proxy``, started:
    the browser reaches the network only through it."""
    resolutions = resolutions or Resolutions.from_env(timeout=cfg.timeout)
    settings = {
        "BOT_NAME": "chanaudit",
        "USER_AGENT": cfg.user_agent,
        "ROBOTSTXT_OBEY": False,  # the spider fetches and obeys robots.txt itself (see AuditSpider)
        "CONCURRENT_REQUESTS": cfg.concurrency,
        "CONCURRENT_REQUESTS_PER_DOMAIN": cfg.per_site,
        "DOWNLOAD_DELAY": cfg.delay,
        "DOWNLOAD_DELAY_JITTER": 0.5 if cfg.delay > 0 else 0,
        "DOWNLOAD_TIMEOUT": cfg.timeout,
        "DOWNLOAD_MAXSIZE": cfg.max_bytes,
        "DOWNLOAD_WARNSIZE": 0,
        "RETRY_TIMES": cfg.retries,
        "REDIRECT_MAX_TIMES": 5,
        "COOKIES_ENABLED": False,
        "TELNETCONSOLE_ENABLED": False,
        # One DNS answer per host, checked and connected to (crawler.resolver).
        "TWISTED_DNS_RESOLVER": "chanaudit.crawler.resolver.PinnedResolver",
        "CHANAUDIT_RESOLUTIONS": resolutions,
        "HTTPPROXY_ENABLED": False,  # an upstream proxy would connect to addresses nobody checked
        "REACTOR_THREADPOOL_MAXSIZE": 20,
        "SCHEDULER_PRIORITY_QUEUE": "scrapy.pqueues.DownloaderAwarePriorityQueue",
        "CONCURRENT_ITEMS": 4,  # callbacks yield a few requests, no items: big values spawn idle tasks per callback
        "LOG_LEVEL": "INFO",
        "LOG_FILE": log_file,
        "LOG_FILE_APPEND": True,
        "CHANAUDIT_ALLOW_PRIVATE": cfg.allow_private,
        "CHANAUDIT_OFFSITE_REDIRECTS": cfg.offsite_redirects,
        "DOWNLOADER_MIDDLEWARES": {"chanaudit.crawler.middlewares.SiteSlotMiddleware": 40,
                                   "chanaudit.crawler.offsite.RedirectTargetMiddleware": 45,
                                   "chanaudit.crawler.middlewares.AddressGuardMiddleware": 50},
        "TWISTED_REACTOR": "twisted.internet.asyncioreactor.AsyncioSelectorReactor",
        # http(s) only: no file:, data:, ftp: or s3: downloads.
        "DOWNLOAD_HANDLERS": {"file": None, "data": None, "ftp": None, "s3": None},
        # No listening ports in a crawler but the browser proxy's, on 127.0.0.1 (crawler.proxy):
        # telnet console and remote control off.
        "EXTENSIONS": {"scrapy.extensions.telnet.TelnetConsole": None,
                       "scrapy.extensions.remote_control.RemoteControl": None},
    }
    if cfg.render != "never":
        if proxy is None or proxy.port is None:
            raise ValueError("rendering needs the browser proxy (crawler.proxy.BrowserProxy), started")
        handler = "scrapy_playwright.handler.ScrapyPlaywrightDownloadHandler"
        settings["DOWNLOAD_HANDLERS"].update({"http": handler, "https": handler})
        settings.update({
            "PLAYWRIGHT_BROWSER_TYPE": "chromium",
            "PLAYWRIGHT_LAUNCH_OPTIONS": {"executable_path": cfg.chromium, "headless": True,
                                          "args": [*CHROMIUM_ARGS, *proxy.browser_args()]},
            "PLAYWRIGHT_MAX_CONTEXTS": 1,
            "PLAYWRIGHT_MAX_PAGES_PER_CONTEXT": cfg.render_pages,
            "PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT": cfg.render_timeout * 1000,
            # a callable: scrapy-playwright's load_object returns it as is
            "PLAYWRIGHT_ABORT_REQUEST": BrowserPolicy.from_config(cfg, resolutions),
            "CHANAUDIT_BROWSER_PROXY": proxy,
        })
    return settings


#: Exit codes of a child that stopped before its sites were done (the parent reads them).
EXIT_STOPPED = 3  # SIGTERM, SIGINT or SIGHUP
EXIT_ORPHANED = 4  # the parent process died
EXIT_DISK_FULL = 5  # a journal write failed: no space left on device (or quota)
EXIT_WRITE_FAILED = 6  # a journal write failed otherwise
#: Seconds a stopping crawl may take to close (browser, connections) before the process ends hard.
GRACE_SECONDS = 5.0
PARENT_CHECK_SECONDS = 0.25


class RunStop:
    """Stop the whole run, not one site: seal the journal, stop Scrapy, end the process for sure."""

    def __init__(self, journal: Journal, process) -> None:
        self.journal = journal
        self.process = process
        self.code = 0

    def __call__(self, code: int, why: str) -> None:
        if self.code:
            return
        from twisted.internet import reactor

        self.code = code
        self.journal.seal()
        timer = threading.Timer(GRACE_SECONDS, os._exit, (code,))
        timer.daemon = True
        timer.start()
        reactor.callFromThread(self._stop, why)

    def _stop(self, why: str) -> None:
        from twisted.internet import reactor

        logging.getLogger(__name__).warning("stopping the run: %s; unfinished sites are left for --resume", why)

        def stop_reactor(_):
            if reactor.running:
                reactor.stop()

        self.process.stop().addBoth(stop_reactor)

    def on_signal(self, signum: int, _frame) -> None:
        if self.code:  # a second signal: no more waiting
            os._exit(self.code)
        self(EXIT_STOPPED, f"received {signal.Signals(signum).name}")

    def watch_parent(self, parent_pid: int) -> None:
        from twisted.internet import task

        def check():
            if os.getppid() != parent_pid:
                self(EXIT_ORPHANED, f"parent process {parent_pid} gone")

        task.LoopingCall(check).start(PARENT_CHECK_SECONDS, now=True)


def main(job_path: str) -> int:
    from scrapy.crawler import CrawlerProcess

    from chanaudit.crawler.spider import AuditSpider

    job = json.loads(Path(job_path).read_text(encoding="utf-8"))
    cfg = AuditConfig.from_dict(job["config"])  # the parent checked the browser (runner.check_rendering)
    # The recorder: the journal, or in a queued run the queue (crawler/worker.py), which also feeds the sites.
    recorder = _queue_source(job, cfg) if job.get("queue") else Journal(Path(job["journal"]))
    sites = recorder if job.get("queue") else job["sites"]
    resolutions = Resolutions.from_env(timeout=cfg.timeout)
    proxy = BrowserProxy(resolutions, allow_private=cfg.allow_private).start() if cfg.render != "never" else None
    settings = crawl_settings(cfg, job.get("log_file"), resolutions, proxy)
    settings["LOG_INSTALL_ROOT_HANDLER"] = bool(job.get("log_file"))
    process = CrawlerProcess(settings)
    _warn_test_hooks()
    stop = RunStop(recorder, process)
    if isinstance(recorder, Journal):
        recorder.on_error = lambda exc: stop(EXIT_DISK_FULL if exc.errno in (errno.ENOSPC, errno.EDQUOT)
                                             else EXIT_WRITE_FAILED, f"cannot write {recorder.path}: {exc.strerror or exc}")
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, stop.on_signal)
    if isinstance(recorder, Journal):
        recorder.open()
    else:
        recorder.start()
    process.crawl(AuditSpider, sites=sites, config=cfg.as_dict(), recorder=recorder)
    if job.get("parent_pid"):
        stop.watch_parent(int(job["parent_pid"]))
    try:
        process.start(install_signal_handlers=False)
    finally:
        recorder.close()
        if proxy is not None:
            proxy.stop()
    if getattr(recorder, "error", None) is not None:
        print(f"chanaudit crawler: cannot write {recorder.path}: {recorder.error}", file=sys.stderr)
    return stop.code


def _queue_source(job: dict, cfg: AuditConfig):
    """The queued run's source of sites and recorder; the server's URL comes from the environment."""
    from chanaudit.crawler.queue import URL_ENV, Queue
    from chanaudit.crawler.worker import QueueSource, consumer_name

    spec = job["queue"]
    queue = Queue(os.environ[URL_ENV])
    return QueueSource(queue, spec["run"], spec.get("consumer") or consumer_name(), float(spec["lease"]),
                       cfg.concurrency, linger=bool(spec.get("linger")))


def _warn_test_hooks() -> None:
    for name in (PUBLIC_ENV, HOSTS_ENV, OFFLINE_ENV):
        if os.environ.get(name):
            logging.getLogger(__name__).warning("test hook %s=%s is set (docs/safety.md)", name, os.environ[name])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
