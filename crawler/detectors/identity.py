"""Identity: the company's name and its Russian registration numbers (ИНН, ОГРН) — records, not channels.

* ``company``: the ``legalName`` or ``name`` of a JSON-LD node of an organisation type
  (``identity.jsonld``), the ``og:site_name`` meta tag (``identity.og_site_name``), or the page title cut
  at its separators with generic segments («Главная», «Home») dropped, the shortest segment left
  (``identity.title``; the whole title is the snippet).
* ``inn`` / ``ogrn``: a number of the right length after a label of the ``registration`` table of
  ``signatures/contact.yaml`` (the labels the phone detector refuses numbers after), kept only when its
  check digits hold (:func:`valid_inn`, :func:`valid_ogrn`); JSON-LD ``taxID`` gives an ИНН too.

Every record is ``counted=False``: these kinds never set a channel (``RECORD_KINDS`` in the contract).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from chanaudit.core.contract import Evidence, make_snippet
from chanaudit.crawler import jsonld, signatures
from chanaudit.crawler.dom import element_snippet
from chanaudit.crawler.page import ParsedPage

_INN_WEIGHTS_10 = (2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN_WEIGHTS_11 = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN_WEIGHTS_12 = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_NAME_MAX = 120
_TAX_KEYS = frozenset({"taxid"})


def _check(digits: str, weights: tuple[int, ...]) -> int:
    return sum(int(d) * w for d, w in zip(digits, weights, strict=False)) % 11 % 10


def valid_inn(value: str) -> bool:
    """An ИНН with its check digits right (ФНС's algorithm): 10 digits (a company) with one check digit,
    12 (a person) with two. ``7707083893`` (Sberbank) is valid."""
    if not (isinstance(value, str) and value.isascii() and value.isdigit()):
        return False
    if len(value) == 10:
        return _check(value, _INN_WEIGHTS_10) == int(value[9])
    if len(value) == 12:
        return _check(value, _INN_WEIGHTS_11) == int(value[10]) and _check(value, _INN_WEIGHTS_12) == int(value[11])
    return False


def valid_ogrn(value: str) -> bool:
    """An ОГРН (13 digits: the first 12 mod 11, last digit of the remainder) or an ОГРНИП (15 digits: the
    first 14 mod 13). ``1027700132195`` (Sberbank) is valid."""
    if not (isinstance(value, str) and value.isascii() and value.isdigit()) or value[:1] == "0":
        return False
    if len(value) == 13:
        return int(value[:12]) % 11 % 10 == int(value[12])
    if len(value) == 15:
        return int(value[:14]) % 13 % 10 == int(value[14])
    return False


def complete_inn(digits: str) -> str:
    """The valid ИНН that starts with ``digits`` (9 digits: a company's, 11: a person's): check digits added."""
    if len(digits) == 9:
        return digits + str(_check(digits, _INN_WEIGHTS_10))
    if len(digits) == 11:
        eleven = digits[:10] + str(_check(digits[:10], _INN_WEIGHTS_11))
        return eleven + str(_check(eleven, _INN_WEIGHTS_12))
    raise ValueError(f"an ИНН starts with 9 or 11 digits, not {len(digits)}")


def complete_ogrn(digits: str) -> str:
    """The valid ОГРН (12 leading digits) or ОГРНИП (14) that starts with ``digits``."""
    if len(digits) not in (12, 14):
        raise ValueError(f"an ОГРН starts with 12 digits (ОГРНИП 14), not {len(digits)}")
    return digits + str(int(digits) % (11 if len(digits) == 12 else 13) % 10)


VALIDATORS = {"inn": valid_inn, "ogrn": valid_ogrn}
LENGTHS = {"inn": (10, 12), "ogrn": (13, 15)}


@dataclass(frozen=True, slots=True)
class Table:
    numbers: dict[str, re.Pattern]  # kind -> label, a short gap, the digits (group "digits")
    labels: tuple[str, ...]  # every label, lower-case: found with str.find before a regex runs
    organization_types: frozenset[str]
    separators: re.Pattern
    generic: frozenset[str]


@cache
def table() -> Table:
    data = signatures.load("contact")
    numbers = {}
    for kind, labels in data["registration"].items():
        alts = "|".join(re.escape(w) for w in sorted(labels, key=len, reverse=True))
        sizes = "|".join(rf"\d{{{n}}}" for n in sorted(LENGTHS[kind], reverse=True))
        # "ИНН 7707083893", "ИНН: 7707083893", "ИНН/КПП 7707083893/773601001", "ОГРН № 1027700132195"
        numbers[kind] = re.compile(rf"(?<![a-zа-яё])(?:{alts})(?![a-zа-яё])(?:\s*/\s*[a-zа-яё]{{2,6}})?"
                                   rf"[\s:№#.\-–]{{0,8}}(?<!\d)(?P<digits>{sizes})(?!\d)", re.I)
    labels = tuple(sorted({w.lower() for words in data["registration"].values() for w in words}))
    ident = data["identity"]
    seps = "|".join(re.escape(s) for s in sorted(ident["title_separators"], key=len, reverse=True))
    return Table(numbers, labels, frozenset(t.lower() for t in ident["organization_types"]),
                 re.compile(rf"\s+(?:{seps})\s+|\s*(?:\|)\s*"), frozenset(w.lower() for w in ident["generic_titles"]))


def _clean(text: Any) -> str:
    name = " ".join(str(text or "").split())
    return name if len(name) <= _NAME_MAX else name[: _NAME_MAX - 1] + "…"


def title_name(title: str) -> str:
    """The company's name in a page title: segments between separators, generic ones dropped, the
    shortest left ("ИТ-аутсорсинг в Москве — Ромашка" -> "Ромашка"); "" when nothing is left."""
    t = table()
    parts = [p.strip(" \t\"'«»") for p in t.separators.split(" ".join(title.split()))]
    kept = [p for p in parts if len(p) >= 2 and p.lower().rstrip(".!") not in t.generic]
    return _clean(min(kept, key=len)) if kept else ""


def _types(node: dict) -> set[str]:
    kind = node.get("@type")
    kinds = kind if isinstance(kind, list) else [kind]
    return {str(k).rsplit("/", 1)[-1].lower() for k in kinds if isinstance(k, str)}


def _organisations(data: Any, types: frozenset[str]) -> list[dict]:
    """Every dict of an organisation type in a JSON-LD block, at any depth (an explicit stack)."""
    out, stack = [], [data]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if _types(node) & types:
                out.append(node)
            stack.extend(reversed(list(node.values())))
        elif isinstance(node, list):
            stack.extend(reversed(node))
    return out


def detect(page: ParsedPage) -> list[Evidence]:
    t = table()
    found: list[Evidence] = []

    def add(kind: str, value: str, method: str, rule: str, snippet: str) -> None:
        found.append(Evidence(kind, value, page.url, method, rule, make_snippet(snippet), counted=False))

    for script, data in page.json_ld:
        if data is None:
            continue
        for org in _organisations(data, t.organization_types):
            name = next((_clean(org[k]) for k in ("legalName", "name") if isinstance(org.get(k), str)
                         and org[k].strip()), "")
            if name:
                add("company", name, "jsonld", "identity.jsonld", script.text)
        for raw in jsonld.string_fields(data, _TAX_KEYS):
            digits = re.sub(r"\D", "", raw)
            if valid_inn(digits):
                add("inn", digits, "jsonld", "identity.jsonld_inn", script.text)
    for meta in page.tree.iter("meta"):
        if (meta.get("property") or meta.get("name") or "").strip().lower() == "og:site_name":
            name = _clean(meta.get("content"))
            if name:
                add("company", name, "meta", "identity.og_site_name", element_snippet(meta))
    title = next(page.tree.iter("title"), None)
    if title is not None and (title.text or "").strip():
        name = title_name(title.text)
        if name:
            add("company", name, "title", "identity.title", title.text)
    text = page.visible_text
    for kind, m in _numbers(text, t):
        digits = m.group("digits")
        if VALIDATORS[kind](digits):
            add(kind, digits, "text", f"identity.{kind}", text[max(0, m.start() - 20):m.end() + 20])
    return found


def _numbers(text: str, t: Table) -> list[tuple[str, re.Match]]:
    """(kind, match) of every labelled number in ``text``, in document order. The labels are found with
    ``str.find`` in the lower-cased text and each pattern is tried only there: a case-insensitive regex over a
    whole page costs ten times more (a page rarely holds a label at all)."""
    low = text.lower()
    if len(low) != len(text):  # a letter whose lower case is longer (İ): positions differ, read it all
        return sorted(((k, m) for k, p in t.numbers.items() for m in p.finditer(text)), key=lambda km: km[1].start())
    starts = set()
    for label in t.labels:
        at = low.find(label)
        while at >= 0:
            starts.add(at)
            at = low.find(label, at + 1)
    out = []
    for at in sorted(starts):
        for kind, pattern in t.numbers.items():
            m = pattern.match(text, at)
            if m is not None:
                out.append((kind, m))
                break
    return out
