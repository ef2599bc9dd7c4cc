"""Web forms: request and callback forms, and embedded form services.

Evidence values (channel ``form``):

``request``
    a form to send a request, question or message: a message box (textarea)
    and/or at least two contact fields (name, phone, email, company). Its
    sub-type (support, question, order, feedback, contact) goes to ``detail``.
``callback``
    name + phone and nothing else («Заказать звонок»), or a lone phone field
    with callback words.
``embed:<service>``
    a form service (``signatures/forms.yaml``): a widget that draws its form
    from a script or iframe (Bitrix24, HubSpot, Typeform…); a hosted form
    page linked from the page (Google Forms, Yandex Forms…: the form is one
    click away, the same way a portal link counts for the portal channel;
    survey and job-application links excluded); or an in-page ``<form>``
    built with a service (Contact Form 7, Tilda, Formspree, Netlify…), which
    is also classified by its fields like any other form.

Rules: ``form.request`` / ``form.callback`` for a ``<form>``,
``form.formless.request`` / ``form.formless.callback`` for fields outside
any ``<form>``, ``form.embed.<service>`` for a form service.

Not requests: login/registration (a password field), site search, GET
lookups (coverage check, tariff selector), newsletters, quizzes, blog
comments, job applications, shop checkouts, a chat widget's own form. Inputs
outside any ``<form>`` (JS forms) are grouped by their nearest ancestor with a
button and judged by the same rules; read-only and hidden fields (a
calculator's outputs) do not count. Forms in hidden modals count; forms in
HTML comments never reach the parsed views.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import urlsplit

from lxml import etree

from chanaudit.core.contract import Evidence, make_snippet
from chanaudit.crawler import signatures
from chanaudit.crawler.detectors.anchors import LiteralIndex, anchors
from chanaudit.crawler.detectors.jscode import strip_js_comments
from chanaudit.crawler.dom import element_snippet, text_of
from chanaudit.crawler.page import ParsedPage
from chanaudit.crawler.textwalk import NO_TEXT, element_text, heading_before

_SKIP_TYPES = frozenset({"hidden", "submit", "button", "image", "reset", "checkbox", "radio", "file", "range",
                         "color"})
_CONTACT = ("name", "phone", "email", "company")
#: The field kinds the rules name; forms.yaml's `fields` gives their tokens and the order they are tried in.
_KINDS = frozenset({"search", "login", "email", "phone", "company", "name", "message"})
#: How the detector uses an `exclude` row (its `when`): tried on every form first, in table order;
#: the words or markers of the structural rule of the same id; the words of a hosted-form link.
_WHEN = ("always", "structural", "hosted-link")
_HINT_ATTRS = ("aria-label", "title", "data-name", "data-label", "data-placeholder")
_JS_TYPES = ("", "text/javascript", "application/javascript", "module", "text/ecmascript")
_FIELDS = etree.XPath(".//input | .//textarea | .//select")


def _tokens(tokens: list[str]) -> re.Pattern:
    """Lower-case substrings; a token of up to 3 letters must start a word ("tel" not in "hotel")."""
    short = [t for t in tokens if len(t) <= 3]
    long = sorted((t for t in tokens if len(t) > 3), key=len, reverse=True)
    parts = ["|".join(re.escape(t) for t in long)] if long else []
    if short:
        parts.append(r"(?<![^\W\d_])(?:" + "|".join(re.escape(t) for t in short) + ")")
    return re.compile("|".join(parts))


def _words(words: list[str]) -> re.Pattern | None:
    """Whole words or word starts (Russian endings vary: рассылк-у, ваканси-и)."""
    if not words:
        return None
    alts = "|".join(re.escape(w.lower()) for w in sorted(words, key=len, reverse=True))
    return re.compile(rf"(?<![\w])(?:{alts})")


def _literals(words: tuple[str, ...] | None) -> re.Pattern | None:
    return re.compile("|".join(re.escape(w) for w in words), re.I) if words else None


def _alternation(patterns: list[tuple[int, list[str]]]) -> re.Pattern | None:
    parts = [f"(?P<e{i}>{'|'.join(p)})" for i, p in patterns if p]
    return re.compile("|".join(parts), re.I) if parts else None


@dataclass(frozen=True)
class Exclusion:
    id: str
    words: re.Pattern | None
    actions: re.Pattern | None
    markers: re.Pattern | None  # over the joined tag/id/class of the form and its `reach` wrappers
    reach: int


@dataclass(frozen=True)
class Table:
    kinds: dict[str, re.Pattern]  # in the order they are tried
    autocomplete: dict[str, str]  # autocomplete token -> kind
    search_names: frozenset[str]
    ignore_fields: frozenset[str]
    mask_attrs: tuple[str, ...]  # attributes that hold an input mask (data-mask="+7 (999) 999-99-99")
    number_names: frozenset[str]  # a field named so is a phone under callback words (name="number")
    subtypes: list[tuple[str, re.Pattern]]
    callback: re.Pattern
    exclusions: dict[str, Exclusion]
    screens: tuple[Exclusion, ...]  # the `when: always` rows, in table order
    embed_ids: list[str]
    scripts: re.Pattern | None  # one named group per embed row: e0, e1...
    frames: re.Pattern | None
    links: re.Pattern | None
    script_hints: LiteralIndex | None  # lower-case literals of `scripts` / `links`: a cheap test first
    link_hints: LiteralIndex | None
    actions: re.Pattern | None
    form_classes: dict[str, int]
    form_attributes: dict[str, int]
    form_inputs: dict[str, int]
    dom: list[tuple[int, str]]
    hosts: dict[str, int]  # an embed host (or a domain of its subdomains) -> row
    frame_words: frozenset[str]  # form.generic_frame: words of a frame's host or path
    frame_not_words: frozenset[str]
    frame_not_extensions: frozenset[str]


@cache
def table() -> Table:
    data = signatures.load("forms")
    embeds = data["embeds"]
    if set(data["fields"]) != _KINDS:
        raise ValueError(f"forms.yaml: `fields` must list the kinds {sorted(_KINDS)}, not {sorted(data['fields'])}")
    exclusions = {}
    for row in data["exclude"]:
        if row.get("when") not in _WHEN:
            raise ValueError(f"forms.yaml: exclude row {row['id']}: `when` must be one of {', '.join(_WHEN)}")
        actions = re.compile("|".join(row["actions"]), re.I) if row.get("actions") else None
        markers = _literals(tuple(row.get("markers", [])))
        exclusions[row["id"]] = Exclusion(row["id"], _words(row.get("words", [])), actions, markers,
                                          int(row.get("reach", 30)))

    def index(key: str) -> dict[str, int]:
        return {name: i for i, e in enumerate(embeds) for name in e.get(key, [])}

    return Table(
        kinds={k: _tokens(tokens) for k, tokens in data["fields"].items()},
        autocomplete=dict(data["autocomplete"]),
        search_names=frozenset(data["search_names"]),
        ignore_fields=frozenset(data["ignore_fields"]),
        mask_attrs=tuple(data["phone_masks"]["attributes"]),
        number_names=frozenset(data["phone_masks"]["number_names"]),
        subtypes=[(k, _words(v)) for k, v in data["subtypes"].items()],
        callback=_words(data["callback"]),
        exclusions=exclusions,
        screens=tuple(exclusions[row["id"]] for row in data["exclude"] if row["when"] == "always"),
        embed_ids=[e["id"] for e in embeds],
        scripts=_alternation([(i, e.get("scripts", [])) for i, e in enumerate(embeds)]),
        frames=_alternation([(i, e.get("frames", [])) for i, e in enumerate(embeds)]),
        links=_alternation([(i, e.get("links", [])) for i, e in enumerate(embeds)]),
        script_hints=_hints([p for e in embeds for p in e.get("scripts", [])]),
        link_hints=_hints([p for e in embeds for p in e.get("links", [])]),
        actions=_alternation([(i, e.get("actions", [])) for i, e in enumerate(embeds)]),
        form_classes={k.lower(): v for k, v in index("form_classes").items()},
        form_attributes=index("form_attributes"),
        form_inputs=index("form_inputs"),
        dom=[(i, sel) for i, e in enumerate(embeds) for sel in e.get("dom", [])],
        hosts={h.lower(): i for i, e in enumerate(embeds) for h in e.get("hosts", [])},
        frame_words=frozenset(data["generic_frame"]["words"]),
        frame_not_words=frozenset(data["generic_frame"]["not_words"]),
        frame_not_extensions=frozenset(data["generic_frame"]["not_extensions"]),
    )


# -- fields ------------------------------------------------------------------
def _visible_field(el) -> bool:
    """A field a visitor fills in: not hidden, a button, a checkbox, read-only or disabled."""
    if el.tag == "input" and (el.get("type") or "text").lower() in _SKIP_TYPES:
        return False
    if el.get("readonly") is not None or el.get("disabled") is not None:
        return False
    style = (el.get("style") or "").replace(" ", "").lower()
    return "display:none" not in style and "visibility:hidden" not in style


def _nearby_text(el) -> str:
    """The short text just before a field: a preceding label-like element or the parent's own text."""
    node = el
    for _ in range(3):
        prev = node.getprevious()
        while prev is not None:
            if isinstance(prev.tag, str):
                tail = prev.tail  # each read decodes a new str: read once
                if tail and not tail.isspace():
                    return tail.strip()[:60]
                if prev.tag in ("input", "select", "textarea"):
                    return ""
                text = text_of(prev).strip() if prev.tag not in NO_TEXT else ""
                if text:
                    return text[-60:]
            prev = prev.getprevious()
        parent = node.getparent()
        if parent is None or parent.tag in ("form", "body"):
            return ""
        text = parent.text
        if text and not text.isspace():
            return text.strip()[:60]
        node = parent
    return ""


def field_kind(el, labels: dict[str, str], t: Table | None = None) -> str | None:
    """search, login, password, email, phone, company, name, message, other; None for no visible field.

    Sources, most reliable first: the type, autocomplete, the label, the name
    and id, aria-label/title, the placeholder (or an old-style value hint),
    and the short text just before the field.
    """
    if not _visible_field(el):
        return None
    t = table() if t is None else t
    ftype = (el.get("type") or "text").lower()
    name = (el.get("name") or "").lower()
    if name in t.ignore_fields or (el.get("id") or "").lower() in t.ignore_fields:
        return None
    if el.tag == "textarea":
        return "message"
    if ftype == "password":
        return "password"
    if ftype in ("email", "tel", "search"):
        return {"tel": "phone"}.get(ftype, ftype)
    auto = t.autocomplete.get((el.get("autocomplete") or "").lower().split(" ")[-1])
    if auto:
        return auto
    label = labels.get(el.get("id") or "", "")
    parent = el.getparent()
    for _ in range(2):
        if parent is None:
            break
        if parent.tag == "label":
            label += " " + " ".join(parent.itertext())
            break
        parent = parent.getparent()
    value = el.get("value") if el.tag == "input" and not (el.get("value") or "0").strip().isdigit() else ""
    for text in (label, f"{name} {el.get('id') or ''}", " ".join(el.get(a) or "" for a in _HINT_ATTRS),
                 f"{el.get('placeholder') or ''} {value}"):
        kind = _match_kind(text.lower(), t)
        if kind:
            return kind
    if _phone_shaped(el, t):
        return "phone"
    if name in t.search_names:
        return "search"
    nearby = _match_kind(_nearby_text(el).lower(), t)
    if nearby:
        return nearby
    return "number" if name in t.number_names or ftype == "number" else "other"


#: A placeholder or mask that is a phone number's shape: "+7 (___) ___-__-__", "8 (999) 000-00-00",
#: "(555) 555-5555" — digits or blanks (_ x X * #) in groups, at least seven of them.
_PHONE_SHAPE = re.compile(r"^[+(]?[\d_xX*#9][\d_xX*#\s()\-.+]{5,}[\d_xX*#]$")


def _phone_shaped(el, t: Table) -> bool:
    """A field known as a phone only by its input mask or a placeholder in a phone number's shape."""
    for value in (el.get("placeholder") or "", *(el.get(a) or "" for a in t.mask_attrs)):
        value = value.strip()
        if value and _PHONE_SHAPE.match(value) and sum(ch.isdigit() or ch in "_xX*#" for ch in value) >= 7:
            return True
    return False


def _match_kind(text: str, t: Table) -> str | None:
    if text:
        for kind, tokens in t.kinds.items():
            if tokens.search(text):
                return kind
    return None


# -- containers ----------------------------------------------------------------
def _text(container, limit: int = 800) -> str:
    """Visible text of a form (no option lists, scripts or typed-in text), whitespace collapsed, lower-case."""
    return " ".join(element_text(container, limit).split())[:limit].lower()


def buttons(container) -> list:
    """Buttons of a form or block: <button>, submit/button inputs, a.btn links, role=button elements."""
    out = []
    for el in container.iter("button", "input", "a", "div", "span"):
        tag = el.tag
        if tag == "button" or el.get("role") == "button":
            out.append(el)
        elif tag == "input":
            if (el.get("type") or "").lower() in ("submit", "button", "image"):
                out.append(el)
        elif tag == "a" and ("btn" in (classes := el.get("class") or "") or "button" in classes):
            out.append(el)
    return out


def _buttons(container) -> str:
    return " ".join(" ".join(b.itertext()) + " " + (b.get("value") or "") + " " + (b.get("aria-label") or "")
                    for b in buttons(container)).lower()


def _heading(container) -> str:
    """The heading just before a form (a modal's «Заказать звонок» above the form)."""
    return " ".join(heading_before(container, 2, 3).split())[:120].lower()


def _marks(container) -> list[str]:
    """tag, id and class of the container and of its ancestors, nearest first."""
    out = []
    for el in (container, *container.iterancestors()):
        if isinstance(el.tag, str):
            out.append(f"{el.tag} {el.get('id') or ''} {el.get('class') or ''} {el.get('role') or ''}".lower())
    return out


@dataclass(frozen=True, slots=True)
class Verdict:
    """The judgement on one form: ``value`` (request/callback) or None, and why."""

    value: str | None
    reason: str  # sub-type (support, question, order, feedback, contact, callback) or exclusion id
    kinds: tuple[str, ...]

    @property
    def detail(self) -> str:
        return f"{self.reason}; fields: {','.join(self.kinds)}"


def classify(container, fields: list[Any], labels: dict[str, str] | None = None, method: str = "",
             t: Table | None = None) -> Verdict:
    """Judge a ``<form>`` (or a formless block) from its fields, buttons, words and wrappers."""
    t = table() if t is None else t
    labels = labels if labels is not None else _labels(container)
    kinds = tuple(k for k in (field_kind(f, labels, t) for f in fields) if k)
    if not kinds:
        return Verdict(None, "no-fields", kinds)
    if "password" in kinds:
        return Verdict(None, "login", kinds)
    if "login" in kinds:  # no password: a "userName" field asks for the visitor's name
        kinds = tuple("name" if k == "login" else k for k in kinds)
    words = None
    if "number" in kinds and "phone" not in kinds:
        words = " ".join((_buttons(container), _heading(container), _text(container)))
        if t.callback.search(words):  # a "number" field under callback words is the phone
            kinds = tuple("phone" if k == "number" else k for k in kinds)
    contact = sum(k in _CONTACT for k in kinds)
    message = "message" in kinds
    marks = _marks(container)
    all_marks = "|".join(marks)
    action = (container.get("action") or "").lower()
    if words is None:
        words = " ".join((_buttons(container), _heading(container), _text(container)))
    ex = t.exclusions
    for rule in t.screens:
        if (rule.markers and rule.markers.search(all_marks if rule.reach >= 30 else "|".join(marks[: rule.reach + 1]))) or \
                (rule.actions and rule.actions.search(action)) or (rule.words and rule.words.search(words)):
            return Verdict(None, rule.id, kinds)
    if contact == 0 and not message:
        search = ex["search"]
        if "search" in kinds or search.markers.search("|".join(marks[: search.reach + 1])):
            return Verdict(None, "search", kinds)
        if method == "get":
            return Verdict(None, "lookup", kinds)
    if kinds.count("email") == 1 and not message and "phone" not in kinds and contact <= 1 + kinds.count("name") \
            and ex["newsletter"].words.search(words):
        return Verdict(None, "newsletter", kinds)
    if message or contact >= 2:
        if not message and "phone" in kinds and "email" not in kinds:
            return Verdict("callback", "callback", kinds)
        subtype = next((name for name, pattern in t.subtypes if pattern.search(words)), "contact")
        return Verdict("request", subtype, kinds)
    if "phone" in kinds and t.callback.search(words):
        return Verdict("callback", "callback", kinds)
    return Verdict(None, "too-few-fields", kinds)


def _labels(root) -> dict[str, str]:
    """label[for] id -> label text."""
    return {lab.get("for"): " ".join(" ".join(lab.itertext()).split()) for lab in root.iter("label") if lab.get("for")}


def _loose_groups(page: ParsedPage) -> list[tuple[Any, list[Any]]]:
    """Fields outside any <form>, grouped under their nearest ancestor that has a button."""
    tags = page.index.tags
    if "input" not in tags and "textarea" not in tags:
        return []
    # Keyed by the element itself, not id(): lxml makes a new proxy object for a node whenever none is
    # alive, so the id of a proxy already freed can come back for another node (groups then merged or
    # split by memory layout). A proxy held as a key stays alive, and getparent() returns it again.
    groups: dict[Any, list[Any]] = {}
    has_button: dict[Any, bool] = {}
    for el in page.tree.iter("input", "textarea", "select"):
        if not _visible_field(el) or next(el.iterancestors("form"), None) is not None:
            continue
        node = el.getparent()
        for _ in range(6):
            if node is None or node.tag in ("body", "html"):
                node = None
                break
            if node not in has_button:
                has_button[node] = bool(buttons(node))
            if has_button[node]:
                break
            node = node.getparent()
        if node is not None:
            groups.setdefault(node, []).append(el)
    return list(groups.items())


# -- services ----------------------------------------------------------------
def form_service(form, t: Table | None = None) -> int | None:
    """The embed row whose marks are on this <form> (action, class of it or its wrappers, attribute, input)."""
    t = table() if t is None else t
    action = form.get("action") or ""
    if action and t.actions is not None:
        m = t.actions.search(action)
        if m:
            return int(m.lastgroup[1:])
    for attr in form.attrib:
        if attr in t.form_attributes:
            return t.form_attributes[attr]
    node = form
    for _ in range(4):
        for cls in (node.get("class") or "").lower().split():
            if cls in t.form_classes:
                return t.form_classes[cls]
        node = node.getparent()
        if node is None:
            break
    if t.form_inputs:
        for inp in form.iter("input"):
            name = inp.get("name")
            if name in t.form_inputs and (inp.get("type") or "").lower() == "hidden":
                return t.form_inputs[name]
    return None


def detect(page: ParsedPage) -> list[Evidence]:
    t = table()
    found: list[Evidence] = []
    seen: set[tuple[str, str]] = set()

    def add(value: str, method: str, rule: str, snippet: str, detail: str = "") -> None:
        if (value, rule) not in seen:
            seen.add((value, rule))
            found.append(Evidence("form", value, page.url, method, rule, make_snippet(snippet), detail))

    labels = _labels(page.tree) if page.forms or "label" in page.index.tags else {}
    for form in page.forms:
        verdict = classify(form, _FIELDS(form), labels, (form.get("method") or "").lower(), t)
        if verdict.value:
            add(verdict.value, "form_tag", f"form.{verdict.value}", element_snippet(form), verdict.detail)
        service = form_service(form, t)
        if service is not None and (verdict.value or (verdict.reason == "too-few-fields" and len(verdict.kinds) >= 2)):
            sid = t.embed_ids[service]
            add(f"embed:{sid}", "form_marker", f"form.embed.{sid}", element_snippet(form), verdict.detail)

    for container, fields in _loose_groups(page):
        verdict = classify(container, fields, labels, "", t)
        if verdict.value:
            add(verdict.value, "formless", f"form.formless.{verdict.value}", element_snippet(container),
                "formless " + verdict.detail)

    named: set[Any] = set()  # frames a row names
    for index, method, el, detail in _embed_hits(page, t):
        sid = t.embed_ids[index]
        add(f"embed:{sid}", method, f"form.embed.{sid}", element_snippet(el), detail)
        if method == "iframe":
            named.add(el)
    for src, el in page.iframes:
        if el not in named and src and _form_frame(src, t):
            add("embed:frame", "iframe", "form.generic_frame", element_snippet(el), urlsplit(src).hostname or "")
    return found


_URL_WORDS = re.compile(r"[a-z0-9]+")


def _host_row(url: str, t: Table) -> int | None:
    """The row whose embed host serves ``url`` (that host or a subdomain of it)."""
    if not t.hosts:
        return None
    labels = (urlsplit(url).hostname or "").split(".")
    for k in range(len(labels) - 1):
        index = t.hosts.get(".".join(labels[k:]))
        if index is not None:
            return index
    return None


def _form_frame(src: str, t: Table) -> bool:
    """form.generic_frame: the first label of the frame's host or a segment of its path names a
    form or booking page; a survey does not count, nor a file."""
    parts = urlsplit(src.lower())
    path = parts.path or "/"
    if path.rpartition(".")[2] in t.frame_not_extensions:
        return False
    words = set(_URL_WORDS.findall(path)) | {(parts.hostname or "").split(".")[0]}
    return bool(words & t.frame_words) and not words & t.frame_not_words


def _hints(patterns: list[str]) -> LiteralIndex | None:
    literals = anchors(patterns)
    return LiteralIndex(literals) if literals is not None else None


def _hinted_urls(urls: list[str], hints: LiteralIndex | None):
    """A test of one URL: may a row's pattern match it? The hints (literals of the rows' patterns)
    present in all the URLs are found at once; a URL is worth the (long) alternation only when it
    holds one of those few. Searching every link of a page with 60 hosted-form patterns cost 25 ms
    on the dense benchmark page."""
    if hints is None:
        return lambda url: True
    found = tuple(hints.present("\n".join(urls).lower())) if urls else ()
    if not found:
        return lambda url: False
    return lambda url: any(h in url.lower() for h in found)


def _embed_hits(page: ParsedPage, t: Table):
    """(row, method, element, detail) for widget scripts, iframes, hosted-form links and DOM marks."""
    if t.scripts is not None:
        srcs = [s for s in page.scripts if s.src]
        hinted = _hinted_urls([s.src for s in srcs], t.script_hints)
        for script in srcs:
            m = t.scripts.search(script.src) if hinted(script.src) else None
            index = int(m.lastgroup[1:]) if m else _host_row(script.src, t)
            if index is not None:
                yield index, "script_src", script.element, ""
        code = [s for s in page.scripts if not s.src and s.text and (s.element.get("type") or "").lower() in _JS_TYPES]
        # page.code holds these scripts (and more): its words, read once per page, pre-filter them
        if code and (t.script_hints is None or t.script_hints.present(page.code, page.code_words)):
            for script in code:
                if t.scripts.search(script.text):
                    m = t.scripts.search(strip_js_comments(script.text))
                    if m:
                        yield int(m.lastgroup[1:]), "inline_script", script.element, ""
    if t.frames is not None:
        for src, el in page.iframes:
            m = t.frames.search(src) if src else None
            index = int(m.lastgroup[1:]) if m else (_host_row(src, t) if src else None)
            if index is not None:
                yield index, "iframe", el, ""
    if t.links is not None:
        hinted = _hinted_urls([link.url for link in page.links], t.link_hints)
        not_request = t.exclusions["hosted-link-not-request"].words
        for link in page.links:
            m = t.links.search(link.url) if link.url and hinted(link.url) else None
            if m and not (not_request and not_request.search(link.text.lower())):
                yield int(m.lastgroup[1:]), "link", link.element, "linked hosted form: " + link.text[:80]
    for index, selector in t.dom:
        els = page.select(selector)
        if els:
            yield index, "dom", els[0], selector
