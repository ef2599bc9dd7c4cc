"""The rendering browser: what it may fetch (:class:`BrowserPolicy`), what one page did
(:class:`RenderWatch`: failed navigations, pop-ups, every request it attempted, what it shows fixed
in a viewport corner), and which browser it is.

A policy is built per crawl from the :class:`~crawler.config.AuditConfig` and handed to
scrapy-playwright as ``PLAYWRIGHT_ABORT_REQUEST`` (which takes a callable as well as a
dotted path): no module state, nothing patched at run time. The policy is the first line;
the guarantee that no browser connection reaches a private address is the proxy every
browser connection goes through (:mod:`crawler.proxy`), which sees redirects, pop-ups and
workers that Playwright's request routing does not.
"""

from __future__ import annotations

import contextlib
import subprocess
import weakref
from urllib.parse import urlsplit

from chanaudit.crawler import render
from chanaudit.crawler.config import AuditConfig
from chanaudit.crawler.resolver import Resolutions, first_non_public

#: Never fetched by the browser: nothing a detector reads.
ABORT_TYPES = frozenset({"image", "media", "font", "stylesheet"})


class BrowserPolicy:
    """In the browser: no images, fonts, media or stylesheets. From other hosts: frames and
    navigations, and scripts (tag managers and widget loaders that inject a chat) unless
    ``--no-third-party-scripts``, as a visitor's browser would run them — only from public
    addresses unless ``--allow-private``, and never from the analytics and ad hosts of
    ``signatures/render.yaml`` (``blocked``). (Redirects, pop-ups and workers never come here:
    the browser proxy holds them to the address rule.)

    Called by scrapy-playwright with each Playwright request; True aborts it. The requests it
    aborted are remembered (weakly) so that a page's :class:`RenderWatch` can tell them apart.
    A bare policy runs only the page's own scripts; an audit's comes from its configuration
    (:meth:`from_config`), where third-party scripts are on by default."""

    def __init__(self, third_party_scripts: bool = False, allow_private: bool = False,
                 resolutions: Resolutions | None = None):
        self.third_party_scripts = third_party_scripts
        self.allow_private = allow_private
        self.resolutions = resolutions or Resolutions.from_env()  # the crawl's pinned answers
        self.aborted: weakref.WeakSet = weakref.WeakSet()

    @classmethod
    def from_config(cls, cfg: AuditConfig, resolutions: Resolutions | None = None) -> BrowserPolicy:
        return cls(third_party_scripts=cfg.third_party_scripts, allow_private=cfg.allow_private,
                   resolutions=resolutions)

    def __repr__(self) -> str:
        return (f"BrowserPolicy(third_party_scripts={self.third_party_scripts}, "
                f"allow_private={self.allow_private})")

    async def __call__(self, request) -> bool:
        abort = await self.decide(request)
        if abort:
            with contextlib.suppress(TypeError):  # a stand-in that takes no weak reference (tests)
                self.aborted.add(request)
        return abort

    async def decide(self, request) -> bool:
        if request.resource_type in ABORT_TYPES:
            return True
        frame = request.frame
        try:
            page_url = frame.page.url if frame else ""
        except Exception:  # noqa: BLE001 - a detached frame
            page_url = ""
        target = urlsplit(request.url)
        if not page_url.startswith("http") or target.netloc == urlsplit(page_url).netloc:
            return False  # the audited page and its own host (already past the address guard)
        if target.scheme not in ("http", "https"):
            return True
        if render.blocked(request.url):
            return True
        if not request.is_navigation_request() and not (
                self.third_party_scripts and request.resource_type == "script"):
            return True
        return not await self.public(target.hostname or "")

    async def public(self, host: str) -> bool:
        """Does ``host`` resolve only to public addresses? (Always yes with --allow-private.)
        The crawl's address guard asks the same question of every request."""
        if self.allow_private:
            return True
        try:
            addresses = await self.resolutions.addresses(host)
        except (OSError, UnicodeError, TimeoutError):
            return False
        return first_non_public(addresses) is None


#: Attempted requests kept per rendered page (the rest are only counted).
MAX_ATTEMPTS = 500
#: Longest URL kept of an attempted request (scheme, host and path; the query is dropped).
MAX_URL = 300

#: What the page shows fixed in a corner of the viewport, from the computed styles (stylesheets,
#: injected ``<style>``, open shadow roots and inline styles alike): the elements whose computed
#: position is ``fixed`` (or ``absolute`` inside a fixed container that is not itself in a
#: corner), visible, at most half the viewport wide, their bottom edge in the lowest quarter of the
#: viewport and a side near the left or right edge — a chat launcher's place. For each: its tag,
#: id, class, visible text (shadow roots included), titles, aria-labels and image alts of its
#: subtree, the ``src`` of its frames and the ``href`` of its links. Cheap: one computed style per
#: element, at most 20,000 elements and 20 corners.
CORNERS_JS = r"""() => {
  const W = window.innerWidth, H = window.innerHeight, out = [];
  let visited = 0;
  const corner = (r) => r.width >= 8 && r.height >= 8 && r.width <= W * 0.5 && r.height <= H * 0.9
    && r.bottom >= H * 0.75 && r.bottom <= H + 50 && r.top < H && (r.left <= W * 0.2 || r.right >= W * 0.8);
  const describe = (el) => {
    const labels = [], frames = [], hrefs = [];
    let text = el.innerText || '';
    const stack = [el];
    for (let n = 0; stack.length && n < 500; n++) {
      const e = stack.pop();
      for (const a of ['title', 'aria-label', 'alt']) { const v = e.getAttribute(a); if (v) labels.push(v); }
      const tag = e.tagName.toLowerCase();
      if (tag === 'iframe') frames.push(e.getAttribute('src') || '');
      if (tag === 'a' && e.getAttribute('href')) hrefs.push(e.getAttribute('href'));
      if (e.shadowRoot) {
        for (const c of e.shadowRoot.children) {
          if (!/^(STYLE|SCRIPT|TEMPLATE|LINK)$/.test(c.tagName)) text += ' ' + (c.innerText || '');
          stack.push(c);
        }
      }
      for (const c of e.children) stack.push(c);
    }
    const r = el.getBoundingClientRect();
    return {tag: el.tagName.toLowerCase(), id: el.id || '', cls: el.getAttribute('class') || '',
            text: text.replace(/\s+/g, ' ').trim().slice(0, 300), labels: labels.slice(0, 20),
            frames: frames.slice(0, 5), hrefs: hrefs.slice(0, 10),
            box: [Math.round(r.left), Math.round(r.top), Math.round(r.width), Math.round(r.height)]};
  };
  const walk = (root, inFixed) => {
    for (const el of root.children) {
      if (++visited > 20000 || out.length >= 20) return;
      const cs = getComputedStyle(el);
      if (cs.display === 'none') continue;
      const fixed = cs.position === 'fixed' || (inFixed && cs.position === 'absolute');
      if (fixed && cs.visibility !== 'hidden' && corner(el.getBoundingClientRect())) { out.push(describe(el)); continue; }
      walk(el, inFixed || fixed);
      if (el.shadowRoot) walk(el.shadowRoot, inFixed || fixed);
    }
  };
  walk(document.documentElement, false);
  return {width: W, height: H, corners: out};
}"""


def trim_url(url: str) -> str:
    """An attempted request's URL as kept: scheme, host and path (at most :data:`MAX_URL`
    characters); a query is dropped, leaving its ``?`` (``//v2.zopim.com/?KEY`` keeps ``/?``)."""
    parts = urlsplit(url)
    kept = f"{parts.scheme}://{parts.netloc}{parts.path or '/'}"[:MAX_URL]
    return kept + "?" if parts.query else kept


class RenderWatch:
    """What one rendered page's tab did that the crawl must know, from Playwright's page events
    (``playwright_page_event_handlers``): main-frame navigations that failed — the page's own,
    its redirects, a script's or a form's — and pop-ups, each closed as soon as it opens
    (``window.open``, ``target=_blank``), so that nothing renders in them.

    It also records every request the page *attempts* — scripts, frames, XHR and fetch, including
    those the :class:`BrowserPolicy` aborts or the proxy refuses (Playwright reports a request
    before it is routed) — as ``(resource type, URL without its query, outcome)``: the first
    :data:`MAX_ATTEMPTS`, the rest counted; the page's own navigations are not requests of the
    page. And, once the page has settled, what it shows fixed in a viewport corner
    (:data:`CORNERS_JS`, :meth:`read_corners`). The chat detector reads both
    (:mod:`crawler.detectors.chat`); neither goes to the outputs but as evidence and a count."""

    def __init__(self, policy: BrowserPolicy | None = None):
        self.failed: list[tuple[str, str]] = []  # (url, Chromium's error)
        self.popups: list[str] = []
        self.policy = policy  # to tell the requests it aborted from those that failed
        self.attempted = 0  # every request attempted, kept or not
        self._attempts: list[list[str]] = []  # [kind, url, outcome]
        self._pending: dict = {}  # Playwright request -> index in _attempts, until it ends
        self.corners: dict | None = None  # CORNERS_JS's answer; None when not read

    def handlers(self) -> dict:
        return {"request": self.on_request, "requestfailed": self.on_request_failed,
                "requestfinished": self.on_request_finished, "popup": self.on_popup}

    @staticmethod
    def _main_navigation(request) -> bool:
        try:
            return request.is_navigation_request() and request.frame.parent_frame is None
        except Exception:  # noqa: BLE001 - a detached frame, a worker's request
            return False

    def on_request(self, request) -> None:
        url = request.url
        if not url.startswith(("http:", "https:")) or self._main_navigation(request):
            return
        self.attempted += 1
        if len(self._attempts) < MAX_ATTEMPTS:
            self._pending[request] = len(self._attempts)
            self._attempts.append([request.resource_type, trim_url(url), "pending"])

    def on_request_finished(self, request) -> None:
        index = self._pending.pop(request, None)
        if index is not None:
            self._attempts[index][2] = "loaded"

    def on_request_failed(self, request) -> None:
        if self._main_navigation(request):
            self.failed.append((request.url, request.failure or ""))
        index = self._pending.pop(request, None)
        if index is not None:
            blocked = self.policy is not None and request in self.policy.aborted
            self._attempts[index][2] = "blocked" if blocked else f"failed: {request.failure or 'unknown'}"

    @property
    def attempts(self) -> tuple[tuple[str, str, str], ...]:
        """The requests attempted, in order: (resource type, URL, ``loaded`` | ``blocked`` (by the
        policy) | ``failed: <Chromium's error>`` (a refusal of the proxy too) | ``pending``)."""
        return tuple((kind, url, outcome) for kind, url, outcome in self._attempts)

    async def read_corners(self, page) -> None:
        """Run :data:`CORNERS_JS` in the page (a scrapy-playwright page method); a page that
        navigated away or closed leaves :attr:`corners` None."""
        try:
            self.corners = await page.evaluate(CORNERS_JS)
        except Exception:  # noqa: BLE001 - the page is gone or navigating: nothing to read
            self.corners = None

    async def on_popup(self, popup) -> None:
        self.popups.append(popup.url)
        try:
            await popup.close()
        except Exception:  # noqa: BLE001 - closed already, with its opener
            pass

    def refused_hop(self, proxy) -> tuple[str, object] | None:
        """The first main-frame navigation (URL, refusal) the browser proxy refused, if any."""
        if proxy is None:
            return None
        for url, _error in self.failed:
            refusal = proxy.refusal(url)
            if refusal is not None:
                return url, refusal
        return None


def browser_version(path: str, timeout: float = 10.0) -> str | None:
    """What ``PATH --version`` prints ("Chromium 140.0.7339.80 built on Debian..."), or None
    when the browser does not answer within ``timeout`` seconds."""
    try:
        result = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=timeout,
                                check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    version = " ".join(result.stdout.split())
    return version if result.returncode == 0 and version else None
