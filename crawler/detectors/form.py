"""Web forms: request, question and callback forms; embedded form services.

A form is a request form when it has a message box (textarea) or at least two
contact fields (name, phone, email, company); «Заказать звонок» forms (name +
phone) are callbacks. Not request forms: site search, login/registration
(password field), newsletter sign-up, quizzes. Inputs outside any ``<form>``
(JS forms) are grouped by their container. Vocabulary: ``signatures/forms.yaml``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml
from lxml import etree

from crawler.evidence import Evidence, make_snippet
from crawler.page import ParsedPage, element_snippet

_DATA = Path(__file__).resolve().parents[1] / "signatures" / "forms.yaml"
_SKIP_TYPES = {"hidden", "submit", "button", "image", "reset", "checkbox", "radio", "file", "range", "color"}
_FIELDS = etree.XPath(".//input | .//textarea | .//select")
_BUTTONS = etree.XPath(".//button | .//input[@type='submit' or @type='button'] | .//*[@role='button']"
                       " | .//a[contains(@class,'btn') or contains(@class,'button')]")


@dataclass(frozen=True)
class Rules:
    kinds: dict[str, tuple[str, ...]]
    search_names: frozenset[str]
    words: dict[str, re.Pattern]
    embeds: list[tuple[str, re.Pattern | None, list[str], re.Pattern | None]]
    embed_urls: re.Pattern  # all embed URL patterns, one named group per service (e0, e1...)
    exclude_urls: re.Pattern


@lru_cache(maxsize=1)
def rules() -> Rules:
    data = yaml.safe_load(_DATA.read_text(encoding="utf-8"))
    kinds = {k: tuple(v) for k, v in data["fields"].items() if k != "search_names"}
    words = {k: re.compile("|".join(re.escape(w) for w in v), re.I) for k, v in data["words"].items()}
    embeds = []
    for e in data["embeds"]:
        urls = re.compile("|".join(e["urls"]), re.I) if e.get("urls") else None
        attrs = list(e.get("attributes", []))
        glob = re.compile("|".join(e["globals"]), re.I) if e.get("globals") else None
        embeds.append((e["id"], urls, attrs, glob))
    combined = re.compile("|".join(f"(?P<e{i}>{'|'.join(e['urls'])})" for i, e in enumerate(data["embeds"])
                                   if e.get("urls")), re.I)
    return Rules(kinds, frozenset(data["fields"]["search_names"]), words, embeds, combined,
                 re.compile("|".join(data["exclude_urls"]), re.I))


def _labels(el, form) -> str:
    parts = [el.get(a) or "" for a in ("name", "id", "placeholder", "aria-label", "title", "data-name")]
    fid = el.get("id")
    if fid:
        parts += [lab.text_content() for lab in form.xpath(".//label[@for=$fid]", fid=fid)]
    parent = el.getparent()
    if parent is not None and parent.tag == "label":
        parts.append(parent.text_content())
    return " ".join(parts).lower()


def field_kind(el, form, r: Rules) -> str | None:
    tag = el.tag
    ftype = (el.get("type") or "text").lower()
    if tag == "input" and ftype in _SKIP_TYPES:
        return None
    if ftype == "password":
        return "password"
    if tag == "textarea":
        return "message"
    if ftype == "search":
        return "search"
    if ftype == "email":
        return "email"
    if ftype == "tel":
        return "phone"
    text = _labels(el, form)
    name = (el.get("name") or "").lower()
    if any(token in text for token in r.kinds["search"]):
        return "search"
    if name in r.search_names and not any(t in text for t in r.kinds["message"] if t != "text"):
        return "search"
    for kind in ("email", "phone", "name", "company", "message"):
        if any(token in text for token in r.kinds[kind]):
            return kind
    return "other"


def classify(container, r: Rules, method: str = "post") -> tuple[str | None, str]:
    """(value or None, detail) for a form-like container."""
    kinds = [k for k in (field_kind(el, container, r) for el in _FIELDS(container)) if k]
    text = " ".join(container.text_content().split()).lower()
    buttons = " ".join((b.text_content() or "") + " " + (b.get("value") or "") for b in _BUTTONS(container)).lower()
    detail = "fields: " + ",".join(kinds)
    contact = sum(kinds.count(k) for k in ("name", "phone", "email", "company"))
    if not kinds:
        return None, detail
    if "password" in kinds:
        return None, "login/registration: " + detail
    if "search" in kinds and contact == 0 and "message" not in kinds:
        return None, "search: " + detail
    marks = " ".join(container.get(a) or "" for a in ("action", "class", "id", "role", "name")).lower()
    if ("search" in marks or "poisk" in marks) and contact == 0 and len(kinds) <= 2:
        return None, "search: " + detail
    if method == "get" and len(kinds) <= 2 and "message" not in kinds and contact < 2:
        return None, "GET lookup: " + detail
    if r.words["quiz"].search(text):
        return None, "quiz: " + detail
    if kinds.count("email") == 1 and contact == 1 + kinds.count("name") and "message" not in kinds and \
            "phone" not in kinds and r.words["newsletter"].search(text + " " + buttons):
        return None, "newsletter: " + detail
    if "message" in kinds or contact >= 2:
        if r.words["callback"].search(buttons or text) and "message" not in kinds and "email" not in kinds:
            return "callback", detail
        if r.words["question"].search(buttons + " " + text[:300]):
            return "question", detail
        return "request", detail
    if "phone" in kinds and r.words["callback"].search(text + " " + buttons):
        return "callback", detail
    return None, "too few fields: " + detail


def detect(page: ParsedPage) -> list[Evidence]:
    r = rules()
    found: list[Evidence] = []
    seen: set[tuple[str, str]] = set()

    def add(value: str, method: str, rule: str, snippet: str, detail: str = "") -> None:
        if (value, rule) not in seen:
            seen.add((value, rule))
            found.append(Evidence("form", value, page.url, method, rule, make_snippet(snippet), detail))

    for form in page.forms:
        action = (form.get("action") or "").lower()
        if action and r.exclude_urls.search(action):
            continue
        value, detail = classify(form, r, (form.get("method") or "post").lower())
        if value:
            add(value, "form_tag", f"form.{value}", element_snippet(form), detail)

    for container in _loose_containers(page):
        value, detail = classify(container, r)
        if value:
            add(value, "formless", f"form.formless.{value}", element_snippet(container), detail)

    # Embedded services: one pass over scripts, iframes and links with all URL patterns.
    hits: dict[int, tuple[str, str]] = {}
    sources = [("script", script.src or script.text or "", script.element) for script in page.scripts]
    sources += [("iframe", src, el) for src, el in page.iframes]
    sources += [("link", link.url, link.element) for link in page.links if link.url]
    for method, text, el in sources:
        if not text or (method == "link" and r.exclude_urls.search(text)):
            continue
        for m in r.embed_urls.finditer(text):
            hits.setdefault(int(m.lastgroup[1:]), (method, element_snippet(el)))
    for i, (embed_id, _urls, attrs, glob) in enumerate(r.embeds):
        hit = hits.get(i)
        for selector in attrs if hit is None else ():
            els = page.select(selector)
            if els:
                hit = ("attribute", element_snippet(els[0]))
                break
        if hit is None and glob is not None:
            for script in page.scripts:
                if not script.src and script.text and glob.search(script.text):
                    hit = ("js_global", make_snippet(script.text))
                    break
        if hit:
            add(f"embed:{embed_id}", hit[0], f"form.embed.{embed_id}", hit[1])
    return found


def _loose_containers(page: ParsedPage) -> list:
    """Containers of inputs that sit outside any <form>: the nearest ancestor with a button."""
    out, ids = [], set()
    if "input" not in page.index.tags and "textarea" not in page.index.tags:
        return out
    loose = [el for el in page.tree.iter("input", "textarea")
             if not any(a.tag == "form" for a in el.iterancestors())]
    for field in loose:
        node = field.getparent()
        for _ in range(5):
            if node is None or node.tag in ("body", "html"):
                node = None
                break
            if _BUTTONS(node):
                break
            node = node.getparent()
        if node is not None and id(node) not in ids:
            ids.add(id(node))
            out.append(node)
    return out
