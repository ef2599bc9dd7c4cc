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

from chanaudit.core.contract import CHANNELS, MOVED, Evidence, site_channels
from chanaudit.crawler import states
from chanaudit.crawler.browser import BrowserPolicy, RenderWatch
from chanaudit.crawler.config import AuditConfig
from chanaudit.crawler.decoding import decode_html, is_html
from chanaudit.crawler.detectors import detect, scriptfiles
from chanaudit.crawler.failures import classify
from chanaudit.crawler.navigation import find_targets
from chanaudit.crawler.offsite import BrokerRedirect, OffsiteRedirect, where
from chanaudit.crawler.page import Page, ParsedPage
from chanaudit.crawler.render import blocked, needs_rendering


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
    state: str = ""  # challenge, parked, placeholder, empty: what this page showed (crawler/states.py)
    state_rule: str = ""
    state_evidence: str = ""
    requests: int | None = None  # a rendered page: the requests it attempted (crawler/browser.py, RenderWatch)

    def mark(self, match: states.StateMatch) -> None:
        self.state, self.state_rule, self.state_evidence = match.status, match.rule, match.evidence_text


@dataclass(frozen=True)
class ScriptJob:
    """A queue item of its own kind: a same-site script file of a page, fetched to run the chat
    rules on it (a loader kept in ``js/livechat.js``; crawler/detectors/scriptfiles.py). Fetched
    only while the site shows no chat; recorded in pages.csv with role ``script``."""

    url: str
    page_url: str
    role: str  # the role of the page that names the script: its evidence counts there
    depth: int


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
    queue: deque = field(default_factory=deque)  # (url, role, depth, render, static_html) or ScriptJob
    scripts: set = field(default_factory=set)  # script files already queued for the site
    pages: list[PageRecord] = field(default_factory=list)
    evidence: list[tuple[str, Evidence]] = field(default_factory=list)  # (page_role, evidence)
    rendered: int = 0
    started: float = field(default_factory=time.monotonic)
    final_domain: str = ""
    moved: int | None = None  # 1: the home page ended on another registrable domain
    challenge: states.StateMatch | None = None  # a challenge on the static home, retried in the browser
    static_empty: bool = False  # the static home shows nothing but has scripts: rendering decides
    home_from_render: bool = False  # the static home had nothing (a challenge, an empty shell): the browser's page stands for it
    note: str = ""  # status_detail of an ok site that an analyst should know about


async def _each(items):
    for item in items:
        yield item


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
        # a list, or a queued run's source (crawler/worker.py) handing out sites as the crawl has room
        sites = self.sites.stream(self) if hasattr(self.sites, "stream") else _each(self.sites)
        async for site in sites:
            state = SiteState(site["site_id"], site["raw"], site["url"], site.get("public_url"))
            self.states[state.site_id] = state
            state.queue.append((state.url, "home", 0, False, ""))
            for request in self._next(state):
                yield request

    # -- requests ------------------------------------------------------------
    def _next(self, state: SiteState) -> list:
        """The site's next request, or finish the site when nothing is left."""
        while state.queue:
            item = state.queue.popleft()
            if isinstance(item, ScriptJob):
                if request := self._script_request(state, item):
                    return [request]
                continue
            url, role, depth, render, static = item
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
        if role == "home":  # a challenge or a placeholder may answer 401/403/429/503: classified before an error
            meta["handle_httpstatus_list"] = list(states.STATE_HTTP_CODES)
        if render:
            from scrapy_playwright.page import PageMethod

            policy = self.crawler.settings.get("PLAYWRIGHT_ABORT_REQUEST")
            watch = RenderWatch(policy if isinstance(policy, BrowserPolicy) else None)
            meta.update({
                "playwright": True,
                "playwright_page_goto_kwargs": {"wait_until": "load", "timeout": self.cfg.render_timeout * 1000},
                "playwright_page_methods": [PageMethod("wait_for_timeout", self.cfg.render_wait_ms),
                                            PageMethod(watch.read_corners)],
                "playwright_page_event_handlers": watch.handlers(),
                "render_watch": watch,
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
        headers = states.normalise_headers(response.headers)
        if render:
            if self._browser_refused(state, response.url, role, meta):
                return self._next(state)
            html = response.text if isinstance(response, TextResponse) else response.body.decode("utf-8", "replace")
            watch: RenderWatch = meta["render_watch"]
            page = Page(response.url, meta.get("static_html", ""), response.status, headers=headers,
                        rendered_html=html, role=role, site_url=state.public_url, region=self.cfg.region,
                        requests=watch.attempts, corners=watch.corners)
            record.requests = watch.attempted
            state.rendered += 1
        else:
            if not is_html(ctype, response.body):
                failed = response.status >= 400  # only the home page's STATE_HTTP_CODES get here
                record.error = f"http_error: HTTP {response.status}" if failed else f"not HTML ({ctype or 'no content type'})"
                state.pages.append(record)
                if role == "home":
                    self._fail(state, *(("http_error", f"HTTP {response.status}") if failed
                                        else ("not_html", record.error)), response.status)
                    state.queue.clear()
                return self._next(state)
            html, _enc, _how = decode_html(response.body, ctype)
            page = Page(response.url, html, response.status, headers=headers, role=role, site_url=state.public_url,
                        region=self.cfg.region)
        parsed = ParsedPage(page)
        if role == "home" and self._home(state, parsed, record, render):
            return self._next(state)  # the home page decided the site (a state, an error) or goes to the browser
        state.pages.append(record)
        found = detect(parsed)
        state.evidence.extend((role, ev) for ev in found)
        if not render and self._should_render(parsed, found):
            state.queue.appendleft((response.url, role, meta["page_depth"], True, html))
        if role == "home" and (not render or state.home_from_render):
            targets = find_targets(parsed, state.final_url, max_links=self.cfg.max_pages - 1)
            state.queue.extend((t.url, t.role, 1, False, "") for t in targets)
            state.home_from_render = False
        if not render:
            self._queue_scripts(state, parsed, role, meta["page_depth"])
        return self._next(state)

    # -- same-site script files ------------------------------------------------------
    def _has_chat(self, state: SiteState) -> bool:
        return any(ev.channel == "chat" for _, ev in state.evidence)

    def _queue_scripts(self, state: SiteState, parsed: ParsedPage, role: str, depth: int) -> None:
        """Put the page's same-site script files first in the queue, while the site shows no chat:
        at most ``per_page`` of a page and ``per_site`` of the site."""
        limits = scriptfiles.limits()
        if self._has_chat(state):
            return
        jobs = []
        for url in scriptfiles.targets(parsed):
            if len(state.scripts) >= limits.per_site:
                break
            if url not in state.scripts:
                state.scripts.add(url)
                jobs.append(ScriptJob(url, parsed.url, role, depth))
        state.queue.extendleft(reversed(jobs))

    def _script_request(self, state: SiteState, job: ScriptJob) -> scrapy.Request | None:
        """The request for a script file, None when it is no longer wanted (a chat was found) or
        robots.txt forbids it. Its robots.txt is the page's (same site): asked first when unknown."""
        if self._has_chat(state):
            return None
        netloc = urlsplit(job.url).netloc
        if self.cfg.obey_robots and netloc not in self.robots:
            state.queue.appendleft(job)
            return self._robots_request(state, job.url)
        if not self._allowed(job.url):
            state.pages.append(PageRecord(state.site_id, job.url, "script", job.depth, None, 0, "", 0, 0,
                                          "robots_blocked: forbidden by robots.txt"))
            return None
        return scrapy.Request(job.url, callback=self.on_script, errback=self.on_script_error, dont_filter=True,
                              priority=1, meta={"site_id": state.site_id, "script": job,
                                                "download_maxsize": scriptfiles.limits().max_bytes})

    def on_script(self, response) -> list:
        job: ScriptJob = response.meta["script"]
        state = self.states[response.meta["site_id"]]
        ctype = response.headers.get(b"Content-Type", b"").decode("latin-1")
        state.pages.append(PageRecord(state.site_id, response.url, "script", job.depth, response.status,
                                      len(response.body), ctype, 0,
                                      int(1000 * (response.meta.get("download_latency") or 0))))
        if response.status == 200 and not is_html(ctype, response.body):
            code = response.body.decode(response.encoding if isinstance(response, TextResponse) else "utf-8", "replace")
            found = scriptfiles.detect(code, job.page_url, response.url, state.public_url)
            state.evidence.extend((job.role, ev) for ev in found)
        return self._next(state)

    def on_script_error(self, failure) -> list:
        meta = failure.request.meta
        job: ScriptJob = meta["script"]
        state = self.states[meta["site_id"]]
        status, detail, code = classify(failure)
        state.pages.append(PageRecord(state.site_id, failure.request.url, "script", job.depth, code, 0, "", 0, 0,
                                      f"{status}: {detail}"))
        return self._next(state)

    def _home(self, state: SiteState, parsed: ParsedPage, record: PageRecord, render: bool) -> bool:
        """Is the home page a site state (crawler/states.py), an HTTP error, or a challenge to retry in the
        browser? True when it decided the site (``record`` is kept); False: audit it as usual."""
        status = parsed.page.status
        if not render:
            state.final_url, state.http_status = parsed.url, status
            state.final_domain, state.moved = where(parsed.url, state.url, state.public_url)
        sig = states.signals(parsed)
        match = states.classify(parsed, sig) or (None if render else states.classify_url(parsed.url))
        if match is not None:
            record.mark(match)
            state.pages.append(record)
            if match.status == "challenge" and not render and self.render_available:
                state.challenge = match  # retried once in the browser before it is recorded
                state.queue.clear()
                state.queue.append((parsed.url, "home", 0, True, parsed.page.html))
                return True
            if render:
                note = "still a challenge in the browser" if state.challenge else "after rendering"
            else:
                note = "not retried in a browser (--render never)" if match.status == "challenge" else ""
            self._fail(state, match.status, match.detail(note), state.http_status)
            state.queue.clear()
            return True
        if status >= 400 and not (render and state.challenge is not None):
            return self._home_error(state, record, render, status)
        if render and state.challenge is not None:
            # the browser got past the interstitial: audit what it shows. Its status is the first answer's (a
            # solved challenge reloads the page in place), so the page decides, not the status.
            record.state_evidence = f"challenge passed in the browser ({state.challenge.rule})"
            state.note = f"{state.challenge.rule} challenge passed in the browser"
            state.challenge, state.home_from_render = None, True
            state.final_url = parsed.url
            state.final_domain, state.moved = where(parsed.url, state.url, state.public_url)
        if not states.is_empty(parsed, sig):
            if render and state.static_empty:  # a shell that scripts filled: read its links from the browser's page
                state.home_from_render = True
            state.static_empty = False
            return False
        if render:  # empty in the browser: the site is empty only if its static page was (or was a challenge)
            if state.static_empty or state.home_from_render:
                return self._empty(state, record, self._rendered_empty_note(parsed), sig.text)
            return False
        if not states.has_scripts(parsed):
            return self._empty(state, record, "no scripts to fill it", sig.text)
        if self.render_available:
            state.static_empty = True  # the rendering policy renders it (an app shell); the browser decides
        else:
            state.note = "no visible content in the static HTML; not rendered (--render never)"
        return False

    def _rendered_empty_note(self, parsed: ParsedPage) -> str:
        """How an empty page was seen in the browser, and whether scripts it names from other hosts
        ran: with --no-third-party-scripts the browser runs only the site's own, and a bundle on a CDN
        stays unrun; with them, a bundle that did not load (its host down or unreachable) is named.
        Analytics and ad scripts (never run) are not named."""
        host = urlsplit(parsed.url).netloc
        foreign = sorted({urlsplit(s.src).netloc for s in parsed.scripts
                          if s.src and urlsplit(s.src).netloc != host and not blocked(s.src)})
        if not foreign:
            return "after rendering"
        if not self.cfg.third_party_scripts:
            return f"after rendering; scripts from {', '.join(foreign[:3])} not run (--third-party-scripts runs them)"
        loaded = {urlsplit(url).netloc for kind, url, outcome in parsed.page.requests
                  if kind == "script" and outcome == "loaded"}
        missing = [h for h in foreign if h not in loaded]
        return f"after rendering; scripts from {', '.join(missing[:3])} did not load" if missing else "after rendering"

    def _home_error(self, state: SiteState, record: PageRecord, render: bool, status: int) -> bool:
        """A home page answered 401/403/429/503 and is no site state: an HTTP error as before."""
        state.pages.append(record)
        if render:  # the static page was audited: the browser's answer adds nothing
            record.error = f"error: rendering failed: HTTP {status}"
            return True
        record.error = f"http_error: HTTP {status}"
        self._fail(state, "http_error", f"HTTP {status}", status)
        state.queue.clear()
        return True

    def _empty(self, state: SiteState, record: PageRecord, note: str, text: str) -> bool:
        match = states.empty_match(note, text)
        record.mark(match)
        state.pages.append(record)
        self._fail(state, "empty", match.detail(note), state.http_status)
        state.queue.clear()
        return True

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
        exc = getattr(failure, "value", None)
        if isinstance(exc, BrokerRedirect | OffsiteRedirect):
            self._redirect_stop(state, exc)
            return self._next(state)
        status, detail, code = classify(failure)
        render = bool(meta.get("render"))
        if render:
            if self._browser_refused(state, request.url, meta["role"], meta):
                return self._next(state)
            status, detail = "error", f"rendering failed: {detail}"
            if meta["role"] == "home":
                self._render_failed(state, detail)
        self._record_error(state, request.url, meta["role"], meta["page_depth"], render, status, detail, code)
        return self._next(state)

    def _browser_refused(self, state: SiteState, url: str, role: str, meta: dict) -> bool:
        """A rendered page whose main-frame navigation (a redirect, a script's or a form's) went to
        an address the browser proxy refused is ``blocked_address``, and nothing of it is read;
        for the home page, so is the site. (The pop-ups the page opened, closed at once, are counted.)"""
        watch = meta.get("render_watch")
        if watch is None:
            return False
        if watch.popups:
            self.crawler.stats.inc_value("chanaudit/popups_closed", len(watch.popups))
            self.logger.info("closed %d pop-up(s) of %s: %s", len(watch.popups), url, ", ".join(watch.popups))
        hop = watch.refused_hop(self.crawler.settings.get("CHANAUDIT_BROWSER_PROXY"))
        if hop is None:
            return False
        detail = f"browser navigation to {hop[0]} refused: {hop[1]}"
        state.pages.append(PageRecord(state.site_id, url, role, meta["page_depth"], None, 0, "", 1, 0,
                                      f"blocked_address: {detail}"))
        if role == "home":  # as when the static home is refused: the site is blocked, its findings void
            self._fail(state, "blocked_address", detail, state.http_status)
            state.queue.clear()
            state.evidence.clear()
        return True

    def _redirect_stop(self, state: SiteState, exc: BrokerRedirect | OffsiteRedirect) -> None:
        """The home page redirected to a broker (parked) or, with --offsite-redirects skip, to another
        domain (moved): the target is not fetched."""
        state.final_url = exc.url
        state.final_domain, state.moved = where(exc.url, state.url, state.public_url)
        record = PageRecord(state.site_id, exc.url, "home", 0, None, 0, "", 0, 0)
        if isinstance(exc, BrokerRedirect):
            record.mark(exc.match)
            record.error = "parked: redirect to a domain broker, not fetched"
            self._fail(state, exc.match.status, exc.match.detail("the home page redirects there"), exc.code)
        else:
            record.error = f"{MOVED}: redirect to another domain, not fetched (--offsite-redirects skip)"
            self._fail(state, MOVED, f"redirects to {state.final_domain} (--offsite-redirects skip): not audited",
                       exc.code)
        state.pages.append(record)
        state.queue.clear()

    def _render_failed(self, state: SiteState, detail: str) -> None:
        """The browser failed on the home page: a challenge waiting for it is recorded as it was; an empty
        static page stays unknown."""
        if state.challenge is not None:
            self._fail(state, "challenge", state.challenge.detail(f"the retry in the browser failed: {detail}"),
                       state.http_status)
            state.challenge = None
            state.queue.clear()
        elif state.static_empty:
            state.static_empty = False
            state.note = f"no visible content in the static HTML; rendering failed: {detail}"

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
        if state.status == "ok" and state.challenge is not None:  # the browser never answered
            self._fail(state, "challenge", state.challenge.detail("not retried in a browser"), state.http_status)
        if state.status == "ok" and state.static_empty:
            state.note = "no visible content in the static HTML; not rendered"
        if state.status == "ok" and state.note:
            state.status_detail = state.note
        ok = state.status == "ok"
        evidence = [ev for _, ev in state.evidence]
        flags = site_channels(evidence, messenger_as_chat=self.cfg.messenger_as_chat,
                              ai_chat_as_chat=self.cfg.ai_chat_as_chat, count_hidden=self.cfg.count_hidden) if ok else {}
        row = {
            "site_id": state.site_id, "input": state.raw, "url": state.url,
            "final_url": state.final_url, "status": state.status, "status_detail": state.status_detail,
            "http_status": state.http_status,
            "pages": sum(1 for p in state.pages if not p.error and not p.rendered and p.role != "script"),
            "rendered": state.rendered,
            **{ch: flags.get(ch) if ok else None for ch in CHANNELS},
            "channels": sum(flags.values()) if ok else None,
            "final_domain": state.final_domain or None, "moved": state.moved,
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
