"""Same-site script files: which of a page's ``<script src>`` files to read for a chat loader, and
reading them.

Sites keep a chat loader in a file of their own (``js/livechat.js``, ``js/tawk.js``,
``assets/js/chat.js``) that the page's HTML only names. The crawler fetches a few of those
files per page (bounded in count and bytes, ``script_files`` in ``signatures/chat.yaml``) and
runs the chat rules on their code (:func:`detect`, :func:`crawler.detectors.chat.detect_code`).
Pure functions: the spider fetches, these choose and read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from urllib.parse import urlsplit

from chanaudit.core.contract import Evidence
from chanaudit.crawler import signatures
from chanaudit.crawler.detectors import chat
from chanaudit.crawler.page import ParsedPage
from chanaudit.crawler.urls import same_site

_WORDS = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True)
class Limits:
    per_page: int  # files read per page
    per_site: int  # files read per site
    max_bytes: int  # a larger file is not read (not a loader)


@dataclass(frozen=True)
class Table:
    limits: Limits
    prefer: tuple[frozenset[str], ...]  # tiers of path words, best first
    skip: re.Pattern


@cache
def table() -> Table:
    data = signatures.load("chat")["script_files"]
    skip = "|".join(re.escape(s.lower()) for s in sorted(data["skip"], key=len, reverse=True))
    return Table(Limits(int(data["per_page"]), int(data["per_site"]), int(data["max_bytes"])),
                 tuple(frozenset(tier) for tier in data["prefer"]),
                 re.compile(rf"(?<![a-z0-9])(?:{skip})(?![a-z0-9])"))


def limits() -> Limits:
    return table().limits


def rank(url: str, t: Table | None = None) -> int | None:
    """The tier of a script URL (0 best), ``len(prefer)`` for an unranked file, None for a library
    that is never read."""
    t = table() if t is None else t
    path = urlsplit(url).path.lower()
    if t.skip.search(path):
        return None
    words = set(_WORDS.findall(path))
    return next((i for i, tier in enumerate(t.prefer) if words & tier), len(t.prefer))


def targets(page: ParsedPage, limit: int | None = None) -> list[str]:
    """The page's same-site script files worth reading, best first (then in page order), at most
    ``limit`` (the table's ``per_page`` when None). Same site: the host the page was fetched from
    or the site's public host; inline scripts, other sites' scripts and libraries are left out."""
    t = table()
    limit = t.limits.per_page if limit is None else limit
    ranked: list[tuple[int, int, str]] = []
    seen: set[str] = set()
    for order, script in enumerate(page.scripts):
        url = (script.src or "").split("#")[0]
        if not url or url in seen or not (same_site(url, page.url) or same_site(url, page.site_url)):
            continue
        seen.add(url)
        tier = rank(url, t)
        if tier is not None:
            ranked.append((tier, order, url))
    return [url for _tier, _order, url in sorted(ranked)[:limit]]


def detect(code: str, page_url: str, script_url: str, site_url: str | None = None) -> list[Evidence]:
    """The chat rules on a fetched script file's code; evidence belongs to ``page_url``."""
    return chat.detect_code(code, page_url, script_url, site_url)
