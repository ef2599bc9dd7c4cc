"""The rendering browser: what it may fetch (:class:`BrowserPolicy`), what one page did
(:class:`RenderWatch`), and which browser it is.

A policy is built per crawl from the :class:`~crawler.config.AuditConfig` and handed to
scrapy-playwright as ``PLAYWRIGHT_ABORT_REQUEST`` (which takes a callable as well as a
dotted path): no module state, nothing patched at run time. The policy is the first line;
the guarantee that no browser connection reaches a private address is the proxy every
browser connection goes through (:mod:`crawler.proxy`), which sees redirects, pop-ups and
workers that Playwright's request routing does not.
"""

from __future__ import annotations

import subprocess
from urllib.parse import urlsplit

from chanaudit.crawler import render
from chanaudit.crawler.config import AuditConfig
from chanaudit.crawler.resolver import Resolutions, first_non_public

#: Never fetched by the browser: nothing a detector reads.
ABORT_TYPES = frozenset({"image", "media", "font", "stylesheet"})


class BrowserPolicy:
    """In the browser: no images, fonts, media or stylesheets. From other hosts: frames and
    navigations, and with ``--third-party-scripts`` scripts (tag managers and widget loaders that
    inject a chat) — only from public addresses unless ``--allow-private``, and never from the
    analytics and ad hosts of ``signatures/render.yaml`` (``blocked``). (Redirects, pop-ups and
    workers never come here: the browser proxy holds them to the address rule.)

    Called by scrapy-playwright with each Playwright request; True aborts it."""

    def __init__(self, third_party_scripts: bool = False, allow_private: bool = False,
                 resolutions: Resolutions | None = None):
        self.third_party_scripts = third_party_scripts
        self.allow_private = allow_private
        self.resolutions = resolutions or Resolutions.from_env()  # the crawl's pinned answers

    @classmethod
    def from_config(cls, cfg: AuditConfig, resolutions: Resolutions | None = None) -> BrowserPolicy:
        return cls(third_party_scripts=cfg.third_party_scripts, allow_private=cfg.allow_private,
                   resolutions=resolutions)

    def __repr__(self) -> str:
        return (f"BrowserPolicy(third_party_scripts={self.third_party_scripts}, "
                f"allow_private={self.allow_private})")

    async def __call__(self, request) -> bool:
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


class RenderWatch:
    """What one rendered page's tab did that the crawl must know, from Playwright's page events
    (``playwright_page_event_handlers``): main-frame navigations that failed — the page's own,
    its redirects, a script's or a form's — and pop-ups, each closed as soon as it opens
    (``window.open``, ``target=_blank``), so that nothing renders in them."""

    def __init__(self):
        self.failed: list[tuple[str, str]] = []  # (url, Chromium's error)
        self.popups: list[str] = []

    def handlers(self) -> dict:
        return {"requestfailed": self.on_request_failed, "popup": self.on_popup}

    def on_request_failed(self, request) -> None:
        try:
            main = request.is_navigation_request() and request.frame.parent_frame is None
        except Exception:  # noqa: BLE001 - a detached frame
            main = False
        if main:
            self.failed.append((request.url, request.failure or ""))

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
