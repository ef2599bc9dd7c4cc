"""The audit spider: fetch the home page, route to contacts/support pages, record.

It only fetches, routes and records: detection is :func:`crawler.detectors.detect`
on each page; a site's result is finished when its last page is in, and handed
to the recorder (the journal) at once, so a killed run loses nothing finished.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import scrapy
from scrapy.http import TextResponse

from chanaudit.core.contract import CHANNELS, Evidence, site_channels
from chanaudit.crawler.config import AuditConfig
from chanaudit.crawler.decoding import decode_html, is_html
from chanaudit.crawler.detectors import detect
from chanaudit.crawler.failures import classify
from chanaudit.crawler.navigation import find_targets
from chanaudit.crawler.page import Page, ParsedPage
from chanaudit.crawler.render import needs_rendering


@dataclass
class PageRecord:
    site_id: int
    url: str
    role: str
    depth: int
    http_status: int | None = None
    bytes: int = 0
    content_type: str = ""
    rendered: int = 0
    elapsed_ms: int = 0
    error: str = ""


@dataclass
class SiteState:
    site_id: int
    raw: str
    url: str
    public_url: str | None = None
    final_url: str = ""
    status: str = "ok"
    status_detail: str = ""
    http_status: int | None = None
    queue: deque = field(default_factory=deque)  # (url, role, depth, render, static_html) still to fetch
    pages: list[PageRecord] = field(default_factory=list)
    evidence: list[tuple[str, Evidence]] = field(default_factory=list)  # (page_role, evidence)
    rendered: int = 0
    started: float = field(default_factory=time.monotonic)


class AuditSpider(scrapy.Spider):
    """One request in flight per site: robots.txt, home, then contacts/support in turn.

    Chaining the requests of a site (instead of queueing them in its download
    slot) keeps every unit of ``CONCURRENT_REQUESTS`` on the wire: Scrapy
    counts requests parked in a slot, or behind their robots.txt, as active.
    robots.txt is fetched and parsed (Protego, as Scrapy does) once per host.
    """

    name = "chanaudit"

    def __init__(self, sites: list[dict], config: dict, recorder, **kwargs):
        super().__init__(**kwargs)
        self.sites = sites
        self.cfg = AuditConfig.from_dict(config)
        self.recorder = recorder
        self.states: dict[int, SiteState] = {}
        self.render_available = self.cfg.render != "never"
        self.robots: dict[str, object] = {}  # netloc -> Protego parser, or None (allow all)

    async def start(self):
        for site in self.sites:
            state = SiteState(site["site_id"], site["raw"], site["url"], site.get("public_url"))
            self.states[state.site_id] = state
            state.queue.append((state.url, "home", 0, False, ""))
            for request in self._next(state):
                yield request

    # -- requests ------------------------------------------------------------
    def _next(self, state: SiteState) -> list:
        """The site's next request, or finish the site when nothing is left."""
        while state.queue:
            url, role, depth, render, static = state.queue.popleft()
            netloc = urlsplit(url).netloc
            if self.cfg.obey_robots and not render and netloc not in self.robots:
                state.queue.appendleft((url, role, depth, render, static))
                return [self._robots_request(state, url)]
            if not render and not self._allowed(url):
                self._record_error(state, url, role, depth, False, "robots_blocked", "forbidden by robots.txt", None)
                continue
            return [self._request(state, url, role, depth, render, static)]
        self._finish(state)
        return []

    def _robots_request(self, state: SiteState, url: str) -> scrapy.Request:
        parts = urlsplit(url)
        return scrapy.Request(f"{parts.scheme}://{parts.netloc}/robots.txt", callback=self.on_robots,
                              errback=self.on_robots, dont_filter=True, priority=2,
                              meta={"site_id": state.site_id, "netloc": parts.netloc, "dont_redirect": False,
                                    "handle_httpstatus_all": True})

    def _allowed(self, url: str) -> bool:
        parser = self.robots.get(urlsplit(url).netloc)
        return parser is None or parser.can_fetch(url, self.cfg.user_agent)

    def _request(self, state: SiteState, url: str, role: str, depth: int, render: bool = False,
                 static: str = "") -> scrapy.Request:
        meta = {"site_id": state.site_id, "role": role, "page_depth": depth, "render": render, "static_html": static}
        if render:
            from scrapy_playwright.page import PageMethod

            meta.update({
                "playwright": True,
                "playwright_page_goto_kwargs": {"wait_until": "load", "timeout": self.cfg.render_timeout * 1000},
                "playwright_page_methods": [PageMethod("wait_for_timeout", self.cfg.render_wait_ms)],
            })
        # Sites under way before new homes: they finish fast and little state is held.
        priority = 0 if role == "home" and not render else 1
        return scrapy.Request(url, callback=self.parse_page, errback=self.on_error, meta=meta,
                              dont_filter=True, priority=priority)

    # -- callbacks -------------------------------------------------------------
    # Callbacks return lists, not generators: Scrapy inspects the source of a
    # generator callback on every response (its cache misses bound methods).
    def on_robots(self, response_or_failure) -> list:
        from protego import Protego

        response = getattr(response_or_failure, "value", None)
        response = getattr(response, "response", None) if response is not None else response_or_failure
        request = response_or_failure.request if hasattr(response_or_failure, "request") else None
        meta = (response.meta if response is not None else request.meta)
        parser = None
        if response is not None and response.status == 200 and isinstance(response, TextResponse):
            try:
                parser = Protego.parse(response.text)
            except Exception:  # noqa: BLE001 - a broken robots.txt allows all, as in Scrapy
                parser = None
        self.robots.setdefault(meta["netloc"], parser)
        state = self.states.get(meta["site_id"])
        return self._next(state) if state else []

    def parse_page(self, response) -> list:
        meta = response.meta
        state = self.states[meta["site_id"]]
        role, render = meta["role"], meta["render"]
        ctype = response.headers.get(b"Content-Type", b"").decode("latin-1")
        record = PageRecord(state.site_id, response.url, role, meta["page_depth"], response.status,
                            len(response.body), ctype, int(render),
                            int(1000 * (meta.get("download_latency") or 0)))
        if render:
            html = response.text if isinstance(response, TextResponse) else response.body.decode("utf-8", "replace")
            page = Page(response.url, meta.get("static_html", ""), response.status, rendered_html=html, role=role,
                        site_url=state.public_url)
            state.rendered += 1
        else:
            if not is_html(ctype, response.body):
                record.error = f"not HTML ({ctype or 'no content type'})"
                state.pages.append(record)
                if role == "home":
                    self._fail(state, "not_html", record.error, response.status)
                    state.queue.clear()
                return self._next(state)
            html, _enc, _how = decode_html(response.body, ctype)
            page = Page(response.url, html, response.status, role=role, site_url=state.public_url)
        state.pages.append(record)
        if role == "home" and not render:
            state.final_url = response.url
            state.http_status = response.status
        parsed = ParsedPage(page)
        found = detect(parsed)
        state.evidence.extend((role, ev) for ev in found)
        if not render and self._should_render(parsed, found):
            state.queue.appendleft((response.url, role, meta["page_depth"], True, html))
        if role == "home" and not render:
            targets = find_targets(parsed, state.final_url, max_links=self.cfg.max_pages - 1)
            state.queue.extend((t.url, t.role, 1, False, "") for t in targets)
        return self._next(state)

    def _should_render(self, parsed: ParsedPage, found: list[Evidence]) -> bool:
        if not self.render_available:
            return False
        if self.cfg.render == "always":
            return True
        return needs_rendering(parsed, found) is not None

    def on_error(self, failure) -> list:
        request = failure.request
        meta = request.meta
        state = self.states[meta["site_id"]]
        status, detail, code = classify(failure)
        render = bool(meta.get("render"))
        if render:
            status, detail = "error", f"rendering failed: {detail}"
        self._record_error(state, request.url, meta["role"], meta["page_depth"], render, status, detail, code)
        return self._next(state)

    # -- bookkeeping -----------------------------------------------------------
    def _record_error(self, state: SiteState, url: str, role: str, depth: int, render: bool, status: str,
                      detail: str, code: int | None) -> None:
        state.pages.append(PageRecord(state.site_id, url, role, depth, code, 0, "", int(render), 0,
                                      f"{status}: {detail}"))
        if role == "home" and not render:
            self._fail(state, status, detail, code)
            state.queue.clear()

    def _fail(self, state: SiteState, status: str, detail: str, code: int | None) -> None:
        state.status, state.status_detail, state.http_status = status, detail, code

    def _finish(self, state: SiteState) -> None:
        if self.states.pop(state.site_id, None) is None:
            return
        ok = state.status == "ok"
        evidence = [ev for _, ev in state.evidence]
        flags = site_channels(evidence, messenger_as_chat=self.cfg.messenger_as_chat,
                              count_hidden=self.cfg.count_hidden) if ok else {}
        row = {
            "site_id": state.site_id, "input": state.raw, "url": state.url,
            "final_url": state.final_url, "status": state.status, "status_detail": state.status_detail,
            "http_status": state.http_status,
            "pages": sum(1 for p in state.pages if not p.error and not p.rendered),
            "rendered": state.rendered,
            **{ch: flags.get(ch) if ok else None for ch in CHANNELS},
            "channels": sum(flags.values()) if ok else None,
        }
        self.recorder.record(row, list(state.evidence), state.pages)

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider.on_callback_error, signal=scrapy.signals.spider_error)
        return spider

    def on_callback_error(self, failure, response, spider=None) -> None:
        """A callback that raised (a page no rule expected) costs that page, not its site: the page is
        recorded with the error and the site goes on — on its home page it ends as ``error`` with the
        reason — instead of being left unfinished."""
        meta = getattr(response, "meta", None) or {}
        state = self.states.get(meta.get("site_id"))
        if state is None:
            return
        detail = f"{failure.type.__name__}: {failure.value} (reading {response.url})"
        self._record_error(state, response.url, meta.get("role", "home"), meta.get("page_depth", 0),
                           bool(meta.get("render")), "error", detail, getattr(response, "status", None))
        for request in self._next(state):
            self.crawler.engine.crawl(request)

    def closed(self, reason):
        """Sites still under way when the crawl closes are not finished, whatever the reason (a
        run-level stop is not a site failure): they stay out of the journal, the run is reported
        incomplete and ``--resume`` crawls them."""
        if self.states:
            ids = sorted(self.states)
            self.logger.warning("%d sites not finished when the crawl closed (%s), left for --resume: %s",
                                len(ids), reason, ", ".join(map(str, ids[:50])) + (" ..." if len(ids) > 50 else ""))
