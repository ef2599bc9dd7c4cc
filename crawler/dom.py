"""The parse of a page's HTML, and the index that answers selectors before any XPath runs.

Plain ``lxml.etree`` elements, not ``lxml.html``'s: ``lxml.html`` looks up a Python element
class for every element a view touches, which made the views about 4x slower
(benchmarks/bench_detect.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from lxml import etree

_HTML_PARSER = etree.HTMLParser(encoding="utf-8", remove_comments=False, recover=True, huge_tree=False,
                                collect_ids=False)
#: The text content of an element (all descendant text, comments excluded), as lxml.html's text_content().
text_of = etree.XPath("string()", smart_strings=False)

_IDS = etree.XPath("descendant-or-self::*/@id", smart_strings=False)
_CLASSES = etree.XPath("descendant-or-self::*/@class", smart_strings=False)
_ATTR_NAME = re.compile(r"[A-Za-z_:][-A-Za-z0-9_:.]*")


def parse_html(source: str) -> tuple[Any, bytes]:
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


def parse_selector(selector: str) -> tuple[str, str, str]:
    """``div#vk_community_messages`` -> ("div", "#", "vk_community_messages"); ``jdiv`` -> ("jdiv", "", "")."""
    for mark in ("#", ".", "["):
        if mark in selector:
            tag, _, value = selector.partition(mark)
            return tag.lower(), mark, value.rstrip("]")
    return selector.lower(), "", ""


@lru_cache(maxsize=512)
def selector_xpath(selector: str) -> etree.XPath:
    """The XPath of a mini-selector (``tag``, ``#id``, ``#prefix*``, ``.class``, ``[attr]``, ``tag#id``)."""
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


class Attributes:
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
    the source may hold (:class:`Attributes`)."""

    tags: frozenset[str]
    attributes: Attributes
    ids: frozenset[str]
    classes: frozenset[str]

    @classmethod
    def build(cls, tree: Any, data: bytes, tags: frozenset[str]) -> DomIndex:
        """The index of ``tree`` parsed from ``data``; ``tags`` come from the text walk
        (:class:`crawler.textwalk.Walk`), ids and class tokens from one XPath each."""
        return cls(tags, Attributes(data), frozenset(_IDS(tree)), frozenset(" ".join(_CLASSES(tree)).split()))

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


def element_snippet(el: Any, limit: int = 200) -> str:
    """Serialised start of an element, for evidence snippets."""
    try:
        html = etree.tostring(el, encoding="unicode", with_tail=False)
    except (TypeError, ValueError):
        return ""
    html = " ".join(html.split())
    return html if len(html) <= limit else html[: limit - 1] + "…"
