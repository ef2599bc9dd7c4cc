"""The audit spider: fetch the home page, route to contacts/support pages, record.

It only fetches, routes and records: detection is :func:`crawler.detectors.detect`
on each page; a site's result is finished when its last page is in, and handed
to the recorder (the journal) at once, so a killed run loses nothing finished.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import scrapy
from scrapy.http import TextResponse

from crawler.config import AuditConfig
from crawler.decoding import decode_html, is_html
from crawler.detectors import detect
from crawler.evidence import CHANNELS, Evidence, site_channels
from crawler.failures import NotHtml, classify
from crawler.navigation import find_targets
from crawler.page import Page, ParsedPage
from crawler.render import needs_rendering
from crawler.urls import site_key


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
    final_url: str = ""
    status: str = "ok"
    status_detail: str = ""
    http_status: int | None = None
    pending: int = 0
    pages: list[PageRecord] = field(default_factory=list)
    evidence: list[tuple[str, Evidence]] = field(default_factory=list)  # (page_role, evidence)
    rendered: int = 0
    started: float = field(default_factory=time.monotonic)


def score_of(flags: dict[str, int]) -> float:
    from scoring.rank import score_flags
    from scoring.weights import default_weights

    return score_flags(flags, default_weights())


class AuditSpider(scrapy.Spider):
    name = "chanaudit"

    def __init__(self, sites: list[dict], config: dict, recorder, **kwargs):
        super().__init__(**kwargs)
        self.sites = sites
        self.cfg = AuditConfig.from_dict(config)
        self.recorder = recorder
        self.states: dict[int, SiteState] = {}
        self.render_available = self.cfg.render != "never"

    async def start(self):
        for site in self.sites:
            state = SiteState(site["site_id"], site["raw"], site["url"])
            self.states[state.site_id] = state
            state.pending = 1
            yield self._request(state, state.url, "home", 0)

    # -- requests ------------------------------------------------------------
    def _request(self, state: SiteState, url: str, role: str, depth: int, render: bool = False) -> scrapy.Request:
        meta = {
            "site_id": state.site_id, "role": role, "depth": depth, "render": render,
            "download_slot": site_key(state.final_url or state.url),
        }
        if render:
            from scrapy_playwright.page import PageMethod

            meta.update({
                "playwright": True,
                "playwright_page_goto_kwargs": {"wait_until": "load", "timeout": self.cfg.render_timeout * 1000},
                "playwright_page_methods": [PageMethod("wait_for_timeout", self.cfg.render_wait_ms)],
            })
        # Sub-pages before new homes: sites finish fast and little state is held.
        priority = {"home": 0}.get(role, 1) + (1 if render else 0)
        return scrapy.Request(url, callback=self.parse_page, errback=self.on_error, meta=meta,
                              dont_filter=True, priority=priority)

    # -- callbacks -------------------------------------------------------------
    def parse_page(self, response):
        meta = response.meta
        state = self.states[meta["site_id"]]
        role, render = meta["role"], meta["render"]
        ctype = response.headers.get(b"Content-Type", b"").decode("latin-1")
        record = PageRecord(state.site_id, response.url, role, meta["depth"], response.status,
                            len(response.body), ctype, int(render),
                            int(1000 * (meta.get("download_latency") or 0)))
        if render:
            html = response.text if isinstance(response, TextResponse) else response.body.decode("utf-8", "replace")
            static = meta.get("static_html", "")
            page = Page(response.url, static, response.status, rendered_html=html, role=role)
            state.rendered += 1
        else:
            if not is_html(ctype, response.body):
                record.error = f"not HTML ({ctype or 'no content type'})"
                state.pages.append(record)
                if role == "home":
                    self._fail(state, "not_html", record.error, response.status)
                yield from self._done(state)
                return
            html, _enc, _how = decode_html(response.body, ctype)
            page = Page(response.url, html, response.status, role=role)
        state.pages.append(record)
        if role == "home" and not render:
            state.final_url = response.url
            state.http_status = response.status
        parsed = ParsedPage(page)
        for ev in detect(parsed):
            state.evidence.append((role, ev))
        follow = []
        if role == "home" and not render:
            targets = find_targets(parsed, state.final_url, max_links=self.cfg.max_pages - 1)
            follow = [self._request(state, t.url, t.role, 1) for t in targets]
        if not render and self._should_render(parsed):
            req = self._request(state, response.url, role, meta["depth"], render=True)
            req.meta["static_html"] = html
            follow.append(req)
        state.pending += len(follow)
        yield from follow
        yield from self._done(state)

    def _should_render(self, parsed: ParsedPage) -> bool:
        if not self.render_available:
            return False
        if self.cfg.render == "always":
            return True
        return needs_rendering(parsed) is not None

    def on_error(self, failure):
        request = failure.request
        meta = request.meta
        state = self.states[meta["site_id"]]
        status, detail, code = classify(failure)
        if meta.get("render"):
            status, detail = "error", f"rendering failed: {detail}"
            if "Executable doesn't exist" in detail or "executable" in detail.lower():
                self.render_available = False
        state.pages.append(PageRecord(state.site_id, request.url, meta["role"], meta["depth"], code, 0, "",
                                      int(bool(meta.get("render"))), 0, f"{status}: {detail}"))
        if meta["role"] == "home" and not meta.get("render"):
            self._fail(state, status, detail, code)
        return self._done(state)

    # -- bookkeeping -----------------------------------------------------------
    def _fail(self, state: SiteState, status: str, detail: str, code: int | None) -> None:
        state.status, state.status_detail, state.http_status = status, detail, code

    def _done(self, state: SiteState):
        state.pending -= 1
        if state.pending <= 0:
            self._finish(state)
        return iter(())

    def _finish(self, state: SiteState) -> None:
        if state.site_id not in self.states:
            return
        del self.states[state.site_id]
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
            "score": round(score_of(flags), 4) if ok else None,
        }
        self.recorder.record(row, [(role, ev) for role, ev in state.evidence], state.pages)

    def closed(self, reason):
        for state in list(self.states.values()):
            if state.status == "ok":
                self._fail(state, "error", f"crawl ended before the site finished ({reason})", state.http_status)
            self._finish(state)
