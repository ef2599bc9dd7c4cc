"""A fetched page and its parse, built once and shared by all detectors.

Detectors never parse HTML themselves: they read the cached views of a
:class:`ParsedPage` (visible text nodes, links, scripts, forms, iframes).
Comments are never part of any view, so commented-out widgets do not count.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Any
from urllib.parse import urlsplit

import phonenumbers
from lxml import etree

from chanaudit.crawler import jsonld
from chanaudit.crawler.urls import absolute, tld_of

#: Elements whose text a visitor never reads as content.
_INVISIBLE = ("script", "style", "template", "noscript", "head", "title", "textarea", "select", "option")
_INVISIBLE_SET = frozenset(_INVISIBLE)
#: Elements that flow inside a line of text.
INLINE = frozenset({"span", "b", "strong", "a", "em", "i", "u", "font", "small", "big", "sup", "sub", "nobr",
                    "abbr", "bdi", "bdo", "mark", "q", "s", "time", "wbr", "label", "code"})
# Plain lxml.etree elements, not lxml.html's: lxml.html looks up a Python element class for
# every element a view touches, which made the views about 4x slower (benchmarks/bench_detect.py).
_HTML_PARSER = etree.HTMLParser(encoding="utf-8", remove_comments=False, recover=True, huge_tree=False,
                                collect_ids=False)
#: The text content of an element (all descendant text, comments excluded), as lxml.html's text_content().
text_of = etree.XPath("string()", smart_strings=False)

#: Language code -> default phone region, when the TLD does not say.
_LANG_REGION = {"ru": "RU", "uk": "UA", "be": "BY", "kk": "KZ", "en": "US", "de": "DE", "fr": "FR", "es": "ES"}
_TLD_REGION = {"su": "RU", "xn--p1ai": "RU", "uk": "GB", "xn--j1amh": "UA", "xn--90ais": "BY"}


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


def parse_selector(selector: str) -> tuple[str, str, str]:
    """``div#vk_community_messages`` -> ("div", "#", "vk_community_messages"); ``jdiv`` -> ("jdiv", "", "")."""
    for mark in ("#", ".", "["):
        if mark in selector:
            tag, _, value = selector.partition(mark)
            return tag.lower(), mark, value.rstrip("]")
    return selector.lower(), "", ""


_IDS = etree.XPath("descendant-or-self::*/@id", smart_strings=False)
_CLASSES = etree.XPath("descendant-or-self::*/@class", smart_strings=False)


_ATTR_NAME = re.compile(r"[A-Za-z_:][-A-Za-z0-9_:.]*")


class _Attributes:
    """``name in attributes``: may an element carry that attribute? True when the name shows in
    the page source (ASCII lower-cased once, on the first question); callers confirm with their
    own XPath, which an absent name spares. Reading every element's attribute names instead
    cost 4 ms on the dense benchmark page (benchmarks/bench_detect.py)."""

    __slots__ = ("_data", "_source")

    def __init__(self, data: bytes):
        self._data = data  # UTF-8 source bytes
        self._source: bytes | None = None

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str) or not _ATTR_NAME.fullmatch(name):
            return False
        if self._source is None:
            self._source = self._data.lower()  # bytes: ASCII-only lower-casing, far cheaper than str.lower()
        return name.lower().encode() in self._source


@dataclass(frozen=True, slots=True)
class DomIndex:
    """What a selector needs before any XPath runs: the tags, ids and class tokens of the tree
    (comments and script text are not elements, so they never count), and the attribute names
    the source may hold (:class:`_Attributes`)."""

    tags: frozenset[str]
    attributes: _Attributes
    ids: frozenset[str]
    classes: frozenset[str]

    def may_match(self, selector: str) -> bool:
        tag, kind, value = parse_selector(selector)
        if tag and tag not in self.tags:
            return False
        if kind == "#":
            if value.endswith("*"):
                return any(i.startswith(value[:-1]) for i in self.ids)
            return value in self.ids
        if kind == ".":
            return value in self.classes
        if kind == "[":
            return value in self.attributes
        return True


class ParsedPage:
    """A :class:`Page` parsed once with lxml, with cached views for detectors."""

    def __init__(self, page: Page):
        self.page = page
        self.url = page.url
        self.site_url = page.site_url or page.url
        self.rendered = page.rendered_html is not None
        source = page.rendered_html if page.rendered_html is not None else page.html
        self.source: str = source or ""
        self.tree, self._data = _parse(self.source)
        base = next((href for el in self.tree.iter("base") if (href := el.get("href")) is not None), None)
        self.base_url = absolute(page.url, base) or page.url if base is not None else page.url

    # -- views ---------------------------------------------------------------
    @cached_property
    def text_items(self) -> list[tuple[str, Any]]:
        """Visible text nodes in document order, each with the element that contains it
        (see :func:`_texts`). Also fills :attr:`text_gaps` and :attr:`text_blocks`."""
        body = self.tree.find("body")
        root = body if body is not None else self.tree
        out: list[tuple[str, Any]] = []
        gaps: list[bool] = []  # white space (dropped) between this node and the one before
        blocks: list[Any] = []  # the nearest non-inline element around each node
        gap = False
        tags: set[str] = set()
        for text, owner, block in _texts(root, _INVISIBLE_SET, tags=tags):
            if text.isspace():
                gap = True
            else:
                out.append((text, owner))
                gaps.append(gap)
                blocks.append(block)
                gap = False
        # the elements the walk does not reach: the root, its ancestors and what lies beside it (<head>)
        tags.update(el.tag for el in (root, *root.iterancestors()))
        for el in (*root.itersiblings(preceding=True), *root.itersiblings()):
            if isinstance(el.tag, str):
                tags.update(e.tag for e in el.iter(etree.Element))
        self._tags = tags
        self._text_gaps = gaps
        self._text_blocks = blocks
        return out

    @property
    def text_gaps(self) -> list[bool]:
        """For each of :attr:`text_items`: is there white space between it and the node before?"""
        _ = self.text_items
        return self._text_gaps

    @property
    def text_blocks(self) -> list[Any]:
        """For each of :attr:`text_items`, its block: the nearest ancestor that is not an inline
        element (``<span>``, ``<b>``, ``<a>``…). Text nodes of one block read as one line."""
        _ = self.text_items
        return self._text_blocks

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
    def json_ld(self) -> list[tuple[Script, Any]]:
        """JSON-LD blocks, parsed once for every detector: (script, data), data None when the
        block is not JSON or too deep to parse (:func:`crawler.jsonld.loads`)."""
        return [(script, jsonld.loads(script.text)) for script in self.scripts
                if script.text and (script.element.get("type") or "").lower() == "application/ld+json"]

    @cached_property
    def index(self) -> DomIndex:
        """Tags, ids, class tokens and attribute names, so that selectors of absent widgets cost
        a lookup instead of a walk of the tree. Tags come from the text walk (:attr:`text_items`);
        ids and class tokens from one XPath each."""
        _ = self.text_items
        return DomIndex(frozenset(self._tags), _Attributes(self._data), frozenset(_IDS(self.tree)),
                        frozenset(" ".join(_CLASSES(self.tree)).split()))

    def select(self, selector: str) -> list[Any]:
        """Elements for a mini-selector (``tag``, ``#id``, ``#prefix*``, ``.class``, ``[attr]``, ``tag#id``),
        answered from :attr:`index` first so that absent selectors cost nothing."""
        if not self.index.may_match(selector):
            return []
        return _selector_xpath(selector)(self.tree)

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
        langs = self.tree.xpath("/html/@lang | /html/@xml:lang")
        meta = self.tree.xpath("//meta[translate(@http-equiv,'CONTENT-LANGUAGE','content-language')='content-language']/@content")
        for value in [*langs, *meta]:
            code = value.strip().lower().replace("_", "-").split("-")[0]
            if len(code) == 2 and code.isalpha():
                return code
        text = self.visible_text[:4000]
        cyr = sum("а" <= ch.lower() <= "я" for ch in text)
        lat = sum("a" <= ch.lower() <= "z" for ch in text)
        return "ru" if cyr > lat else ("en" if lat else "")

    @cached_property
    def region(self) -> str:
        """Phone region: forced, else the ccTLD, else the page language, else RU."""
        if self.page.region:
            return self.page.region.upper()
        last = tld_of(self.site_url).split(".")[-1] if tld_of(self.site_url) else ""
        region = _TLD_REGION.get(last) or (last.upper() if len(last) == 2 else "")
        if region in phonenumbers.SUPPORTED_REGIONS:
            return region
        return _LANG_REGION.get(self.lang, "RU")


class _Enough(Exception):
    """Raised inside :func:`_texts` once its ``limit`` is passed."""


def _texts(root: Any, hidden_tags: frozenset[str], limit: int | None = None,
           tags: set[str] | None = None) -> list[tuple[str, Any, Any]]:
    """(text, owner, block) of every text and tail under ``root`` in document order, white space
    included, skipping what lies inside ``hidden_tags``: the owner is the element that holds the
    text, the block its nearest non-inline element. Comments are seen (the text after a comment
    is visible; ``etree.iterwalk`` skips comments and their tails); the tail of ``root`` is not
    its text. With ``limit``, the walk stops once the texts pass ``limit`` characters. With
    ``tags``, the tags of the elements under ``root`` are added to it on the way, hidden ones
    included: one walk of the tree serves the text and the :class:`DomIndex`.
    Recursive, 15-20% faster than the explicit-stack generator it replaced (measured on fresh
    trees of the benchmark pages): the HTML parser nests at most 255 levels (``huge_tree``
    off), far inside Python's recursion limit."""
    out: list[tuple[str, Any, Any]] = []
    add = out.append
    if limit is not None:
        size = [0]

        def add(item: tuple[str, Any, Any]) -> None:
            out.append(item)
            size[0] += len(item[0])
            if size[0] > limit:
                raise _Enough

    tag = root.tag
    if isinstance(tag, str) and tag not in hidden_tags:
        try:
            _walk(root, root if tag not in INLINE else _block_of(root), add, hidden_tags, tags)
        except _Enough:
            pass
    return out


def _walk(el: Any, block: Any, add: Any, hidden_tags: frozenset[str], tags: set[str] | None) -> None:
    """:func:`_texts` below ``el``, a visible element. A module function, not a closure: a
    closure that calls itself is a reference cycle, which kept every page's tree alive until
    the garbage collector's next full pass. Each ``.text``/``.tail`` read decodes a new str
    from libxml2: read once, kept."""
    text = el.text
    if text:
        add((text, el, block))
    for child in el:
        tag = child.tag
        if tag.__class__ is str:  # not a comment
            if tags is not None:
                tags.add(tag)
            if tag not in hidden_tags:
                inner = child if tag not in INLINE else block
                if len(child):
                    _walk(child, inner, add, hidden_tags, tags)
                else:
                    text = child.text
                    if text:
                        add((text, child, inner))
            elif tags is not None and len(child):
                tags.update(e.tag for e in child.iter(etree.Element))
        text = child.tail
        if text:
            add((text, el, block))


def _block_of(el: Any) -> Any:
    block = el
    while block is not None and isinstance(block.tag, str) and block.tag in INLINE:
        block = block.getparent()
    return block


@lru_cache(maxsize=512)
def _selector_xpath(selector: str) -> etree.XPath:
    tag, kind, value = parse_selector(selector)
    axis = f"descendant-or-self::{tag or '*'}"  # 2-4x faster than "//" in libxml2
    if kind == "#":
        test = f'starts-with(@id,"{value[:-1]}")' if value.endswith("*") else f'@id="{value}"'
    elif kind == ".":
        test = f'contains(concat(" ",normalize-space(@class)," ")," {value} ")'
    elif kind == "[":
        test = f"@{value}"
    else:
        return etree.XPath(axis)
    return etree.XPath(f"{axis}[{test}]")


def matches_by_line(pattern: re.Pattern, lines: list[str], sep: str) -> list[tuple[int, re.Match]]:
    """``pattern``'s matches over ``lines`` in one pass (lines joined by ``sep``, which the lines
    must not contain and the pattern must not cross), each with the index of its line."""
    starts, pos = [], 0
    for line in lines:
        starts.append(pos)
        pos += len(line) + len(sep)
    return [(bisect_right(starts, m.start()) - 1, m) for m in pattern.finditer(sep.join(lines))]


def parse(page: Page | ParsedPage) -> ParsedPage:
    return page if isinstance(page, ParsedPage) else ParsedPage(page)


def _parse(source: str) -> tuple[Any, bytes]:
    """The tree of ``source`` (an empty document when there is nothing to parse), and the UTF-8
    bytes it was parsed from."""
    data = source.encode("utf-8", "surrogatepass") if source else b""
    try:
        doc = etree.fromstring(data, parser=_HTML_PARSER) if data.strip() else None
    except (etree.ParserError, etree.XMLSyntaxError, ValueError):
        doc = None
    if doc is None:
        doc = etree.fromstring(b"<html><body></body></html>", parser=_HTML_PARSER)
    return doc, data


#: Elements whose text is not a label a visitor reads (option lists, code, typed-in text).
NO_TEXT = frozenset({"script", "style", "option", "select", "textarea", "template", "noscript"})
HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6", "legend"})


def element_text(root: Any, limit: int) -> str:
    """The readable text of ``root`` (no :data:`NO_TEXT` content), raw, stopping past ``limit`` chars."""
    if next(root.iter(*NO_TEXT), None) is None:
        return text_of(root)
    return " ".join(text for text, _owner, _block in _texts(root, NO_TEXT, limit))


def heading_before(el: Any, levels: int, siblings: int) -> str:
    """The text of the heading (or ``*title*`` element) just before ``el`` or one of its
    ``levels`` nearest ancestors, looking back at most ``siblings`` siblings; "" if none."""
    node = el
    for _ in range(levels):
        prev, steps = node.getprevious(), 0
        while prev is not None and steps < siblings:
            if isinstance(prev.tag, str) and (prev.tag in HEADINGS or "title" in (prev.get("class") or "")):
                return text_of(prev)
            prev, steps = prev.getprevious(), steps + 1
        node = node.getparent()
        if node is None:
            break
    return ""


def element_snippet(el: Any, limit: int = 200) -> str:
    """Serialised start of an element, for evidence snippets."""
    try:
        html = etree.tostring(el, encoding="unicode", with_tail=False)
    except (TypeError, ValueError):
        return ""
    html = " ".join(html.split())
    return html if len(html) <= limit else html[: limit - 1] + "…"
