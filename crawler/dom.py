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
_DATA_NAME = re.compile(rb"data-[-a-z0-9_:.]*")


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
    else:
        _one_body(doc)
    return doc, data


def _one_body(root: Any) -> None:
    """Gather into the first ``<body>`` whatever libxml2 left outside it, in document order: markup
    after ``</body>`` (a child of ``<html>``), after ``</html>`` (a second ``<html>`` beside the
    root, which no view of the root would reach), a second ``<body>``, and text after ``</body>``.
    Real pages put pop-ups and request forms there; a browser reads them as part of the body."""
    body = root.find("body")
    after = root.getnext()
    if after is None and root.getprevious() is None and (body is None or (
            root[-1] is body and not (body.tail or "").strip() and body.getprevious() in (None, root.find("head")))):
        return  # the usual page: [head] body, nothing around it (one cheap look)
    if body is None:
        body = etree.SubElement(root, "body")
    before: list[Any] = []  # (element or text) in document order, before the body's own content
    rest: list[Any] = []  # ... and after it
    for sib in reversed(list(root.itersiblings(preceding=True))):
        before.extend(_contents(sib))
    seen_body = False
    for child in list(root):
        if child is body:
            seen_body = True
            if (child.tail or "").strip():
                rest.append(child.tail)
            child.tail = None
            continue
        if child.tag == "head" and not seen_body:
            continue
        (rest if seen_body else before).extend(_contents(child))
        if child.tag in ("head", "body"):
            root.remove(child)  # a second <head> or <body>, emptied
    for sib in list(root.itersiblings()):
        rest.extend(_contents(sib))
    if before:
        text, body.text = body.text, None
        for i, item in enumerate(before):
            if isinstance(item, str):
                _add_text(body, item, upto=i)
            else:
                body.insert(i, item)
        _add_text(body, text or "", upto=len([b for b in before if not isinstance(b, str)]))
    for item in rest:
        if isinstance(item, str):
            _add_text(body, item)
        else:
            body.append(item)


def _contents(el: Any) -> list[Any]:
    """What ``el`` brings into the body: a stray ``<html>``, ``<head>`` or ``<body>`` brings its
    children (and text), any other element (or comment) itself, with its tail text."""
    tail, el.tail = el.tail, None
    if isinstance(el.tag, str) and el.tag in ("html", "head", "body"):
        out: list[Any] = [el.text] if (el.text or "").strip() else []
        for child in list(el):
            out.extend(_contents(child))
    else:
        out = [el]
    if (tail or "").strip():
        out.append(tail)
    return out


def _add_text(body: Any, text: str, upto: int | None = None) -> None:
    """Add ``text`` after the last of the first ``upto`` children of ``body`` (all when None)."""
    if not text:
        return
    n = len(body) if upto is None else upto
    if n == 0:
        body.text = (body.text or "") + text
    else:
        last = body[n - 1]
        last.tail = (last.tail or "") + text


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
    cost 4 ms on the dense benchmark page (benchmarks/bench_detect.py). ``data-*`` names, which
    the widget tables ask about by the dozen, are answered from the set of ``data-*`` names of
    the source, read in one pass, instead of one pass over the source per name."""

    __slots__ = ("_data", "_data_names", "_source")

    def __init__(self, data: bytes):
        self._data = data  # UTF-8 source bytes
        self._source: bytes | None = None
        self._data_names: frozenset[bytes] | None = None

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str) or not _ATTR_NAME.fullmatch(name):
            return False
        if self._source is None:
            self._source = self._data.lower()  # bytes: ASCII-only lower-casing, far cheaper than str.lower()
        key = name.lower().encode()
        if key.startswith(b"data-"):
            if self._data_names is None:
                self._data_names = frozenset(_DATA_NAME.findall(self._source))
            # a data-* name is the whole token; "data-x" inside "data-xy" is another attribute
            return key in self._data_names
        return key in self._source


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
