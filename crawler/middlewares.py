"""Downloader middlewares: site slots, and refusing private/loopback/link-local targets.

Publicly reachable sites only, by default: every request (redirects and
robots.txt included) is resolved first and refused when any address is not
global, unless ``CHANAUDIT_ALLOW_PRIVATE`` is set (``--allow-private``; tests
and the demo serve on 127.0.0.1). The answer checked here is the crawl's pinned
one (:class:`crawler.resolver.Resolutions`): the connection that follows uses it too.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from scrapy.exceptions import IgnoreRequest, NotConfigured
from twisted.internet.error import DNSLookupError

from chanaudit.crawler.resolver import Resolutions, addresses_of, first_non_public, non_public
from chanaudit.crawler.urls import site_key

__all__ = ["AddressGuardMiddleware", "BlockedAddress", "SiteSlotMiddleware", "addresses_of", "non_public"]


class BlockedAddress(IgnoreRequest):
    """The target resolves to an address that is not publicly routable."""


class AddressGuardMiddleware:
    def __init__(self, allow_private: bool, resolutions: Resolutions | None = None):
        self.allow_private = allow_private
        self.resolutions = resolutions or Resolutions.from_env()

    @classmethod
    def from_crawler(cls, crawler):
        if crawler.settings.getbool("CHANAUDIT_ALLOW_PRIVATE"):
            raise NotConfigured("private addresses allowed")
        return cls(allow_private=False, resolutions=crawler.settings.get("CHANAUDIT_RESOLUTIONS"))

    async def process_request(self, request, spider=None):
        parts = urlsplit(request.url)
        if parts.scheme not in ("http", "https"):
            raise BlockedAddress(f"{parts.scheme}: URLs are not fetched")
        host = (parts.hostname or "").strip("[]")
        if not host:
            return None
        try:
            addresses = await self.resolutions.addresses(host)
        except (OSError, UnicodeError, TimeoutError) as exc:
            raise DNSLookupError(f"{host}: {exc or 'timed out'}") from None
        bad = first_non_public(addresses)
        if bad:
            hop = f"redirect to {request.url}: " if request.meta.get("redirect_urls") else ""
            what = "is a non-public address" if host == bad else f"resolves to non-public address {bad}"
            raise BlockedAddress(f"{hop}{host} {what} (use --allow-private to audit it)")
        return None


class SiteSlotMiddleware:
    """Politeness per *site*: every request (robots.txt too) waits in its site's slot.

    Scrapy keys download slots by hostname; a site's subdomains and, for IP
    literals, its port (local test sites) belong to one site here.
    """

    def process_request(self, request, spider=None):
        request.meta.setdefault("download_slot", site_key(request.url))
        return None
