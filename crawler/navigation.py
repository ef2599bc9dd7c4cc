"""The one-click rule: which links of the home page are in scope.

Only the contacts page and the support section count, found by link words and
URL slugs (``signatures/navigation.yaml``) among same-site links of the home
page. Nothing reached from those pages is followed: the crawl is at most one
click deep by construction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from urllib.parse import unquote, urlsplit

from chanaudit.crawler import signatures
from chanaudit.crawler.page import ParsedPage
from chanaudit.crawler.urls import MAX_URL_LENGTH, same_site, strip_fragment


@dataclass(frozen=True, slots=True)
class Target:
    url: str
    role: str  # "contacts" or "support"
    reason: str  # "text:контакты" or "slug:support"
    strength: int  # 2 = text and slug, 1 = one of them


@dataclass(frozen=True, slots=True)
class Role:
    """The words and slugs of links to one kind of page (contacts or support)."""

    words: re.Pattern  # whole words or phrases of the link text
    slugs: frozenset[str]  # path segments
    weak: frozenset[str]  # words that count only in a short label
    service: tuple[str, ...]  # phrases that name a product, not the section


@dataclass(frozen=True, slots=True)
class Table:
    roles: dict[str, Role]  # tried in this order: contacts, support
    skip_extensions: tuple[str, ...]
    skip_slugs: frozenset[str]


@cache
def table() -> Table:
    data = signatures.load("navigation")
    roles = {}
    for role in ("contacts", "support"):
        words = sorted(data[role]["words"], key=len, reverse=True)
        pattern = re.compile(r"(?<!\w)(" + "|".join(re.escape(w) for w in words) + r")(?!\w)", re.I)
        weak = frozenset(w.lower() for w in data[role].get("weak_words", ()))
        service = tuple(p.lower() for p in data[role].get("service_phrases", ()))
        roles[role] = Role(pattern, frozenset(s.lower() for s in data[role]["slugs"]), weak, service)
    return Table(roles, tuple(data["skip_extensions"]), frozenset(data["skip_slugs"]))


def _slug_hits(path: str, slugs: frozenset[str]) -> str | None:
    for seg in unquote(path).lower().strip("/").split("/"):
        seg = re.sub(r"\.(html?|php|aspx?)$", "", seg)
        if seg in slugs:
            return seg
    return None


def find_targets(home: ParsedPage, site_url: str, max_links: int = 3) -> list[Target]:
    """Contacts/support links of ``home``: same site, best first, at most ``max_links``.

    At most one contacts page is chosen (the strongest); the rest of the budget
    goes to support pages. The home page itself is never a target. A link that
    cannot be fetched (a host or port that does not parse, longer than
    :data:`~chanaudit.crawler.urls.MAX_URL_LENGTH`) is skipped: it costs itself,
    never its site.
    """
    nav = table()
    home_url = strip_fragment(home.url)
    best: dict[str, Target] = {}
    order: list[str] = []
    for link in home.links:
        if not link.url or not same_site(link.url, site_url):
            continue  # same_site is False for a URL whose host or port cannot be read
        url = strip_fragment(link.url)
        if len(url) > MAX_URL_LENGTH:
            continue  # Scrapy would drop the request, and the site would never finish
        if url == home_url or url in best and best[url].strength == 2:
            continue
        path = urlsplit(url).path
        if path.lower().endswith(nav.skip_extensions) or _slug_hits(path, nav.skip_slugs):
            continue
        for role, rules in nav.roles.items():
            text_hit = rules.words.search(link.text or "")
            slug_hit = _slug_hits(path, rules.slugs)
            if text_hit and not slug_hit:
                label = " ".join(link.text.lower().split())
                if any(p in label for p in rules.service) or \
                        (text_hit.group(1).lower() in rules.weak and len(label.split()) > 2):
                    text_hit = None  # "IT Support Geelong", «ИТ-поддержка»: a service, not the support section
            if not (text_hit or slug_hit):
                continue
            strength = (1 if text_hit else 0) + (1 if slug_hit else 0)
            reason = f"text:{text_hit.group(1).lower()}" if text_hit else f"slug:{slug_hit}"
            current = best.get(url)
            if current is None or strength > current.strength:
                if url not in best:
                    order.append(url)
                best[url] = Target(url, role, reason, strength)
            break
    ranked = sorted((best[u] for u in order), key=lambda t: (-t.strength, order.index(t.url)))
    chosen: list[Target] = []
    contacts = [t for t in ranked if t.role == "contacts"]
    if contacts:
        chosen.append(contacts[0])
    chosen += [t for t in ranked if t.role == "support"]
    return chosen[:max_links]
