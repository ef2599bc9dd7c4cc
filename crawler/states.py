"""Site states: a home page that answers but is no working company website.

``challenge`` (an anti-bot interstitial), ``parked`` (parking, a domain for sale, a broker),
``placeholder`` (a default server page, "under construction", hosting suspended) and
``empty`` (nothing to see even after rendering). The rules are data
(``signatures/states.yaml``, one row per provider page with an example and a control);
this module only compiles and applies them. Pure functions of a fetched page: no Scrapy.

:func:`classify` runs the page rules on a :class:`~crawler.page.ParsedPage` built with the
response's status and headers; :func:`classify_url` the broker rules on a final URL;
:func:`is_empty` the ``empty`` rule. Each answer is a :class:`StateMatch` that names the
rule, the provider and what matched (the evidence kept in ``pages.csv``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import urlsplit

from chanaudit.core.contract import make_snippet
from chanaudit.crawler import signatures
from chanaudit.crawler.page import ParsedPage

#: Precedence when rows of several statuses fire on one page.
PRECEDENCE: tuple[str, ...] = ("challenge", "parked", "placeholder")
KINDS: tuple[str, ...] = ("headers", "title", "markers", "text")
#: Elements whose content a visitor does not see (the ``text`` kind).
HIDDEN_TAGS = frozenset({"head", "title", "script", "style", "noscript", "template", "iframe", "svg"})
_WS = re.compile(r"\s+")
_DISPLAY_NONE = re.compile(r"display\s*:\s*none", re.I)
#: Longest piece of evidence kept per kind.
EVIDENCE_LEN = 80
#: Error statuses a home page is read with rather than failed on: challenge pages answer 401 (Qrator),
#: 403 (Cloudflare, Akamai, DDoS-Guard), 405 (AWS WAF CAPTCHA), 429 or 503; CentOS serves its Apache
#: test page with 403. A page that fires no rule is an ``http_error`` as before.
STATE_HTTP_CODES: tuple[int, ...] = (401, 403, 405, 429, 503)


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    status: str
    provider: str
    verified: bool
    require: int
    http_status: frozenset[int] | None
    headers: tuple[tuple[str, re.Pattern], ...]
    title: tuple[re.Pattern, ...]
    markers: tuple[re.Pattern, ...]
    text: tuple[re.Pattern, ...]

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(k for k in KINDS if getattr(self, k))


@dataclass(frozen=True, slots=True)
class UrlRule:
    id: str
    status: str
    provider: str
    verified: bool
    pattern: re.Pattern


@dataclass(frozen=True, slots=True)
class Table:
    rules: tuple[Rule, ...]
    url_rules: tuple[UrlRule, ...]
    empty_max_text: int
    empty_content: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class StateMatch:
    """A page in a state: the status, the rule and provider that decided it, and the evidence."""

    status: str
    rule: str
    provider: str
    verified: bool = True
    #: What matched, one ``kind: value`` per matching kind ("header cf-mitigated: challenge").
    evidence: tuple[str, ...] = ()
    #: Other rules that fired on the same page (any status).
    also: tuple[str, ...] = ()

    @property
    def evidence_text(self) -> str:
        return " | ".join(self.evidence)

    def detail(self, note: str = "") -> str:
        """``status_detail`` of the site: the rule, the provider, what matched, and ``note``."""
        kinds = ", ".join(e.split(":", 1)[0] for e in self.evidence if self.status != "empty")
        text = f"{self.rule}: {self.provider}" + (f" ({kinds})" if kinds else "")
        if not self.verified:
            text += "; unverified rule"
        return text + (f"; {note}" if note else "")


def _compile(patterns, what: str) -> tuple[re.Pattern, ...]:
    out = []
    for p in patterns or ():
        try:
            out.append(re.compile(p))
        except re.error as exc:  # a table error is a bug of the shipped data: fail loudly
            raise ValueError(f"signatures/states.yaml: {what}: bad regex {p!r}: {exc}") from None
    return tuple(out)


@cache
def table() -> Table:
    data = signatures.load("states")
    rules = []
    for row in data["rules"]:
        rid = row["id"]
        if row["status"] not in PRECEDENCE:
            raise ValueError(f"signatures/states.yaml: {rid}: unknown status {row['status']!r}")
        headers = tuple((name.lower(), re.compile(rx)) for name, rx in (row.get("headers") or {}).items())
        rules.append(Rule(rid, row["status"], row["provider"], bool(row.get("verified", True)), int(row["require"]),
                          frozenset(row["http_status"]) if row.get("http_status") else None, headers,
                          _compile(row.get("title"), rid), _compile(row.get("markers"), rid),
                          _compile(row.get("text"), rid)))
    url_rules = tuple(UrlRule(r["id"], r["status"], r["provider"], bool(r.get("verified", True)),
                              re.compile(r["pattern"])) for r in data.get("url_rules") or ())
    empty = data["empty"]
    return Table(tuple(rules), url_rules, int(empty["max_text"]), tuple(empty["content"]))


# -- the views a rule reads ---------------------------------------------------------------------
@dataclass
class Signals:
    """The four things a rule looks at, lower-cased, computed once per page."""

    status: int | None
    headers: dict[str, str]
    title: str
    source: str
    text: str


def _norm(text: str) -> str:
    return _WS.sub(" ", text).strip().lower()


def visible_text(tree: Any) -> str:
    """The text a visitor sees, whitespace collapsed (not lower-cased): no :data:`HIDDEN_TAGS`,
    no element with a ``hidden`` attribute or an inline ``display:none``, no comments."""
    parts: list[str] = []
    _visible(tree, parts)
    return _WS.sub(" ", " ".join(parts)).strip()


def _visible(el: Any, parts: list[str]) -> None:
    text = el.text
    if text:
        parts.append(text)
    for child in el:
        tag = child.tag
        if tag.__class__ is str and tag not in HIDDEN_TAGS:  # not a comment, not hidden by its tag
            attrib = child.attrib
            if not attrib or ("hidden" not in attrib and not _DISPLAY_NONE.search(attrib.get("style") or "")):
                _visible(child, parts)
        tail = child.tail
        if tail:
            parts.append(tail)


def title_of(tree: Any) -> str:
    el = next(tree.iter("title"), None)
    return "" if el is None else "".join(el.itertext())


def normalise_headers(headers: Any) -> dict[str, str]:
    """``{name: value}`` lower-cased; several values of one header joined by newlines. Takes a
    dict (values a str or a list) or Scrapy's ``Headers`` (bytes keys, lists of bytes)."""
    out: dict[str, str] = {}
    if not headers:
        return out
    items = headers.items() if hasattr(headers, "items") else headers
    for name, value in items:
        if isinstance(name, bytes):
            name = name.decode("latin-1")
        values = value if isinstance(value, list | tuple) else [value]
        text = "\n".join(v.decode("latin-1") if isinstance(v, bytes) else str(v) for v in values)
        key = name.lower()
        out[key] = (out[key] + "\n" + text.lower()) if key in out else text.lower()
    return out


def signals(page: ParsedPage) -> Signals:
    return Signals(page.page.status, normalise_headers(page.page.headers), _norm(title_of(page.tree)),
                   page.source.lower(), visible_text(page.tree).lower())


# -- the rules ------------------------------------------------------------------------------------
def _first(patterns: tuple[re.Pattern, ...], value: str) -> re.Match | None:
    for rx in patterns:
        m = rx.search(value)
        if m:
            return m
    return None


def match_rule(rule: Rule, sig: Signals, ignore_status: bool = False, complete: bool = False) -> list[str]:
    """The evidence of each kind of ``rule`` that matches (``[]`` when the status rules it out). The markers,
    the longest search, are skipped when they cannot make the row fire, unless ``complete``."""
    if not ignore_status and rule.http_status is not None and sig.status not in rule.http_status:
        return []
    found = []
    for name, rx in rule.headers:
        value = sig.headers.get(name)
        if value is not None and rx.search(value):
            found.append(f"header {name}: {make_snippet(value, EVIDENCE_LEN)}")
            break
    if (m := _first(rule.title, sig.title)) is not None:
        found.append(f"title: {make_snippet(sig.title, EVIDENCE_LEN)}")
    if (m := _first(rule.text, sig.text)) is not None:
        found.append(f"text: {make_snippet(m.group(0), EVIDENCE_LEN)}")
    if not complete and len(found) + (1 if rule.markers else 0) < rule.require:
        return found
    if (m := _first(rule.markers, sig.source)) is not None:
        found.append(f"marker: {make_snippet(m.group(0), EVIDENCE_LEN)}")
    return found


def fires(rule: Rule, sig: Signals, ignore_status: bool = False) -> bool:
    return len(match_rule(rule, sig, ignore_status)) >= rule.require


def classify(page: ParsedPage, sig: Signals | None = None) -> StateMatch | None:
    """The state of a page by the rules (challenge > parked > placeholder), or None. ``page``
    carries the response's status and headers (``Page.status``, ``Page.headers``)."""
    sig = sig or signals(page)
    fired: list[tuple[Rule, list[str]]] = []
    for rule in table().rules:
        found = match_rule(rule, sig)
        if len(found) >= rule.require:
            fired.append((rule, found))
    if not fired:
        return None
    fired.sort(key=lambda item: PRECEDENCE.index(item[0].status))
    rule, found = fired[0]
    return StateMatch(rule.status, rule.id, rule.provider, rule.verified, tuple(found),
                      tuple(r.id for r, _ in fired[1:]))


def url_key(url: str) -> str:
    """host + path of ``url``, lower-cased, without scheme, port, query or fragment."""
    parts = urlsplit(url or "")
    return f"{(parts.hostname or '').rstrip('.')}{parts.path or '/'}".lower()


def classify_url(url: str) -> StateMatch | None:
    """A final URL on a domain broker or parking host (``url_rules``), or None."""
    key = url_key(url)
    for rule in table().url_rules:
        if rule.pattern.search(key):
            return StateMatch(rule.status, rule.id, rule.provider, rule.verified,
                              (f"url: {make_snippet(url, EVIDENCE_LEN)}",))
    return None


# -- empty ----------------------------------------------------------------------------------------
def _page_link(href: str | None) -> bool:
    href = (href or "").strip().lower()
    return bool(href) and not href.startswith(("#", "javascript:"))


def is_empty(page: ParsedPage, sig: Signals | None = None) -> bool:
    """No visible content: fewer than ``max_text`` visible characters, no content element (an
    image, a frame, a form...) and no link to a page."""
    t = table()
    text = sig.text if sig is not None else visible_text(page.tree)
    if len(text) >= t.empty_max_text:
        return False
    if any(True for _ in page.tree.iter(*t.empty_content)):
        return False
    return not any(_page_link(a.get("href")) for a in page.tree.iter("a", "area"))


def empty_match(note: str, text: str = "") -> StateMatch:
    """The :class:`StateMatch` of an empty page: ``note`` says how it was seen, ``text`` is what little
    visible text it has."""
    t = table()
    return StateMatch("empty", "empty", f"under {t.empty_max_text} visible characters, no image, frame, form or link",
                      True, (f"visible text: {make_snippet(text, EVIDENCE_LEN)!r}", f"seen: {note}"))


def has_scripts(page: ParsedPage) -> bool:
    """Could scripts fill this page? (An empty page without them stays empty in any browser.)"""
    return bool(page.scripts)

