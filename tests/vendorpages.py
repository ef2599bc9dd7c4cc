"""Synthetic fingerprint pages from the vendor checklists in ../shared/vendors (test data).

The checklists (``chat_vendors.csv``, ``form_builders.csv``) give each vendor's loader pattern in
the public Wappalyzer format: a regular expression over a script's URL, or a CSS selector. For
each eligible vendor one page is built (ours, synthetic — our approximation of the measurement
"one synthetic page per fingerprint"):

- a URL pattern becomes a short URL it matches (:func:`example_of`, read from the parsed regex:
  the first alternative, an optional part once, the fewest repeats, a letter or digit for a class), made a
  ``<script src>`` of its own host (``https://`` added) or, for a bare path pattern, of a
  third-party CDN host (``https://cdn.vendor-cdn.example``); a checklist row with several
  patterns (``a | b``) uses the first;
- a CSS selector (``div#id``, ``iframe[src*='host/']``, ``form[action*='host/']``) becomes that
  element, and a form gets the three fields of a contact form (name, email, message) — a form
  builder's form has fields;
- the page has nothing else: a title and one line of text. The JS globals of the checklist are
  runtime names of the loaded widget, not page content, and are not used.

Nothing here is fetched; the pages are built in memory.
"""

from __future__ import annotations

import csv
import json
import re
import re._parser as sre_parse  # the stdlib's regex parser: examples are read from the parsed tree
from dataclasses import dataclass

from tests.shared import shared_folder, skip_unless

ROOT = shared_folder("vendors", "CHANAUDIT_VENDORS", "chat_vendors.csv")
SITE = "https://firm.example/"
CDN = "https://cdn.vendor-cdn.example"


def available() -> bool:
    return (ROOT / "chat_vendors.csv").exists() and (ROOT / "form_builders.csv").exists()


def skip_unless_available():
    """Skip on a developer's machine without the checklists; under CI (CI=true) a missing folder fails."""
    return skip_unless(available(), ROOT, "CHANAUDIT_VENDORS")


# -- regex -> the shortest string it matches ------------------------------------------
def example_of(pattern: str) -> str:
    """A short string the regex matches, read from its parse tree: first alternatives, an optional
    part (``?``) once, other repeats as few times as allowed; a class gives its first letter or
    digit. Raises ValueError if it fails."""
    text = _emit(sre_parse.parse(pattern, re.I))
    if not re.search(pattern, text, re.I):
        raise ValueError(f"no example for {pattern!r} (tried {text!r})")
    return text


def _class_char(items) -> str:
    for op, av in items:
        name = str(op)
        if name == "LITERAL":
            return chr(av)
        if name == "RANGE":
            lo, hi = av
            for ch in "a1":
                if lo <= ord(ch) <= hi:
                    return ch
            return chr(lo)
        if name == "CATEGORY":
            return "1" if "DIGIT" in str(av) else "a"
        if name == "NEGATE":
            return "x" if not any(str(o) == "LITERAL" and a == ord("x") for o, a in items) else "q"
    return "a"


def _emit(tree) -> str:
    out = []
    for op, av in tree:
        name = str(op)
        if name == "LITERAL":
            out.append(chr(av))
        elif name == "NOT_LITERAL":
            out.append("x" if av != ord("x") else "q")
        elif name == "ANY":
            out.append(".")  # a lone "." in a host pattern means a dot (webchat.vendor.net)
        elif name == "IN":
            out.append(_class_char(av))
        elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            low, high, sub = av
            one = "x" if len(sub) == 1 and str(sub[0][0]) == "ANY" else _emit(sub)
            out.append(one * (1 if (low, high) == (0, 1) else low))  # an optional part once: a fuller URL
        elif name == "SUBPATTERN":
            out.append(_emit(av[-1]))
        elif name == "BRANCH":
            out.append(_emit(av[1][0]))
        elif name in ("AT", "ASSERT", "ASSERT_NOT", "GROUPREF"):
            continue
        elif name == "CATEGORY":
            out.append("1" if "DIGIT" in str(av) else "a")
        else:
            raise ValueError(f"regex construct {name} not handled")
    return "".join(out)


def script_url(pattern: str) -> str:
    """A script URL for a loader pattern: its own host when the pattern names one, else a CDN's."""
    text = example_of(pattern.strip())
    text = text.lstrip("^")
    host_part = text.split("/", 1)[0]
    if text.startswith("//"):
        url = "https:" + text
    elif text.startswith(("http://", "https://")):
        url = text
    elif "." in host_part and not text.startswith((".", "/")) and not host_part.endswith((".js", ".min")):
        url = "https://" + text
    elif text.startswith("."):
        url = "https://widget" + text
    else:
        url = CDN + ("" if text.startswith("/") else "/") + text
    if "/" not in url.split("//", 1)[1]:
        url += "/"
    return url


# -- selectors -> elements ------------------------------------------------------------
_SELECTOR = re.compile(r"^(?P<tag>[a-z0-9-]*)(?:#(?P<id>[\w-]+))?(?:\.(?P<cls>[\w-]+))?(?P<attrs>(?:\[[^\]]+\])*)$", re.I)
_ATTR = re.compile(r"\[([\w-]+)(?:([*^$]?=)['\"]?([^'\"\]]*)['\"]?)?\]")
_FORM_FIELDS = ('<input type="text" name="name" placeholder="Name"><input type="email" name="email" '
                'placeholder="Email"><textarea name="message"></textarea><button type="submit">Send</button>')


def element_of(selector: str) -> str:
    """An element matching a simple CSS selector (tag, #id, .class, [attr], [attr*='v'])."""
    m = _SELECTOR.match(selector.strip())
    if not m:
        raise ValueError(f"selector {selector!r} not handled")
    tag = m["tag"] or "div"
    attrs = {}
    if m["id"]:
        attrs["id"] = m["id"]
    if m["cls"]:
        attrs["class"] = m["cls"]
    for name, op, value in _ATTR.findall(m["attrs"] or ""):
        if value and name in ("src", "href", "action") and not value.startswith(("http", "/")):
            value = "https://" + value.lstrip("/.") if "." in value.split("/")[0] else f"{CDN}/{value.lstrip('/')}"
        attrs[name] = value if op else "true"
        if op == "^=":
            attrs[name] = value + "-x"
    rendered = " ".join(f'{k}="{v}"' for k, v in attrs.items())
    inner = _FORM_FIELDS if tag == "form" else ""
    if tag in ("link", "input", "img"):
        return f"<{tag} {rendered}>"
    return f"<{tag} {rendered}>{inner}</{tag}>"


def selectors_of(spec: str) -> list[str]:
    """The selectors of a checklist cell: a JSON list (comma-separated selectors inside) or a JSON
    object whose keys are selectors."""
    data = json.loads(spec)
    keys = list(data) if isinstance(data, dict) else data
    return [s.strip() for key in keys for s in key.split(",")]


# -- the pages -------------------------------------------------------------------------
@dataclass
class VendorPage:
    name: str
    kind: str  # "live chat", "AI chatbot", "form builder"
    fingerprint: str  # the pattern or selector the page was built from
    html: str
    url: str = SITE


def page_for(spec: str, name: str, kind: str) -> VendorPage:
    """The page for one checklist cell: the first pattern of ``a | b``, or the first selector."""
    spec = spec.strip()
    if spec.startswith(("[", "{")):
        selector = selectors_of(spec)[0]
        body = element_of(selector)
        fingerprint = selector
    else:
        first = spec.split(" | ")[0].strip()
        if first.startswith("html:"):
            raise ValueError("an HTML-source fingerprint")
        body = f'<script src="{script_url(first)}" async></script>'
        fingerprint = first
    html = (f"<!doctype html><html lang='en'><head><title>Synthetic page: {name}</title></head>"
            f"<body><p>Synthetic fingerprint page (chanaudit tests).</p>{body}</body></html>")
    return VendorPage(name, kind, fingerprint, html)


def chat_pages() -> tuple[list[VendorPage], list[tuple[str, str, str]]]:
    """(pages, skipped): one page per eligible human live-chat or AI chat vendor of
    ``chat_vendors.csv`` (column ``eligible``), and the vendors no page could be built for, with
    the reason (they count as misses)."""
    pages, skipped = [], []
    with open(ROOT / "chat_vendors.csv", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row["eligible"] != "True" or row["class"] not in ("live chat", "AI chatbot"):
                continue
            try:
                pages.append(page_for(row["suggested_urls"], row["name"], row["class"]))
            except ValueError as exc:
                skipped.append((row["name"], row["class"], str(exc)))
    return pages, skipped


#: form_builders.csv statuses whose vendors are no embed fingerprint: not request forms by design
#: (quizzes, newsletters, pop-ups, calculators), JS-only entries with no loader, and WordPress
#: form plugins, whose assets load on every page of a site (a form is read from its markup).
FORM_NOT_ELIGIBLE = ("not a request form", "not testable", "detected when the plugin form markup is on the page")


def form_pages() -> tuple[list[VendorPage], list[tuple[str, str, str]]]:
    """(pages, not eligible) for ``form_builders.csv``."""
    pages, skipped = [], []
    with open(ROOT / "form_builders.csv", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row["status"].startswith(FORM_NOT_ELIGIBLE):
                skipped.append((row["name"], "form builder", f"not eligible: {row['status']}"))
                continue
            cells = [c.strip() for c in row["patterns"].split(" | ") if c.strip()]
            # a selector (an embed element) speaks for the embed better than an asset URL
            spec = next((c for c in cells if c.startswith(("[", "{"))), cells[0] if cells else "")
            try:
                pages.append(page_for(spec, row["name"], "form builder"))
            except (ValueError, json.JSONDecodeError) as exc:
                skipped.append((row["name"], "form builder", str(exc)))
    return pages, skipped
