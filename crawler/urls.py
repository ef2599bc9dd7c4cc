"""URL normalisation, registrable domains and the same-site rule (offline)."""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from urllib.parse import urljoin, urlsplit, urlunsplit

import idna
import tldextract

# The bundled public-suffix snapshot only: never fetch the list at run time.
_EXTRACT = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, include_psl_private_domains=False)


#: RFC 6761 special-use names: valid hostnames that never resolve publicly (tests, intranets).
SPECIAL_USE_TLDS = ("test", "invalid", "localhost", "example")


class InvalidSiteInput(ValueError):
    """An input cell that is not a usable URL or domain; the message says why."""


def _idna_host(host: str) -> str:
    host = host.strip().rstrip(".").lower()
    if not host:
        raise InvalidSiteInput("empty host")
    if _is_ip(host):
        return host
    try:
        return idna.encode(host, uts46=True).decode("ascii")
    except idna.IDNAError as exc:
        raise InvalidSiteInput(f"bad domain {host!r}: {exc}") from None


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def normalize_site_url(raw: str) -> str:
    """Turn a cell (URL or bare domain, IDN allowed) into an absolute http(s) URL.

    >>> normalize_site_url(" пример.рф ")
    'http://xn--e1afmkfd.xn--p1ai/'
    """
    text = (raw or "").strip().strip("\ufeff").strip()
    if not text:
        raise InvalidSiteInput("empty cell")
    if any(ch.isspace() for ch in text):
        raise InvalidSiteInput(f"whitespace inside {text!r}")
    if "://" not in text:
        if text.startswith("//"):
            text = "http:" + text
        else:
            text = "http://" + text
    parts = urlsplit(text)
    if parts.scheme.lower() not in ("http", "https"):
        raise InvalidSiteInput(f"unsupported scheme {parts.scheme!r}")
    if parts.username or parts.password:
        raise InvalidSiteInput("credentials in URL")
    host = parts.hostname or ""
    host = _idna_host(host)
    if not _is_ip(host):
        if "." not in host:
            raise InvalidSiteInput(f"no top-level domain in {host!r}")
        labels = host.split(".")
        if any(not lab or len(lab) > 63 for lab in labels) or len(host) > 253:
            raise InvalidSiteInput(f"bad domain {host!r}")
        ext = _EXTRACT(host)
        if not ext.suffix and labels[-1] not in SPECIAL_USE_TLDS:
            raise InvalidSiteInput(f"unknown public suffix in {host!r}")
    try:
        port = parts.port
    except ValueError:
        raise InvalidSiteInput("bad port") from None
    netloc = host if ":" not in host else f"[{host}]"
    if port:
        netloc += f":{port}"
    path = parts.path or "/"
    return urlunsplit((parts.scheme.lower(), netloc, path, parts.query, ""))


@lru_cache(maxsize=65536)
def registrable_domain(host: str) -> str:
    """``www.shop.example.co.uk`` -> ``example.co.uk``; IP literals stay as they are."""
    host = (host or "").lower().strip("[]").rstrip(".")
    if not host or _is_ip(host):
        return host
    ext = _EXTRACT(host)
    if ext.domain and ext.suffix:
        return f"{ext.domain}.{ext.suffix}"
    labels = host.split(".")
    if labels[-1] in SPECIAL_USE_TLDS and len(labels) >= 2:
        return ".".join(labels[-2:])
    return host


def site_key(url: str) -> str:
    """The identity of a site for the same-site rule.

    A registrable domain for names (subdomains belong to the site); for IP
    literals host and port, so that local test servers on other ports are
    other sites.
    """
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if _is_ip(host):
        return f"{host}:{parts.port or (443 if parts.scheme == 'https' else 80)}"
    return registrable_domain(host)


def same_site(url: str, other: str) -> bool:
    return bool(url) and site_key(url) == site_key(other)


def absolute(base: str, href: str) -> str | None:
    """Resolve ``href`` against ``base``; None for javascript:, data: and the like."""
    href = (href or "").strip()
    if not href or href.startswith("#"):
        return None
    if href.startswith(("http://", "https://")) and " " not in href:
        return href  # already absolute: skip urljoin (the common case, and hot)
    try:
        url = urljoin(base, href)
    except ValueError:
        return None
    scheme = urlsplit(url).scheme.lower()
    return url if scheme in ("http", "https") else None


def strip_fragment(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", parts.query, ""))


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def tld_of(url_or_host: str) -> str:
    host = host_of(url_or_host) if "/" in url_or_host else url_or_host.lower()
    if _is_ip(host):
        return ""
    return _EXTRACT(host).suffix
