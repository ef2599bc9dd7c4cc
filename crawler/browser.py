"""The rendering browser: what it may fetch (:class:`BrowserPolicy`), and which one it is.

A policy is built per crawl from the :class:`~crawler.config.AuditConfig` and handed to
scrapy-playwright as ``PLAYWRIGHT_ABORT_REQUEST`` (which takes a callable as well as a
dotted path): no module state, nothing patched at run time.
"""

from __future__ import annotations

import subprocess
from urllib.parse import urlsplit

from chanaudit.crawler.config import AuditConfig

#: Never fetched by the browser: nothing a detector reads.
ABORT_TYPES = frozenset({"image", "media", "font", "stylesheet"})


class BrowserPolicy:
    """In the browser: no images, fonts, media or stylesheets. From other hosts only scripts,
    and only with ``--third-party-scripts`` (tag managers and widget loaders that inject a
    chat) and only from public addresses unless ``--allow-private``; frames and redirects to
    other hosts are held to the same address rule as the crawl.

    Called by scrapy-playwright with each Playwright request; True aborts it."""

    def __init__(self, third_party_scripts: bool = False, allow_private: bool = False):
        self.third_party_scripts = third_party_scripts
        self.allow_private = allow_private
        self._public: dict[str, bool] = {}  # host -> resolves only to public addresses (this crawl)

    @classmethod
    def from_config(cls, cfg: AuditConfig) -> BrowserPolicy:
        return cls(third_party_scripts=cfg.third_party_scripts, allow_private=cfg.allow_private)

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
        if not request.is_navigation_request() and not (
                self.third_party_scripts and request.resource_type == "script"):
            return True
        return not await self.public(target.hostname or "")

    async def public(self, host: str) -> bool:
        """Does ``host`` resolve only to public addresses? (Always yes with --allow-private.)
        The crawl's address guard asks the same question of every request."""
        if self.allow_private:
            return True
        if host not in self._public:
            from chanaudit.crawler.middlewares import addresses_of, non_public

            try:
                addresses = await addresses_of(host.strip("[]"))
            except (OSError, UnicodeError):
                addresses = []
            self._public[host] = bool(addresses) and not any(non_public(a) for a in addresses)
        return self._public[host]


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
