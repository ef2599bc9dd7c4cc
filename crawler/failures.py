"""Failure reasons: every failed download becomes a precise status code."""

from __future__ import annotations

from twisted.internet import error as terr
from twisted.python.failure import Failure


class NotHtml(Exception):
    """The home page is not an HTML document."""


def classify(failure: Failure | BaseException) -> tuple[str, str, int | None]:
    """(status, detail, http_status) for a download failure."""
    from scrapy import exceptions as sx
    from scrapy.exceptions import DownloadCancelledError, IgnoreRequest
    from scrapy.spidermiddlewares.httperror import HttpError

    from chanaudit.crawler.middlewares import BlockedAddress

    exc = failure.value if isinstance(failure, Failure) else failure
    name = type(exc).__name__
    text = str(exc) or name
    if isinstance(exc, HttpError):
        code = exc.response.status
        return "http_error", f"HTTP {code}", code
    if isinstance(exc, BlockedAddress):
        return "blocked_address", text, None
    if isinstance(exc, NotHtml):
        return "not_html", text, None
    if isinstance(exc, IgnoreRequest):
        if "robots.txt" in text:
            return "robots_blocked", "forbidden by robots.txt", None
        if "DOWNLOAD_MAXSIZE" in text or "decompression" in text:
            return "too_large", text, None
        if "redirections" in text:
            return "http_error", "redirect loop (too many redirects)", None
        return "error", text, None
    if isinstance(exc, DownloadCancelledError) or "larger than download max size" in text:
        return "too_large", text, None
    if isinstance(exc, sx.DownloadTimeoutError):
        return "timeout", text, None
    if isinstance(exc, sx.CannotResolveHostError):
        return "dns_error", text, None
    if isinstance(exc, sx.DownloadConnectionRefusedError | sx.ResponseDataLossError):
        return "connect_error", text, None
    if isinstance(exc, terr.DNSLookupError):
        return "dns_error", text, None
    if isinstance(exc, terr.TimeoutError | terr.TCPTimedOutError) or name in ("TimeoutError", "ResponseNeverReceived") and "timeout" in text.lower():
        return "timeout", text, None
    if isinstance(exc, terr.ConnectionRefusedError | terr.ConnectError | terr.ConnectionLost | terr.ConnectionDone | terr.NoRouteError):
        return "connect_error", text, None
    if "SSL" in name or "TLS" in name or "certificate" in text.lower() or "ssl" in text.lower():
        return "tls_error", text, None
    if isinstance(exc, sx.DownloadFailedError) or name in ("ResponseNeverReceived", "ResponseFailed", "_ResponseFailed"):
        reasons = getattr(exc, "reasons", None) or []
        inner = " ".join(f"{type(r.value).__name__}: {r.value}" for r in reasons if hasattr(r, "value"))
        if "SSL" in inner or "TLS" in inner:
            return "tls_error", inner, None
        if "Timeout" in inner:
            return "timeout", inner, None
        return "connect_error", inner or text, None
    return "error", f"{name}: {text}", None
