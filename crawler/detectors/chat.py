"""Live chat (and messenger buttons and callback widgets) from the signature table ``signatures/chat.yaml``.

Where a widget shows: a ``<script src>``, an ``<iframe src>``, the code of an
inline loader (vendor URL quoted, percent-encoded or written by
``document.write``; JS comments removed first, so a commented-out loader does
not count), a JS global set inline, a DOM element (mostly in rendered DOM), or
the code of a same-site script file the crawler fetched (:func:`detect_code`,
a loader kept in ``js/livechat.js``), or — on a rendered page — the URL of a
request the page attempted, aborted or not (method ``attempted_request``: a
loader injected by a tag manager, a script that removed itself, a widget's
calls home). HTML comments are never part of the parsed views.

Each finding records its kind in ``detail`` (``live_chat``, ``ai_chat``,
``messenger``, ``callback``): AI chat is chat (``--no-ai-chat-as-chat`` for a
sensitivity run), messenger buttons are channel ``messenger`` and callback
widgets channel ``callback``, never chat. Where no vendor row fires, two
vendor-agnostic rules look for widgets no table knows: a third-party loader
whose host or path names a chat (``chat.generic_loader``; also over a rendered page's attempted script and
frame requests) and, in a rendered page, a launcher fixed in a bottom corner
with chat words (``chat.generic_launcher``: by the computed styles the browser
reported, method ``corner``; by inline styles when there are none).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import urlsplit

from chanaudit.core.contract import Evidence, make_snippet
from chanaudit.crawler import signatures
from chanaudit.crawler.detectors.anchors import LiteralIndex, anchors
from chanaudit.crawler.detectors.jscode import strip_js_comments
from chanaudit.crawler.dom import element_snippet, text_of
from chanaudit.crawler.page import ParsedPage, raw_code
from chanaudit.crawler.urls import same_site

_JSON_TYPES = ("application/ld+json", "application/json")
#: Words of a URL: host labels and path segments split at . / - _ (and the rest of non-word marks).
_URL_WORDS = re.compile(r"[a-z0-9]+")
#: An absolute or protocol-relative URL in code (the host, then the path up to a quote or space).
_CODE_URL = re.compile(r"""(?:https?:)?//([a-z0-9][a-z0-9.-]*\.[a-z]{2,})(?::\d+)?(/[^\s'"`<>()\\]*)?""")
_INJECTS = ("createelement(", "document.write", ".src=", ".src =")
_FIXED = re.compile(r"position\s*:\s*fixed")
_BOTTOM = re.compile(r"(?<![-\w])bottom\s*:")
_SIDE = re.compile(r"(?<![-\w])(?:right|left)\s*:")
_FIXED_XPATH = "descendant-or-self::*[@style and contains(translate(@style, 'FIXED', 'fixed'), 'fixed')]"
ATTEMPTED = "attempted_request"
CORNER = "corner"
#: Requests of a widget's code that say the widget is there: its loader, its frames, its calls home.
#: Images, fonts, styles and media are not (a vendor's logo on a page is no widget), nor prefetches.
_ATTEMPT_KINDS = frozenset({"script", "document", "xhr", "fetch", "eventsource", "websocket"})
#: What the vendor-agnostic loader rule reads among them, as it reads <script src> and <iframe src>.
_LOADER_KINDS = frozenset({"script", "document"})


@dataclass(frozen=True)
class Row:
    """One vendor, messenger-widget or callback-widget row."""

    id: str
    kind: str  # live_chat, ai_chat, messenger, callback
    channel: str  # chat, messenger, callback
    urls: re.Pattern | None
    globals: re.Pattern | None


@dataclass(frozen=True)
class Generic:
    words: frozenset[str]
    ai_words: frozenset[str]
    not_hosts: re.Pattern
    not_paths: re.Pattern
    launcher_words: re.Pattern
    launcher_ai: re.Pattern
    launcher_text: int


@dataclass(frozen=True)
class Table:
    rows: list[Row]
    #: literal -> the rows that need it: a literal present in a page's URLs or code picks the few
    #: rows whose full patterns are worth running there
    literals: dict[str, tuple[int, ...]]
    index: LiteralIndex  # finds which literals a text holds (:func:`_candidates`)
    row_literals: list[tuple[str, ...]]  # per row; () for a row that is always tried
    always: frozenset[int]  # rows with a pattern that has no literal: always tried
    dom: list[tuple[int, list[str]]]  # row, mini-selectors
    #: a vendor's own domain -> its row: a script or frame it serves is the widget (``hosts``)
    hosts: dict[str, int]
    messenger_hrefs: re.Pattern  # anchored at the start of an href (``match``); group m<row>
    generic: Generic


def _compile(patterns: list[str]) -> re.Pattern | None:
    return re.compile("|".join(patterns), re.I) if patterns else None


def _words(words: list[str]) -> re.Pattern:
    alts = "|".join(re.escape(w.lower()) for w in sorted(words, key=len, reverse=True))
    return re.compile(rf"(?<![\w])(?:{alts})(?![\w])")


@cache
def table() -> Table:
    data = signatures.load("chat")
    rows: list[Row] = []
    literals: dict[str, list[int]] = {}
    row_literals: list[tuple[str, ...]] = []
    always: list[int] = []
    dom: list[tuple[int, list[str]]] = []
    hosts: dict[str, int] = {}
    sources = [(v, v["kind"], "chat", "urls") for v in data["vendors"]]
    sources += [(m, "messenger", "messenger", "scripts") for m in data["messengers"]]
    sources += [(c, "callback", "callback", "scripts") for c in data["callbacks"]]
    for row, kind, channel, key in sources:
        if kind not in ("live_chat", "ai_chat", "messenger", "callback"):
            raise ValueError(f"chat.yaml: row {row['id']}: unknown kind {kind!r}")
        index = len(rows)
        rows.append(Row(row["id"], kind, channel, _compile(row.get(key, [])), _compile(row.get("globals", []))))
        pats = [*row.get(key, []), *row.get("globals", [])]
        found = anchors(pats) if pats else ()
        if found is None:
            always.append(index)
        row_literals.append(found or ())
        for literal in found or ():
            literals.setdefault(literal, []).append(index)
        if row.get("dom"):
            dom.append((index, list(row["dom"])))
        for host in row.get("hosts", []):
            if host in hosts:
                raise ValueError(f"chat.yaml: host {host} is in rows {rows[hosts[host]].id} and {row['id']}")
            hosts[host.lower()] = index
    hrefs = [f"(?P<m{i}>{'|'.join(m['hrefs'])})" for i, m in enumerate(data["messengers"], start=len(data["vendors"]))
             if m.get("hrefs")]
    g = data["generic"]
    generic = Generic(frozenset(g["words"]), frozenset(g["ai_words"]), re.compile("|".join(g["not_hosts"])),
                      re.compile("|".join(g["not_paths"])), _words(g["launcher_words"]),
                      _words(g["launcher_ai_words"]), int(g["launcher_text"]))
    return Table(rows, {k: tuple(v) for k, v in literals.items()}, LiteralIndex(literals),
                 row_literals, frozenset(always), dom, hosts,
                 re.compile("|".join(hrefs), re.I), generic)


_raw = raw_code  # code as the patterns see it (crawler.page.raw_code)


def _candidates(text: str, t: Table, words: set[str] | None = None) -> list[int]:
    """Rows with a literal in ``text`` (and rows without any literal), in table order."""
    hits = set(t.always)
    for literal in t.index.present(text, words):
        hits.update(t.literals[literal])
    return sorted(hits)


class _Found:
    """The findings of one page (or script file), one per (row, method)."""

    def __init__(self, page_url: str, detail_suffix: str = ""):
        self.page_url = page_url
        self.suffix = detail_suffix
        self.out: list[Evidence] = []
        self.seen: set[tuple[str, str, str]] = set()
        self.chat = False  # a chat row (not a messenger or callback) fired

    def add(self, row: Row, method: str, snippet: str) -> None:
        self.emit(row.channel, row.id, method, f"{row.channel}.{row.id}", row.kind, snippet)

    def emit(self, channel: str, value: str, method: str, rule: str, kind: str, snippet: str) -> None:
        if (value, method, rule) in self.seen:
            return
        self.seen.add((value, method, rule))
        self.chat = self.chat or channel == "chat"
        self.out.append(Evidence(channel, value, self.page_url, method, rule, make_snippet(snippet),
                                 kind + self.suffix))


def _match_urls(url: str, candidates: list[int], t: Table) -> Row | None:
    for i in candidates:
        row = t.rows[i]
        if row.urls is not None and row.urls.search(url):
            return row
    return _host_row(urlsplit(url).hostname or "", t)


def _host_row(host: str, t: Table) -> Row | None:
    """The row whose vendor domain serves ``host`` (the domain itself or a subdomain)."""
    labels = host.lower().split(".")
    for k in range(len(labels) - 1):
        index = t.hosts.get(".".join(labels[k:]))
        if index is not None:
            return t.rows[index]
    return None


def _match_code(code: str, candidates: list[int], t: Table, found: _Found, method_src: str,
                snippet: Any) -> None:
    """Vendor URLs and globals in ``code`` (comments already removed, lower-case)."""
    for i in candidates:
        row = t.rows[i]
        if row.urls is not None and (m := row.urls.search(code)):
            found.add(row, method_src, snippet(m))
        if row.globals is not None and (m := row.globals.search(code)):
            found.add(row, "js_global" if method_src == "inline_script" else method_src, snippet(m))


def detect(page: ParsedPage) -> list[Evidence]:
    t = table()
    found = _Found(page.url)
    sources = [(script, script.src.lower()) for script in page.scripts if script.src]
    frames = [(el, src.lower()) for src, el in page.iframes if src]
    url_candidates = _candidates("\n".join(u for _, u in sources + frames), t) if sources or frames else []
    known: set[str] = set()  # URLs a row names: no vendor-agnostic rule reads them
    for script, src in sources:
        if row := _match_urls(src, url_candidates, t):
            found.add(row, "script_src", element_snippet(script.element))
            known.add(src)
    inline = [(script, _raw(script.text)) for script in page.scripts
              if not script.src and script.text and (script.element.get("type") or "").lower() not in _JSON_TYPES]
    code_candidates = _candidates(page.code, t, page.code_words) if inline else []
    for script, raw in inline:
        # removing comments only removes text, so the (costly) stripping runs only for scripts
        # whose raw code holds a candidate's literal
        candidates = [i for i in code_candidates if _has_literal(raw, i, t)]
        if candidates:
            code = _raw(strip_js_comments(script.text))
            _match_code(code, candidates, t, found, "inline_script", lambda m, s=script: s.text)
    for el, src in frames:
        if row := _match_urls(src, url_candidates, t):
            found.add(row, "iframe", element_snippet(el))
            known.add(src)
    for index, selectors in t.dom:
        for selector in selectors:
            hits = page.select(selector)
            if hits:
                found.add(t.rows[index], "dom", element_snippet(hits[0]))
                break
    # the patterns are anchored at the start: one match() per href is 10x cheaper than
    # a search over all hrefs joined
    match = t.messenger_hrefs.match
    for link in page.links:
        if link.href and (m := match(link.href)):
            found.add(t.rows[int(m.lastgroup[1:])], "link", element_snippet(link.element))
    requests = page.page.requests
    if requests:
        _attempted(requests, t, found)
    if not found.chat:
        _generic_loaders(page, [s for s in sources if s[1] not in known], [f for f in frames if f[1] not in known],
                         inline, t, found)
    if not found.chat and requests:
        _generic_attempted(page, requests, t, found)
    if not found.chat and page.rendered:
        if page.page.corners is not None:  # what the browser computed
            _corners(page.page.corners, t, found)
        else:
            _launcher(page, t, found)
    return found.out


def _has_literal(raw: str, index: int, t: Table) -> bool:
    return index in t.always or any(literal in raw for literal in t.row_literals[index])


def detect_code(code: str, page_url: str, script_url: str, site_url: str | None = None) -> list[Evidence]:
    """The chat rules on the code of a same-site script file the crawler fetched from ``page_url``
    (a loader kept in ``js/livechat.js``): vendor URLs and globals, messenger and callback widgets,
    and the vendor-agnostic loader rule. Evidence is of the page (``page_url``), method
    ``script_file``, its detail names the file."""
    t = table()
    found = _Found(page_url, f"; in {script_url}")
    candidates = _candidates(_raw(code), t)
    stripped = _raw(strip_js_comments(code))
    if candidates:
        _match_code(stripped, candidates, t, found, "script_file", lambda m: _around(stripped, m))
    if not found.chat:
        for host, path, m in _code_urls(stripped):
            if _third_party(f"https://{host}/", page_url, site_url or page_url):
                _generic_url(host, path, "script_file", _around(stripped, m), t, found)
    return found.out


def _around(code: str, m: re.Match, width: int = 70) -> str:
    return code[max(0, m.start() - width):m.end() + width]


# -- vendor-agnostic rules -------------------------------------------------------
def _third_party(url: str, page_url: str, site_url: str) -> bool:
    return not same_site(url, page_url) and not same_site(url, site_url)


def _code_urls(code: str) -> list[tuple[str, str, re.Match]]:
    return [(m.group(1), m.group(2) or "/", m) for m in _CODE_URL.finditer(code)]


def _generic_url(host: str, path: str, method: str, snippet: str, t: Table, found: _Found, note: str = "") -> None:
    """A script URL in loader code: its vendor's row when a row's ``hosts`` serve it, else
    chat.generic_loader when the host or path of the third-party loader names a chat."""
    in_code = method in ("inline_script", "script_file")
    # in code, a vendor domain counts as a loader URL, not as a link to the vendor's www site
    if (not in_code or (path.strip("/") and not host.startswith("www."))) and (row := _host_row(host, t)):
        found.add(row, method, snippet)
        return
    g = t.generic
    words = set(_URL_WORDS.findall(host.rsplit(".", 1)[0])) | set(_URL_WORDS.findall(path.split("?")[0]))
    if not words & g.words or g.not_hosts.search(host) or g.not_paths.search(path):
        return
    kind = "ai_chat" if words & g.ai_words else "live_chat"
    found.emit("chat", host, method, "chat.generic_loader", kind + note, snippet)


def _generic_loaders(page: ParsedPage, sources, frames, inline, t: Table, found: _Found) -> None:
    site = page.site_url
    for items, method in ((sources, "script_src"), (frames, "iframe")):
        for item, url in items:
            el = item.element if method == "script_src" else item
            if _third_party(url, page.url, site):
                parts = urlsplit(url)
                _generic_url(parts.hostname or "", parts.path or "/", method, element_snippet(el), t, found)
    for script, raw in inline:
        if any(mark in raw for mark in _INJECTS) and "//" in raw:
            code = _raw(strip_js_comments(script.text))
            for host, path, _m in _code_urls(code):
                if _third_party(f"https://{host}/", page.url, site):
                    _generic_url(host, path, "inline_script", script.text, t, found)


def _corner(style: str) -> bool:
    style = style.lower()
    return bool(_FIXED.search(style) and _BOTTOM.search(style) and _SIDE.search(style))


def _launcher_kind(text: str, labels: list[str], marks: list[str], hrefs: list[str], t: Table) -> str | None:
    """The kind of chat a corner element names (``live_chat``, ``ai_chat``), or None: its short
    text, labels (title, aria-label…) or marks (id, class, tag) hold a chat word, and it holds no
    messenger, ``tel:`` or ``mailto:`` link (a messenger or call button)."""
    g = t.generic
    match = t.messenger_hrefs.match
    if any(match(h) or h.lower().startswith(("tel:", "mailto:")) for h in hrefs):
        return None
    text = " ".join(text.split())
    marks_text = " ".join(marks).replace("_", " ").replace("-", " ")
    words = " ".join([text if len(text) <= g.launcher_text else "", *labels, marks_text]).lower()
    if not g.launcher_words.search(words):
        return None
    return "ai_chat" if g.launcher_ai.search(words) else "live_chat"


def _launcher(page: ParsedPage, t: Table, found: _Found) -> None:
    """chat.generic_launcher by inline styles (a rendered page whose computed styles were not
    read): an element fixed in a bottom corner that names a chat."""
    for el in page.tree.xpath(_FIXED_XPATH):
        if not _corner(el.get("style") or ""):
            continue
        labels = [el.get("title") or "", el.get("aria-label") or ""]
        labels += [f.get("title") or "" for f in el.iter("iframe")]
        labels += [b.get("aria-label") or "" for b in el.iter("button")]
        hrefs = [a.get("href") or "" for a in el.iter("a")]
        kind = _launcher_kind(text_of(el), labels, [el.get("id") or "", el.get("class") or ""], hrefs, t)
        if kind:
            found.emit("chat", "launcher", "dom", "chat.generic_launcher", kind, element_snippet(el))
            return


def _corners(corners: dict, t: Table, found: _Found) -> None:
    """chat.generic_launcher by computed styles: what the browser reported fixed in a bottom corner
    of the viewport (:data:`crawler.browser.CORNERS_JS`) that names a chat."""
    for c in corners.get("corners") or ():
        labels = [str(v) for v in c.get("labels") or ()]
        marks = [str(c.get(k) or "") for k in ("id", "cls", "tag")]
        kind = _launcher_kind(str(c.get("text") or ""), labels, marks, [str(h) for h in c.get("hrefs") or ()], t)
        if kind:
            left, top, width, height = (list(c.get("box") or ()) + [0, 0, 0, 0])[:4]
            attrs = "".join(f' {name}="{c[key]}"' for name, key in (("id", "id"), ("class", "cls")) if c.get(key))
            snippet = f"<{c.get('tag', '')}{attrs}> {c.get('text', '')} [fixed at {left},{top}, {width}x{height}]"
            found.emit("chat", "launcher", CORNER, "chat.generic_launcher", kind, snippet)
            return


# -- a rendered page's attempted requests ---------------------------------------------
def _attempt_note(kind: str, outcome: str) -> str:
    return f"; attempted {kind} request, {outcome}"


def _attempted(requests, t: Table, found: _Found) -> None:
    """Vendor, messenger and callback rows over the URLs of the requests a rendered page attempted
    (a loader a tag manager injected, a script that removed itself after loading, a widget's calls
    to its vendor), the ones the browser blocked or that failed included: an attempt is the page's
    code asking for the widget. A row already found on the page by its markup is not repeated."""
    wanted = [(kind, url, outcome) for kind, url, outcome in requests if kind in _ATTEMPT_KINDS]
    if not wanted:
        return
    lowered = [url.lower() for _kind, url, _outcome in wanted]
    candidates = _candidates("\n".join(lowered), t)
    have = {ev.rule for ev in found.out}
    for (kind, url, outcome), low in zip(wanted, lowered, strict=True):
        row = _match_urls(low, candidates, t)
        if row is None or f"{row.channel}.{row.id}" in have:
            continue
        have.add(f"{row.channel}.{row.id}")
        found.emit(row.channel, row.id, ATTEMPTED, f"{row.channel}.{row.id}", row.kind + _attempt_note(kind, outcome),
                   f"{kind} {url} ({outcome})")


def _generic_attempted(page: ParsedPage, requests, t: Table, found: _Found) -> None:
    """chat.generic_loader over the third-party scripts and frames a rendered page attempted."""
    for kind, url, outcome in requests:
        if kind in _LOADER_KINDS and _third_party(url, page.url, page.site_url):
            parts = urlsplit(url.lower())
            _generic_url(parts.hostname or "", parts.path or "/", ATTEMPTED, f"{kind} {url} ({outcome})", t, found,
                         _attempt_note(kind, outcome))
