"""The detector registry: one pure function per channel, ``detect(page) -> list[Evidence]``.

Detectors never import Scrapy; they read a :class:`crawler.page.ParsedPage`,
which parses the HTML once for all of them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from chanaudit.core.contract import Evidence, dedupe
from chanaudit.crawler.page import Page, ParsedPage, parse

Detector = Callable[[ParsedPage], list[Evidence]]


def _registry() -> dict[str, Detector]:
    from chanaudit.crawler.detectors import chat, email, form, phone, portal

    return {
        "email": email.detect,
        "phone": phone.detect,
        "chat": chat.detect,  # also reports messenger links as channel "messenger"
        "form": form.detect,
        "portal": portal.detect,
    }


_DETECTORS: dict[str, Detector] | None = None


def detectors() -> dict[str, Detector]:
    global _DETECTORS
    if _DETECTORS is None:
        _DETECTORS = _registry()
    return _DETECTORS


def detect(page: Page | ParsedPage, channels: Iterable[str] | None = None) -> list[Evidence]:
    """Run the detectors (all, or the named channels) on one page."""
    parsed = parse(page)
    wanted = set(channels) if channels is not None else None
    found: list[Evidence] = []
    for name, fn in detectors().items():
        if wanted is None or name in wanted:
            found.extend(fn(parsed))
    return dedupe(found)
