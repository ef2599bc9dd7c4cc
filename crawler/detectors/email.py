"""Email: mailto links, visible text, Cloudflare and Joomla obfuscation, [at]/[собака] forms, JSON-LD.

Text is matched per DOM text node (adjacent nodes are never glued). JSON-LD
addresses a visitor cannot see are recorded with ``counted=False``.
"""

from __future__ import annotations

import base64
import html
import re
from dataclasses import dataclass
from functools import cache
from urllib.parse import unquote

from lxml import etree

from chanaudit.core.contract import Evidence, make_snippet
from chanaudit.crawler import jsonld, signatures
from chanaudit.crawler.dom import element_snippet
from chanaudit.crawler.page import ParsedPage

_CFEMAIL = etree.XPath("descendant-or-self::*[@data-cfemail]")  # relative: 3x faster than "//" in libxml2

_LOCAL = r"[a-z0-9][a-z0-9._%+\-]{0,63}"
_DOMAIN = r"(?:[a-z0-9\u0400-\u04ff](?:[a-z0-9\u0400-\u04ff\-]{0,61}[a-z0-9\u0400-\u04ff])?\.)+[a-z\u0400-\u04ff]{2,24}"
EMAIL_RE = re.compile(rf"(?<![\w.+\-]){_LOCAL}@{_DOMAIN}(?![\w\-])", re.I)
_STRING_LITERAL = re.compile(r"'((?:[^'\\\n]|\\.)*)'|\"((?:[^\"\\\n]|\\.)*)\"")
#: How far an address reaches around its "@": a local part has at most 64 characters, and
#: SMTP caps a whole address at 254 (RFC 5321), so no address reaches 320 past its "@".
_LOCAL_MAX, _REACH = 64, 320
_EMAIL_KEYS = frozenset({"email"})


def find_addresses(text: str) -> list[re.Match]:
    """``EMAIL_RE.finditer(text)``, read only around each "@": the regex would otherwise try
    every position of the text (ten times the cost on a page). Every address holds one "@" and
    starts at most 64 characters before it (the lookbehind still sees the text before the
    window), so the matches are those of finditer for every address that ends within 320
    characters of its "@"; a longer string (SMTP allows 254 characters in all) may be cut."""
    out: list[re.Match] = []
    pos, at = 0, text.find("@")
    while at >= 0:
        end = min(len(text), at + _REACH)
        m = EMAIL_RE.search(text, max(pos, at - _LOCAL_MAX), end)
        if m is not None and m.end() == end < len(text):  # cut by the window: read on
            m = EMAIL_RE.search(text, max(pos, at - _LOCAL_MAX))
        if m is None:
            at = text.find("@", at + 1)
            continue
        out.append(m)
        pos = m.end()
        at = text.find("@", pos)
    return out


@dataclass(frozen=True, slots=True)
class Table:
    obfuscated: re.Pattern  # info [at] firm [dot] ru: (local part, domain with dot tokens)
    dot: re.Pattern  # a dot token with its brackets
    hint: re.Pattern  # an at token with its brackets: a cheap test first
    junk: frozenset[str]
    placeholder_domains: frozenset[str]
    placeholder_locals: frozenset[str]
    placeholder_local_domains: frozenset[str]
    extensions: frozenset[str]
    third_party: tuple[str, ...]


@cache
def table() -> Table:
    data = signatures.load("contact")["email"]
    at = "|".join(re.escape(t) for t in sorted(data["at_tokens"], key=len, reverse=True))
    dot = "|".join(re.escape(t) for t in sorted(data["dot_tokens"], key=len, reverse=True))
    open_, close = r"\s*[\[\(\{<]\s*", r"\s*[\]\)\}>]\s*"
    obf = re.compile(
        rf"({_LOCAL}){open_}(?:{at}){close}((?:[a-z0-9\u0400-\u04ff\-]+(?:{open_}(?:{dot}){close}|\.))+[a-z\u0400-\u04ff]{{2,24}})",
        re.I,
    )
    dot_re = re.compile(rf"{open_}(?:{dot}){close}", re.I)
    hint = re.compile(rf"[\[\(\{{<]\s*(?:{at})\s*[\]\)\}}>]", re.I)
    return Table(
        obfuscated=obf, dot=dot_re, hint=hint,
        junk=frozenset(a.lower() for a in data["junk_addresses"]),
        placeholder_domains=frozenset(d.lower() for d in data["placeholder_domains"]),
        placeholder_locals=frozenset(x.lower() for x in data["placeholder_locals"]),
        placeholder_local_domains=frozenset(d.lower() for d in data["placeholder_local_domains"]),
        extensions=frozenset(data["file_extensions"]),
        third_party=tuple(data["third_party_hosts"]),
    )


def clean(address: str) -> str | None:
    """Normalise an address and reject junk (files, counters, placeholders, sentry keys)."""
    t = table()
    address = address.strip().strip(".,;:()[]<>\"'").lower()
    if not EMAIL_RE.fullmatch(address):
        return None
    local, _, domain = address.rpartition("@")
    tld = domain.rsplit(".", 1)[-1]
    if tld in t.extensions or address in t.junk:
        return None
    if domain in t.placeholder_domains or domain.startswith("example."):
        return None
    if local in t.placeholder_locals and domain in t.placeholder_local_domains:
        return None
    if any(domain == h or domain.endswith("." + h) for h in t.third_party):
        return None
    if len(local) >= 24 and re.fullmatch(r"[0-9a-f]+", local):
        return None  # sentry-style DSN keys
    return address


def detect(page: ParsedPage) -> list[Evidence]:
    found: list[Evidence] = []
    seen: set[tuple[str, str]] = set()

    def add(address: str | None, method: str, rule: str, snippet: str, counted: bool = True) -> None:
        value = clean(address or "")
        if value and (value, rule) not in seen:
            seen.add((value, rule))
            found.append(Evidence("email", value, page.url, method, rule, make_snippet(snippet), counted=counted))

    for link in page.links:
        href = link.href
        if href[:7].lower() == "mailto:":
            for part in unquote(href[7:]).split("?")[0].split(","):
                add(part, "mailto", "email.mailto", element_snippet(link.element))
        elif "/cdn-cgi/l/email-protection#" in href:
            add(decode_cfemail(href.split("#", 1)[1]), "cloudflare", "email.cfemail", element_snippet(link.element))
    if "data-cfemail" in page.index.attributes:
        for el in _CFEMAIL(page.tree):
            add(decode_cfemail(el.get("data-cfemail")), "cloudflare", "email.cfemail", element_snippet(el))

    t = table()
    # one text node per line: an address cannot span a line break, so one pass over all the
    # nodes finds what a pass per node finds; the obfuscated forms stay per node
    joined = "\n".join(page.text_nodes)
    for m in find_addresses(joined):
        start, end = joined.rfind("\n", 0, m.start()) + 1, joined.find("\n", m.end())
        add(m.group(0), "text", "email.text", joined[start:end if end >= 0 else len(joined)])
    if t.hint.search(joined):
        for text in page.text_nodes:
            if ("[" in text or "(" in text or "{" in text or "<" in text) and t.hint.search(text):
                for m in t.obfuscated.finditer(text):
                    domain = t.dot.sub(".", m.group(2))
                    add(f"{m.group(1)}@{domain}", "text", "email.obfuscated", text)

    for glued in _split_addresses(page):
        for m in find_addresses(glued):
            add(m.group(0), "text", "email.split", glued)

    json_ld = {id(script): data for script, data in page.json_ld}  # parsed once per page
    for script in page.scripts:
        text = script.text
        if not text:
            continue
        if id(script) in json_ld:
            for address in _jsonld_emails(text, json_ld[id(script)]):
                add(address, "jsonld", "email.jsonld", text, counted=False)
        elif ("document.write" in text or "innerHTML" in text) and ("&#64;" in text or "@" in text):
            for address in _joomla(text):
                add(address, "script", "email.joomla", text)
    if "joomla-hidden-mail" in page.index.tags:
        for el in page.tree.iter("joomla-hidden-mail"):
            add(_joomla4(el), "script", "email.joomla", element_snippet(el))
    return found


def _joomla4(el) -> str | None:
    """Joomla 4's ``<joomla-hidden-mail first="aW5mbw==" last="ZmlybS5ydQ==">``: the two halves of
    the address around its "@", base64-encoded."""
    try:
        first, last = (base64.b64decode(el.get(k) or "", validate=True).decode("utf-8") for k in ("first", "last"))
    except (ValueError, UnicodeDecodeError):
        return None
    return f"{first}@{last}" if first and last else None


def _split_addresses(page: ParsedPage) -> list[str]:
    """Addresses split across inline elements around the "@" (``info<span>@</span>firm.ru``), as a
    visitor reads them: nodes are glued only at an "@" with no space between, inside one block,
    so neighbouring words are never glued into a bogus address."""
    items, blocks, gaps = page.text_items, page.text_blocks, page.text_gaps

    def joins(k: int) -> bool:
        left, right = items[k][0], items[k + 1][0]
        return (blocks[k + 1] is blocks[k] and not gaps[k + 1] and not left[-1:].isspace() and not right[:1].isspace()
                and (left.endswith("@") or right.startswith("@")))

    # only nodes that end or start with "@" can glue (a cheap pass, then the few candidates)
    edges = [k for k, (text, _) in enumerate(items) if text[-1] == "@" or text[0] == "@"]
    out = []
    done = -1
    for k in edges:
        i = k - 1 if items[k][0][0] == "@" and k > 0 else k
        if i <= done:
            continue
        j = i
        while j + 1 < len(items) and joins(j):
            j += 1
        if j > i:
            out.append("".join(text for text, _ in items[i:j + 1]))
            done = j
    return out


def decode_cfemail(hexstr: str | None) -> str | None:
    """Cloudflare email protection: the first byte is the key, XOR it out of the rest (UTF-8)."""
    try:
        data = bytes.fromhex((hexstr or "").strip())
    except ValueError:
        return None
    if len(data) < 2:
        return None
    key = data[0]
    try:
        return bytes(b ^ key for b in data[1:]).decode("utf-8")
    except UnicodeDecodeError:
        return None


#: Tokens of cloaking code: a string literal, a name, an assignment or "+" (anything else ends an expression).
_JS_TOKEN = re.compile(r"""'(?P<s1>(?:[^'\\\n]|\\.)*)'|"(?P<s2>(?:[^"\\\n]|\\.)*)"|(?P<name>[A-Za-z_$][\w$]*)"""
                       r"""|(?P<op>\+=|==+|=|\+)|(?P<other>\S)""")
_JS_ESCAPE = re.compile(r"\\(.)")


def _js_tokens(script: str) -> list[tuple[str, str]]:
    """(kind, text): kind is ``str`` (the literal's content, escapes undone), ``name``, ``op`` or ``other``."""
    out = []
    for m in _JS_TOKEN.finditer(script):
        kind = m.lastgroup
        if kind in ("s1", "s2"):
            out.append(("str", _JS_ESCAPE.sub(r"\1", m.group(kind))))
        else:
            out.append((kind, m.group(kind)))
    return out


def _joomla(script: str) -> list[str]:
    """Joomla email cloaking: the address is assembled in variables (``var addy1 = 'info' + '&#64;';
    addy1 = addy1 + 'firm' + '&#46;' + 'ru';``) and written by ``document.write`` or ``innerHTML +=``.
    The assignments are evaluated (string literals, names and ``+`` only), so each value is the
    address itself: gluing every literal of the script together ran one address into the next
    ("info@firm.ruinfo@firm.ru" read as "info@firm.ruinfo")."""
    env: dict[str, str] = {}
    tokens = _js_tokens(script)
    i = 0
    while i < len(tokens) - 1:
        (kind, name), (next_kind, op) = tokens[i], tokens[i + 1]
        if kind != "name" or next_kind != "op" or op not in ("=", "+="):
            i += 1
            continue
        value, i = _concat(tokens, i + 2, env)
        env[name] = (env.get(name, "") if op == "+=" else "") + value
    out: list[str] = []
    for value in env.values():
        text = re.sub(r"mailto:?", " ", html.unescape(value), flags=re.I)
        out.extend(m.group(0) for m in find_addresses(text))
    return list(dict.fromkeys(out))


def _concat(tokens: list[tuple[str, str]], i: int, env: dict[str, str]) -> tuple[str, int]:
    """The value of ``term (+ term)*`` from token ``i`` (a term: a string literal or a name, unknown
    names being empty), and the index of the first token after it."""
    parts: list[str] = []
    expect_term = True
    while i < len(tokens):
        kind, text = tokens[i]
        if expect_term and kind in ("str", "name"):
            parts.append(text if kind == "str" else env.get(text, ""))
            expect_term = False
        elif not expect_term and kind == "op" and text == "+":
            expect_term = True
        else:
            break
        i += 1
    return "".join(parts), i


def _jsonld_emails(text: str, data: object) -> list[str]:
    """Addresses of a JSON-LD block: its "email" fields, or a text scan when it is not JSON."""
    if data is None:
        return [m.group(0) for m in find_addresses(text)]
    return [value.removeprefix("mailto:") for value in jsonld.string_fields(data, _EMAIL_KEYS)]

