"""Where a home page's redirects may lead: a downloader middleware.

A redirect of the home page (HTTP 3xx or a meta refresh, followed by Scrapy) is checked
before the target is fetched:

- to a domain broker or parking host (``url_rules`` of ``signatures/states.yaml``): the site
  is ``parked`` and the broker's page is never fetched (:class:`BrokerRedirect`);
- to another registrable domain with ``--offsite-redirects skip``: the site is not audited
  (:class:`OffsiteRedirect`, status ``moved``). With ``audit``, the default, the target is
  fetched and audited, and the spider flags the site ``moved=1``.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import idna
import tldextract
from scrapy.exceptions import IgnoreRequest

from chanaudit.crawler.states import StateMatch, classify_url
from chanaudit.crawler.urls import site_key


class BrokerRedirect(IgnoreRequest):
    """The home page redirects to a domain broker or parking host."""

    def __init__(self, url: str, match: StateMatch, code: int | None):
        super().__init__(f"redirect to a domain broker ({match.provider}): {url}")
        self.url, self.match, self.code = url, match, code


class OffsiteRedirect(IgnoreRequest):
    """The home page redirects to another registrable domain and ``--offsite-redirects skip`` is on."""

    def __init__(self, url: str, origin: str, code: int | None):
        super().__init__(f"redirect to another domain ({domain_key(url)}), not audited (--offsite-redirects skip)")
        self.url, self.origin, self.code = url, origin, code


class RedirectTargetMiddleware:
    """Stops a home page's redirect at a broker (always) or at another domain (``skip``)."""

    def __init__(self, skip_offsite: bool = False):
        self.skip_offsite = skip_offsite

    @classmethod
    def from_crawler(cls, crawler):
        return cls(skip_offsite=crawler.settings.get("CHANAUDIT_OFFSITE_REDIRECTS", "audit") == "skip")

    def process_request(self, request, spider=None):
        chain = request.meta.get("redirect_urls")
        if not chain or request.meta.get("role") != "home" or request.meta.get("render"):
            return None
        reasons = request.meta.get("redirect_reasons") or []
        code = reasons[-1] if reasons and isinstance(reasons[-1], int) else None
        match = classify_url(request.url)
        if match is not None:
            raise BrokerRedirect(request.url, match, code)
        if self.skip_offsite and domain_key(request.url) != domain_key(chain[0]):
            raise OffsiteRedirect(request.url, chain[0], code)
        return None


#: Registrable domains with the public-suffix list's private section (``desertlink.it.com``,
#: ``firm.github.io``): two customers of one platform are two companies. The bundled list only.
_EXTRACT = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, include_psl_private_domains=True)


def domain_key(url: str) -> str:
    """The registrable domain of ``url``'s host, private suffixes included; host:port for IP literals
    (local copies: each port is a site), as :func:`crawler.urls.site_key`."""
    key = site_key(url)
    if ":" in key or not key:
        return key
    ext = _EXTRACT((urlsplit(url).hostname or "").rstrip("."))
    return f"{ext.domain}.{ext.suffix}" if ext.domain and ext.suffix else key


def readable_domain(key: str) -> str:
    """A domain for people: ``xn--e1afmkfd.xn--p1ai`` -> ``пример.рф``; IP keys as they are."""
    try:
        return idna.decode(key) if "xn--" in key else key
    except idna.IDNAError:
        return key


def where(final_url: str, start_url: str, public_url: str | None = None) -> tuple[str, int]:
    """``(final_domain, moved)`` of a site whose home page ended at ``final_url``: moved is 1 when
    its registrable domain (host and port for IP literals) differs from the start URL's. A copy
    audited as its public domain (``public_url``) that did not move keeps that domain."""
    key = domain_key(final_url)
    moved = int(key != domain_key(start_url))
    shown = key if moved or not public_url else domain_key(public_url)
    return readable_domain(shown), moved
