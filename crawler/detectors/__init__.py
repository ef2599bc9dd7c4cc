"""The detector registry: one pure function per channel, ``detect(page) -> list[Evidence]``, and one
for the company's identity (name, ИНН, ОГРН: records, never channels).

Detectors never import Scrapy; they read a :class:`crawler.page.ParsedPage`,
which parses the HTML once for all of them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import cache

from chanaudit.core.contract import Evidence, dedupe
from chanaudit.crawler.page import Page, ParsedPage, parse

Detector = Callable[[ParsedPage], list[Evidence]]


@cache
def detectors() -> dict[str, Detector]:
    """The registry, channel -> detector, in the order they run (built on first use)."""
    from chanaudit.crawler.detectors import chat, email, form, identity, phone, portal

    return {
        "email": email.detect,
        "phone": phone.detect,
        "chat": chat.detect,  # also reports messenger links as channel "messenger"
        "form": form.detect,
        "portal": portal.detect,
        "identity": identity.detect,  # company name, ИНН, ОГРН: records that are never channels
    }


def detect(page: Page | ParsedPage, channels: Iterable[str] | None = None) -> list[Evidence]:
    """Run the detectors (all, or the named channels) on one page."""
    parsed = parse(page)
    wanted = set(channels) if channels is not None else None
    found: list[Evidence] = []
    for name, fn in detectors().items():
        if wanted is None or name in wanted:
            found.extend(fn(parsed))
    return dedupe(found)
