"""A fetched page and its parse, built once and shared by all detectors.

Detectors never parse HTML themselves: they read the cached views of a
:class:`ParsedPage` (visible text nodes, links, scripts, forms, iframes), a façade
over the parse (:mod:`crawler.dom`), the text walk (:mod:`crawler.textwalk`) and the
page's language (:mod:`crawler.language`). Comments are never part of any view, so
commented-out widgets do not count.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any
from urllib.parse import unquote, urlsplit

from chanaudit.crawler import jsonld, textwalk
from chanaudit.crawler.dom import DomIndex, parse_html, selector_xpath, text_of
from chanaudit.crawler.language import candidate_regions, page_language
from chanaudit.crawler.urls import absolute


@dataclass(slots=True)
class Page:
    """What the crawler fetched (or a file read from disk)."""

    url: str
    html: str
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    rendered_html: str | None = None
    role: str = "home"
    #: Forced phone region (ISO 3166 alpha-2); guessed from TLD and language otherwise.
    region: str | None = None
    #: The site's public URL when the page was fetched from a copy (a local mirror,
    #: an archive): same-site and region rules use it instead of ``url``.
    site_url: str | None = None
    #: A rendered page's attempted requests, (resource type, URL without query, outcome), aborted
    #: ones included (:class:`crawler.browser.RenderWatch`); () for a static page.
    requests: tuple[tuple[str, str, str], ...] = ()
    #: What a rendered page showed fixed in a viewport corner, by computed style
    #: (:data:`crawler.browser.CORNERS_JS`); None when not measured.
    corners: dict | None = None


@dataclass(slots=True)
class Link:
    url: str  # absolute, http(s) only; "" for mailto:/tel:/javascript:
    href: str  # raw attribute value
    text: str  # visible text, title and aria-label of the anchor, whitespace collapsed
    element: Any


@dataclass(slots=True)
class Script:
    src: str | None  # absolute URL or None for inline scripts
    text: str
    element: Any


class ParsedPage:
    """A :class:`Page` parsed once with lxml, with cached views for detectors."""

    def __init__(self, page: Page):
        self.page = page
        self.url = page.url
        self.site_url = page.site_url or page.url
        self.rendered = page.rendered_html is not None
        source = page.rendered_html if page.rendered_html is not None else page.html
        self.source: str = source or ""
        self.tree, self._data = parse_html(self.source)
        base = next((href for el in self.tree.iter("base") if (href := el.get("href")) is not None), None)
        self.base_url = absolute(page.url, base) or page.url if base is not None else page.url

    # -- views ---------------------------------------------------------------
    @cached_property
    def walk(self) -> textwalk.Walk:
        """The one walk of the tree that the text views and :attr:`index` read."""
        return textwalk.walk(self.tree)

    @property
    def text_items(self) -> list[tuple[str, Any]]:
        """Visible text nodes in document order, each with the element that contains it."""
        return self.walk.items

    @property
    def text_gaps(self) -> list[bool]:
        """For each of :attr:`text_items`: is there white space between it and the node before?"""
        return self.walk.gaps

    @property
    def text_blocks(self) -> list[Any]:
        """For each of :attr:`text_items`, its line: the nearest ancestor that is not an inline
        element (``<span>``, ``<b>``, ``<a>``…), or the last ``<br>`` before the node inside it.
        Text nodes of one line read as one line."""
        return self.walk.blocks

    @cached_property
    def text_nodes(self) -> list[str]:
        """Visible text nodes (comments, scripts, styles, head and form controls excluded)."""
        return [text for text, _ in self.text_items]

    @cached_property
    def visible_text(self) -> str:
        """All visible text, one text node per line (nodes are never glued)."""
        return "\n".join(" ".join(t.split()) for t in self.text_nodes)

    @cached_property
    def links(self) -> list[Link]:
        out = []
        resolved: dict[str, str] = {}
        base = urlsplit(self.base_url)
        origin = f"{base.scheme}://{base.netloc}" if base.scheme in ("http", "https") and base.netloc else ""
        for el in self.tree.iter("a", "area"):
            href = el.get("href")
            if href is None:
                continue
            words = [text_of(el) if el.tag == "a" else "", el.get("title") or "", el.get("aria-label") or ""]
            if len(el):  # most anchors hold only text: no <img> to look for
                words += [img.get("alt") or "" for img in el.iter("img")]
            text = " ".join(" ".join(words).split())
            if href not in resolved:  # a page repeats its navigation (header, footer, menus)
                rel = href.strip()
                if origin and rel[:1] == "/" and rel[1:2] != "/" and "/." not in rel and "\\" not in rel:
                    resolved[href] = origin + rel  # what urljoin gives for a root-relative path, 10x faster
                else:
                    resolved[href] = absolute(self.base_url, href) or ""
            out.append(Link(resolved[href], href.strip(), text, el))
        return out

    @cached_property
    def scripts(self) -> list[Script]:
        out = []
        for el in self.tree.iter("script"):
            src = el.get("src")
            out.append(Script(absolute(self.base_url, src) if src else None, el.text or "", el))
        return out

    @cached_property
    def code(self) -> str:
        """The page's inline JavaScript as the signature patterns read it, all scripts at once:
        lower-case, joined by newlines (JSON and JSON-LD left out), ``\\/`` read as ``/``, and a
        percent-decoded copy appended when the code holds percent-encoded URLs."""
        return raw_code("\n".join(s.text for s in self.scripts if not s.src and s.text
                                  and (s.element.get("type") or "").lower() not in _JSON_TYPES))

    @cached_property
    def code_words(self) -> set[str]:
        """The words of :attr:`code` (runs of letters and digits), read once for every table's
        literal pre-filter (:class:`crawler.detectors.anchors.LiteralIndex`)."""
        return set(_WORD.findall(self.code))

    @cached_property
    def json_ld(self) -> list[tuple[Script, Any]]:
        """JSON-LD blocks, parsed once for every detector: (script, data), data None when the
        block is not JSON or too deep to parse (:func:`crawler.jsonld.loads`)."""
        return [(script, jsonld.loads(script.text)) for script in self.scripts
                if script.text and (script.element.get("type") or "").lower() == "application/ld+json"]

    @cached_property
    def index(self) -> DomIndex:
        """Tags, ids, class tokens and attribute names, so that selectors of absent widgets cost
        a lookup instead of a walk of the tree. Tags come from :attr:`walk`."""
        return DomIndex.build(self.tree, self._data, self.walk.tags)

    def select(self, selector: str) -> list[Any]:
        """Elements for a mini-selector (``tag``, ``#id``, ``#prefix*``, ``.class``, ``[attr]``, ``tag#id``),
        answered from :attr:`index` first so that absent selectors cost nothing."""
        if not self.index.may_match(selector):
            return []
        return selector_xpath(selector)(self.tree)

    @cached_property
    def forms(self) -> list[Any]:
        return list(self.tree.iter("form"))  # lxml filters by tag in C: no index needed

    @cached_property
    def iframes(self) -> list[tuple[str, Any]]:
        return [
            (absolute(self.base_url, el.get("src") or el.get("data-src") or "") or "", el)
            for el in self.tree.iter("iframe")
        ]

    @cached_property
    def lang(self) -> str:
        return page_language(self.tree, self.visible_text)

    @cached_property
    def regions(self) -> tuple[str, ...]:
        """Phone regions to read numbers in, in order (:func:`crawler.language.candidate_regions`):
        the forced one alone, else the ccTLD's alone, else the page language's (RU when it says
        nothing) and the regions it also speaks for, and a vanity ccTLD's country last."""
        if self.page.region:
            return (self.page.region.upper(),)
        return candidate_regions(self.site_url, self.lang)

    @property
    def region(self) -> str:
        """The first of :attr:`regions`: where a number without a country code is read first."""
        return self.regions[0]


_JSON_TYPES = ("application/ld+json", "application/json")
_WORD = re.compile(r"[a-z0-9]+")


def raw_code(text: str) -> str:
    """Code as the signature patterns see it: lower-case, percent-decoded copy appended, ``\\/`` -> ``/``."""
    code = text.lower()
    if "%2f" in code or "%3a" in code:
        code = code + "\n" + unquote(code)
    return code.replace("\\/", "/")


def parse(page: Page | ParsedPage) -> ParsedPage:
    return page if isinstance(page, ParsedPage) else ParsedPage(page)
