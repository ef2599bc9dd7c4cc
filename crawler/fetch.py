"""Fetching one page without Scrapy (for ``chanaudit inspect URL``): same limits and guard."""

from __future__ import annotations

import socket
import urllib.request
from urllib.parse import urlsplit

from chanaudit.core.errors import ChanauditError
from chanaudit.crawler.config import AuditConfig
from chanaudit.crawler.decoding import decode_html, is_html
from chanaudit.crawler.middlewares import non_public
from chanaudit.crawler.page import Page


class FetchError(ChanauditError):
    """The page could not be fetched; the message says why."""


def fetch_page(url: str, allow_private: bool = False, config: AuditConfig | None = None) -> Page:
    cfg = config or AuditConfig()
    host = urlsplit(url).hostname or ""
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)}
    except (socket.gaierror, UnicodeError) as exc:
        raise FetchError(f"{url}: dns_error: {exc}") from None
    if not allow_private and any(non_public(a) for a in addresses):
        raise FetchError(f"{url}: blocked_address: {host} is not public (use --allow-private)")
    request = urllib.request.Request(url, headers={"User-Agent": cfg.user_agent, "Accept": "text/html,*/*"})
    try:
        with urllib.request.urlopen(request, timeout=cfg.timeout) as resp:  # noqa: S310 - http(s) only
            body = resp.read(cfg.max_bytes + 1)
            ctype = resp.headers.get("Content-Type", "")
            final = resp.geturl()
            status = resp.status
    except Exception as exc:  # noqa: BLE001 - urllib raises many kinds
        raise FetchError(f"{url}: {type(exc).__name__}: {exc}") from None
    if len(body) > cfg.max_bytes:
        raise FetchError(f"{url}: too_large: more than {cfg.max_bytes} bytes")
    if not is_html(ctype, body):
        raise FetchError(f"{url}: not_html: {ctype}")
    html, _enc, _how = decode_html(body, ctype)
    return Page(final, html, status, {"Content-Type": ctype})
