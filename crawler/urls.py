"""URL normalisation, registrable domains and the same-site rule (offline)."""

from __future__ import annotations

import ipaddress
import re
from functools import lru_cache
from urllib.parse import urljoin, urlsplit, urlunsplit

import idna
import tldextract

# The bundled public-suffix snapshot only: never fetch the list at run time.
_EXTRACT = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, include_psl_private_domains=False)


#: RFC 6761 special-use names: valid hostnames that never resolve publicly (tests, intranets).
SPECIAL_USE_TLDS = ("test", "invalid", "localhost", "example")

#: Longest URL fetched: Scrapy's URLLENGTH_LIMIT (old Internet Explorer's limit). Scrapy drops a longer
#: request without a callback, which would leave its site unfinished: such links are skipped here.
MAX_URL_LENGTH = 2083

#: ``mailto:x``, ``javascript:x``: a scheme before a colon that is not followed by a port number.
_SCHEME = re.compile(r"^([a-z][a-z0-9+-]*):(?!\d*(?:[/?#]|$))", re.I)  # no dot: x.com:abc is a bad port
#: What a cell with one of these schemes is, for the message.
_NOT_SITES = {"mailto": "an e-mail link (mailto:)", "tel": "a phone link (tel:)",
              "javascript": "a javascript: link", "data": "a data: URL", "file": "a local file (file:)",
              "ftp": "an FTP address", "sms": "an SMS link (sms:)", "skype": "a Skype link (skype:)",
              "whatsapp": "a WhatsApp link (whatsapp:)", "tg": "a Telegram link (tg:)"}


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

    Raises :class:`InvalidSiteInput` (and nothing else) saying what is wrong with the cell.

    >>> normalize_site_url(" пример.рф ")
    'http://xn--e1afmkfd.xn--p1ai/'
    """
    text = (raw or "").strip().strip("\ufeff").strip()
    if not text:
        raise InvalidSiteInput("empty cell")
    if any(ch.isspace() for ch in text):
        raise InvalidSiteInput(f"whitespace inside {text!r}")
    if len(text) > MAX_URL_LENGTH:
        raise InvalidSiteInput(f"{len(text)} characters, longer than a URL can be ({MAX_URL_LENGTH})")
    if "://" not in text:
        scheme = _SCHEME.match(text)
        if scheme and not text.startswith("//"):
            name = scheme.group(1).lower()
            what = _NOT_SITES.get(name, f"a {name}: address")
            raise InvalidSiteInput(f"{what}, not a website: only http(s) sites and bare domains can be audited")
        if "@" in text.split("/", 1)[0]:
            raise InvalidSiteInput(f"an e-mail address, not a website: {text!r}")
        text = ("http:" if text.startswith("//") else "http://") + text
    try:
        return _normalize(text)
    except ValueError as exc:  # urllib and ipaddress: brackets, ports, hosts it cannot read
        if isinstance(exc, InvalidSiteInput):
            raise
        raise InvalidSiteInput(f"not a readable URL: {exc}") from None


def _normalize(text: str) -> str:
    try:
        parts = urlsplit(text)
    except ValueError:  # "Invalid IPv6 URL" (a [ without ] or the reverse), or no address inside [ ]
        netloc = text.split("://", 1)[-1].split("/", 1)[0]
        if netloc.count("[") == netloc.count("]") == 1 and netloc.index("[") < netloc.index("]"):
            inside = netloc[netloc.index("[") + 1:netloc.index("]")]
            raise InvalidSiteInput(f"bad IPv6 address {inside!r} in {text!r}") from None
        raise InvalidSiteInput(f"unbalanced [ ] in {text!r} (an IPv6 address is written http://[2001:db8::1]/)") \
            from None
    if parts.scheme.lower() not in ("http", "https"):
        raise InvalidSiteInput(f"unsupported scheme {parts.scheme!r}: only http(s) sites can be audited")
    if parts.username or parts.password:
        raise InvalidSiteInput("credentials (a user name or password) in the URL")
    try:
        host = parts.hostname or ""
    except ValueError:  # a bracketed host that is no IPv6 address
        raise InvalidSiteInput(f"bad IPv6 address in {text!r}") from None
    if "[" in parts.netloc and not _is_ip(host):
        raise InvalidSiteInput(f"bad IPv6 address in {text!r}")
    if "[" in host or "]" in host:
        raise InvalidSiteInput(f"unbalanced [ ] in {text!r}")
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
        raise InvalidSiteInput(f"bad port in {text!r}: a port is a number from 1 to 65535") from None
    netloc = host if ":" not in host else f"[{host}]"
    if port:
        netloc += f":{port}"
    path = parts.path or "/"
    return urlunsplit((parts.scheme.lower(), netloc, path, parts.query, ""))


def readable(url: str) -> bool:
    """A URL whose host and port can be read: not ``http://[1::2::3]/``, ``http://x.com]/`` or port 99999.
    Links that are not are skipped, never fetched: one bad link costs itself, not its site."""
    try:
        parts = urlsplit(url)
        parts.hostname  # noqa: B018 - raises on a bracketed non-address
        parts.port  # noqa: B018 - raises on a port out of range
    except ValueError:
        return False
    return True


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
    other sites. "" for a URL whose host or port cannot be read.
    """
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        port = parts.port
    except ValueError:
        return ""
    if _is_ip(host):
        return f"{host}:{port or (443 if parts.scheme == 'https' else 80)}"
    return registrable_domain(host)


def same_site(url: str, other: str) -> bool:
    key = site_key(url) if url else ""
    return bool(key) and key == site_key(other)


def absolute(base: str, href: str) -> str | None:
    """Resolve ``href`` against ``base``; None for javascript:, data: and the like."""
    href = (href or "").strip()
    if not href or href.startswith("#"):
        return None
    if href.startswith(("http://", "https://")) and " " not in href:
        return href if readable(href) else None  # already absolute: skip urljoin (the common case, and hot)
    try:
        url = urljoin(base, href)
    except ValueError:
        return None
    scheme = urlsplit(url).scheme.lower()
    return url if scheme in ("http", "https") and readable(url) else None


def strip_fragment(url: str) -> str:
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", parts.query, ""))


def host_of(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def tld_of(url_or_host: str) -> str:
    host = host_of(url_or_host) if "/" in url_or_host else url_or_host.lower()
    if _is_ip(host):
        return ""
    return _EXTRACT(host).suffix
