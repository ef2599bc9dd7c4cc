"""The crawl itself, run in a child process: ``python -m chanaudit.crawler.process JOB.json``.

Twisted's reactor cannot restart inside one Python process, so the API and the
CLI run each crawl here; the parent follows the journal for progress and
writes the outputs. The child ends itself if its parent dies.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path

from chanaudit.crawler.browser import BrowserPolicy
from chanaudit.crawler.config import CHROMIUM_ARGS, AuditConfig
from chanaudit.crawler.journal import Journal


def crawl_settings(cfg: AuditConfig, log_file: str | None = None) -> dict:
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
        "DNSCACHE_ENABLED": True,
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
        # No listening ports in a crawler: telnet console and remote control off.
        "EXTENSIONS": {"scrapy.extensions.telnet.TelnetConsole": None,
                       "scrapy.extensions.remote_control.RemoteControl": None},
    }
    if cfg.render != "never":
        handler = "scrapy_playwright.handler.ScrapyPlaywrightDownloadHandler"
        settings.update({
            "DOWNLOAD_HANDLERS": {"http": handler, "https": handler},
            "PLAYWRIGHT_BROWSER_TYPE": "chromium",
            "PLAYWRIGHT_LAUNCH_OPTIONS": {"executable_path": cfg.chromium, "headless": True, "args": CHROMIUM_ARGS},
            "PLAYWRIGHT_MAX_CONTEXTS": 1,
            "PLAYWRIGHT_MAX_PAGES_PER_CONTEXT": cfg.render_pages,
            "PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT": cfg.render_timeout * 1000,
            # a callable: scrapy-playwright's load_object returns it as is
            "PLAYWRIGHT_ABORT_REQUEST": BrowserPolicy.from_config(cfg),
        })
    return settings


def _watch_parent(parent_pid: int) -> None:
    from twisted.internet import reactor, task

    def check():
        if os.getppid() != parent_pid:
            logging.getLogger(__name__).error("parent process gone; stopping")
            reactor.stop()

    task.LoopingCall(check).start(1.0, now=False)


def main(job_path: str) -> int:
    from scrapy.crawler import CrawlerProcess

    from chanaudit.crawler.spider import AuditSpider

    job = json.loads(Path(job_path).read_text(encoding="utf-8"))
    cfg = AuditConfig.from_dict(job["config"])  # the parent checked the browser (runner.check_rendering)
    journal = Journal(Path(job["journal"])).open()
    settings = crawl_settings(cfg, job.get("log_file"))
    settings["LOG_INSTALL_ROOT_HANDLER"] = bool(job.get("log_file"))
    process = CrawlerProcess(settings)
    process.crawl(AuditSpider, sites=job["sites"], config=cfg.as_dict(), recorder=journal)
    if job.get("parent_pid"):
        _watch_parent(int(job["parent_pid"]))
    try:
        process.start()
    finally:
        journal.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
