"""Downloader middlewares: site slots, and refusing private/loopback/link-local targets.

Publicly reachable sites only, by default: every request (redirects and
robots.txt included) is resolved first and refused when any address is not
global, unless ``CHANAUDIT_ALLOW_PRIVATE`` is set (``--allow-private``; tests
and the demo serve on 127.0.0.1).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

from scrapy.exceptions import IgnoreRequest, NotConfigured
from twisted.internet.error import DNSLookupError

from chanaudit.crawler.urls import site_key


class BlockedAddress(IgnoreRequest):
    """The target resolves to an address that is not publicly routable."""


def non_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


async def addresses_of(host: str) -> list[str]:
    """The addresses of ``host``: itself for an IP literal, else what the resolver answers
    (raises ``socket.gaierror`` or ``UnicodeError`` when it cannot)."""
    try:
        ipaddress.ip_address(host)
        return [host]
    except ValueError:
        infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
        return sorted({info[4][0] for info in infos})


class AddressGuardMiddleware:
    def __init__(self, allow_private: bool):
        self.allow_private = allow_private
        self._cache: dict[str, list[str]] = {}

    @classmethod
    def from_crawler(cls, crawler):
        if crawler.settings.getbool("CHANAUDIT_ALLOW_PRIVATE"):
            raise NotConfigured("private addresses allowed")
        return cls(allow_private=False)

    async def process_request(self, request, spider=None):
        host = (urlsplit(request.url).hostname or "").strip("[]")
        if not host:
            return None
        addresses = self._cache.get(host)
        if addresses is None:
            try:
                addresses = await addresses_of(host)
            except (socket.gaierror, UnicodeError) as exc:
                raise DNSLookupError(f"{host}: {exc}") from None
            self._cache[host] = addresses
        bad = [a for a in addresses if non_public(a)]
        if bad:
            raise BlockedAddress(f"{host} resolves to non-public address {bad[0]} (use --allow-private to audit it)")
        return None


class SiteSlotMiddleware:
    """Politeness per *site*: every request (robots.txt too) waits in its site's slot.

    Scrapy keys download slots by hostname; a site's subdomains and, for IP
    literals, its port (local test sites) belong to one site here.
    """

    def process_request(self, request, spider=None):
        request.meta.setdefault("download_slot", site_key(request.url))
        return None
