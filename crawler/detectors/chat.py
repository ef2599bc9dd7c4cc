"""Live chat (and messenger links) from the vendor signature table ``signatures/chat.yaml``.

Where a widget shows: a ``<script src>``, an ``<iframe src>``, the code of an
inline loader (vendor URL quoted, percent-encoded or written by
``document.write``; JS comments removed first, so a commented-out loader does
not count), a JS global set inline, or a DOM element (mostly in rendered DOM).
HTML comments are never part of the parsed views.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from urllib.parse import unquote

from chanaudit.core.contract import Evidence, make_snippet
from chanaudit.crawler import signatures
from chanaudit.crawler.detectors.anchors import anchors
from chanaudit.crawler.detectors.jscode import strip_js_comments
from chanaudit.crawler.dom import element_snippet
from chanaudit.crawler.page import ParsedPage


@dataclass(frozen=True)
class Table:
    ids: list[str]
    #: per vendor: (literal anchors, its own url+global pattern) — a cheap substring
    #: test picks the few vendors whose full patterns are worth running on big inline code
    anchored: list[tuple[tuple[str, ...], re.Pattern | None, re.Pattern | None]]
    dom: list[tuple[str, list[str]]]  # vendor id, mini-selectors
    messenger_hrefs: re.Pattern  # anchored at the start of an href (``match``)
    messenger_ids: list[str]
    messenger_scripts: re.Pattern | None


def _alternation(groups: list[tuple[str, list[str]]]) -> re.Pattern | None:
    parts = [f"(?P<{name}>{'|'.join(pats)})" for name, pats in groups if pats]
    return re.compile("|".join(parts), re.I) if parts else None


@cache
def table() -> Table:
    data = signatures.load("chat")
    vendors = data["vendors"]
    ids = [v["id"] for v in vendors]
    anchored = []
    for v in vendors:
        pats = [*v.get("urls", []), *v.get("globals", [])]
        own_urls = re.compile("|".join(v["urls"]), re.I) if v.get("urls") else None
        own_glob = re.compile("|".join(v["globals"]), re.I) if v.get("globals") else None
        literals = anchors(pats) or ()  # () when a pattern has no literal: the vendor is always tried
        anchored.append((literals, own_urls, own_glob))
    dom = [(v["id"], list(v["dom"])) for v in vendors if v.get("dom")]
    messengers = data["messengers"]
    m_hrefs = _alternation([(f"m{i}", m.get("hrefs", [])) for i, m in enumerate(messengers)])
    m_scripts = _alternation([(f"m{i}", m.get("scripts", [])) for i, m in enumerate(messengers)])
    return Table(ids, anchored, dom, m_hrefs, [m["id"] for m in messengers], m_scripts)


def _raw(text: str) -> str:
    """Inline code as the patterns see it: lower-case, percent-decoded copy appended, ``\\/`` -> ``/``."""
    code = text.lower()
    if "%2f" in code or "%3a" in code:
        code = code + "\n" + unquote(code)
    return code.replace("\\/", "/")


def _code(text: str) -> str:
    """:func:`_raw` of the code without its comments."""
    return _raw(strip_js_comments(text))


def detect(page: ParsedPage) -> list[Evidence]:
    t = table()
    found: list[Evidence] = []
    seen: set[tuple[str, str]] = set()

    def add(vendor: str, method: str, snippet: str, channel: str = "chat") -> None:
        if (vendor, method) not in seen:
            seen.add((vendor, method))
            found.append(Evidence(channel, vendor, page.url, method, f"{channel}.{vendor}", make_snippet(snippet)))

    def vendor_of(match: re.Match, ids: list[str]) -> str:
        return ids[int(match.lastgroup[1:])]

    def present(text: str) -> list[int]:
        """Vendors with a literal in ``text`` (or none to test): one substring pass per vendor
        over all the page's URLs or code at once, so per-URL work covers only these few."""
        return [i for i, (literals, _u, _g) in enumerate(t.anchored)
                if not literals or any(a in text for a in literals)]

    sources = [(script, script.src.lower()) for script in page.scripts if script.src]
    frames = [(el, src.lower()) for src, el in page.iframes if src]
    url_candidates = present("\n".join(u for _, u in sources + frames))

    def url_vendor(url: str) -> str | None:
        for i in url_candidates:
            literals, own_urls, _glob = t.anchored[i]
            if own_urls is not None and (not literals or any(a in url for a in literals)) and own_urls.search(url):
                return t.ids[i]
        return None

    for script, src in sources:
        if vendor := url_vendor(src):
            add(vendor, "script_src", element_snippet(script.element))
        if t.messenger_scripts is not None and (m := t.messenger_scripts.search(src)):
            add(vendor_of(m, t.messenger_ids), "script_src", element_snippet(script.element), "messenger")
    inline = [(script, _raw(script.text)) for script in page.scripts
              if not script.src and script.text
              and (script.element.get("type") or "").lower() not in ("application/ld+json", "application/json")]
    code_candidates = present("\n".join(raw for _, raw in inline))
    for script, raw in inline:
        # removing comments only removes text, so the (costly) stripping runs only for
        # scripts whose raw code holds a vendor's literal
        candidates = [i for i in code_candidates
                      if not t.anchored[i][0] or any(a in raw for a in t.anchored[i][0])]
        if not candidates:
            continue
        code = _code(script.text)
        for i in candidates:
            literals, own_urls, own_glob = t.anchored[i]
            if literals and not any(a in code for a in literals):
                continue
            if own_urls is not None and own_urls.search(code):
                add(t.ids[i], "inline_script", script.text)
            if own_glob is not None and own_glob.search(code):
                add(t.ids[i], "js_global", script.text)
    for el, src in frames:
        if vendor := url_vendor(src):
            add(vendor, "iframe", element_snippet(el))
    for vendor, selectors in t.dom:
        for selector in selectors:
            hits = page.select(selector)
            if hits:
                add(vendor, "dom", element_snippet(hits[0]))
                break
    # the patterns are anchored at the start: one match() per href is 10x cheaper than
    # a search over all hrefs joined
    match = t.messenger_hrefs.match
    for link in page.links:
        if link.href and (m := match(link.href)):
            add(vendor_of(m, t.messenger_ids), "link", element_snippet(link.element), "messenger")
    return found

