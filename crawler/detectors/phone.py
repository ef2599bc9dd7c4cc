"""Phone: tel:/callto: links and text numbers via ``phonenumbers``, region from the site.

Text is assembled per block: text nodes inside one block element are joined
with a space (so ``<span>+7 (863)</span> 267-85-37`` is one number), blocks
are separated by line breaks (which the matcher never crosses). Numbers next
to ИНН/ОГРН/КПП/р/с are rejected (the identity detector reads ИНН and ОГРН); bare digit runs need a phone label nearby.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from urllib.parse import unquote

import phonenumbers
from phonenumbers import PhoneNumberFormat, PhoneNumberMatcher

from chanaudit.core.contract import Evidence, make_snippet
from chanaudit.crawler import jsonld, signatures
from chanaudit.crawler.dom import element_snippet
from chanaudit.crawler.page import ParsedPage
from chanaudit.crawler.textwalk import matches_by_line

_DIGITS = re.compile(r"\d")
_PHONE_KEYS = frozenset({"telephone", "phone"})
#: Seven or more characters of digits and separators, from a digit to a digit (the digit at the
#: start lets the regex engine skip all other text: 4x faster than a run that may start with a space).
_RUN = re.compile(r"\d[\d\s()\-‐‑‒–—.+\u00a0]{5,}\d")
#: Dates and year ranges ("04.09.2014", "1999–2014"): never phones, and a news list of them
#: would send every line through the (slow) matcher; removed before the cheap pre-filter only.
_DATES = re.compile(r"(?<![\d.])\d{1,2}[./]\d{1,2}[./](?:\d{4}|\d{2})(?![\d.])|(?<!\d)(?:19|20)\d\d\s*[–—-]\s*(?:19|20)\d\d(?!\d)")


@dataclass(frozen=True, slots=True)
class Table:
    labels: re.Pattern  # a glued number or a bare digit run counts only next to one of these
    forbidden: re.Pattern  # a number within `context` characters after one of these is refused
    context: int
    min_digits: int


@cache
def table() -> Table:
    data = signatures.load("contact")["phone"]

    def words(items):
        alts = "|".join(re.escape(w) for w in sorted(items, key=len, reverse=True))
        return re.compile(rf"(?<![a-zа-яё])(?:{alts})(?![a-zа-яё])", re.I)

    return Table(words(data["labels"]), words([*data["forbidden"], *registration_labels()]),
                 int(data["context_chars"]), int(data["min_digits"]))


def registration_labels() -> list[str]:
    """The labels of the registration numbers (ИНН, ОГРН…: ``registration`` in contact.yaml), shared with
    the identity detector, which reads the numbers the phone detector refuses."""
    return [word for words in signatures.load("contact")["registration"].values() for word in words]


def e164(number) -> str:
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def parse_href(raw: str, region: str):
    """A tel:/callto: target -> PhoneNumber or None (the region is used when no + is given)."""
    text = unquote(raw).split(";")[0].split("?")[0].strip()
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if phonenumbers.is_valid_number(number) or phonenumbers.is_possible_number(number):
        return number
    return None


def _parse_in(raw: str, regions: tuple[str, ...]):
    """:func:`parse_href` in the first of ``regions`` that makes the number valid, else as the first
    region reads it (a possible number)."""
    first = parse_href(raw, regions[0])
    if first is None or phonenumbers.is_valid_number(first) or len(regions) == 1:
        return first
    for region in regions[1:]:
        number = parse_href(raw, region)
        if number is not None and phonenumbers.is_valid_number(number):
            return number
    return first


_HAS_DIGIT = re.compile(r"\d[^\x00]*")  # one match per text node that holds a digit (nodes joined by NUL)


def _digit_lines(page: ParsedPage) -> list[tuple[str, list[str]]]:
    """The lines that hold a run of digits: a line is the text of one block (its inline text
    nodes joined by spaces, each whitespace-collapsed), with its text nodes. Only blocks with a
    digit are assembled; one regex pass over all nodes finds them."""
    nodes, blocks = page.text_nodes, page.text_blocks
    lines: list[tuple[str, list[str]]] = []
    end = 0  # nodes before this index belong to lines already taken
    for i, _m in matches_by_line(_HAS_DIGIT, nodes, "\x00"):
        if i < end:
            continue
        block, start, end = blocks[i], i, i + 1
        while start > 0 and blocks[start - 1] is block:
            start -= 1
        while end < len(nodes) and blocks[end] is block:
            end += 1
        parts = [" ".join(node.split()) for node in nodes[start:end]]
        line = " ".join(parts)
        if _RUN.search(line):
            lines.append((line, parts))
    return lines


#: What the matcher accepts between the digits of a number, as a regex class body: phonenumbers'
#: VALID_PUNCTUATION (dash ranges included) and plus signs. A number never reaches beyond a
#: stretch of digits and these (tests/test_detect_contact.py checks the copy against phonenumbers).
PUNCTUATION_CLASS = ("-x\u2010-\u2015\u2212\u30fc\uff0d-\uff0f \u00a0\u00ad\u200b\u2060\u3000()\uff08\uff09"
                     "\uff3b\uff3d.\\[\\]/~\u2053\u223c\uff5e+\uff0b")
#: A written country code just before a number ("(+234) 012819231"): the number is that country's.
_COUNTRY_CODE = re.compile(r"\+\s*\d{1,4}\s*\)?[\s.-]*$")
_SPAN = re.compile(r"\d[" + PUNCTUATION_CLASS + r"\d\s]*")  # the class body opens with a literal "-"
_LEAD = "+＋([（［"  # may open a number before its first digit
_BEFORE, _AFTER = 4, 24  # margins: the character before a number; an extension after it


def _blank(m: re.Match) -> str:
    return " " * len(m.group())  # positions in the probe stay those of the line


def _windows(line: str, probe: str, forbidden: re.Pattern, context: int) -> list[tuple[int, int]]:
    """Stretches of ``line`` the (slow) matcher must read, merged where they touch: each stretch
    of digits and punctuation with four digits or more (dates blanked in ``probe``), with margins.
    A stretch whose every number would be refused (ИНН, ОГРН… within ``context`` characters
    before any number that could start in it) is not read at all."""
    out: list[tuple[int, int]] = []
    for m in _SPAN.finditer(probe):
        if sum(ch.isdigit() for ch in m.group()) < 4:
            continue
        lead = m.start()
        while lead > 0 and probe[lead - 1] in _LEAD:
            lead -= 1
        # a number starts in [lead, end): a refusing word before lead and within context of the
        # last possible start is within context of every start
        if forbidden.search(line, max(0, m.end() - 1 - context), lead):
            continue
        start, end = max(0, lead - _BEFORE), min(len(line), m.end() + _AFTER)
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return out


def _matches(line: str, probe: str, regions: tuple[str, ...], t: Table) -> list[tuple[int, int, object]]:
    """(start, end, PhoneNumberMatch) of the numbers in ``line``, positions in the line."""
    out = []
    for start, end in _windows(line, probe, t.forbidden, t.context):
        out.extend((start + m.start, start + m.end, m) for m in _window_matches(line[start:end], regions))
    return out


def _window_matches(segment: str, regions: tuple[str, ...]) -> list:
    """The numbers of one window, read in the first of ``regions`` where any is valid. A "+" before
    a national number ("+315-338-3592", "+8 (800) ...") reads as a country code that makes it
    invalid: when nothing is valid as written, the number is read again without its "+"."""
    for i, region in enumerate(regions):
        found = list(PhoneNumberMatcher(segment, region))
        if i:  # another region than the first: never for digits that follow a written country code
            found = [m for m in found if not _COUNTRY_CODE.search(segment, 0, m.start)]
        if found:
            return found
    if "+" in segment:
        bare = segment.replace("+", " ")
        for region in regions:
            found = [m for m in PhoneNumberMatcher(bare, region) if segment[m.start - 1:m.start] == "+"]
            if found:
                return found
    return []


def detect(page: ParsedPage) -> list[Evidence]:
    regions = page.regions
    found: list[Evidence] = []
    seen: set[tuple[str, str]] = set()

    def add(number, method: str, rule: str, snippet: str, detail: str = "", counted: bool = True) -> None:
        value = e164(number)
        if (value, rule) not in seen:
            seen.add((value, rule))
            found.append(Evidence("phone", value, page.url, method, rule, make_snippet(snippet), detail, counted))

    for link in page.links:
        scheme, _, target = link.href.partition(":")
        scheme = scheme.lower().strip()
        if scheme in ("tel", "callto") and target:
            number = _parse_in(target.lstrip("/"), regions)
            if number is not None:
                add(number, scheme, f"phone.{scheme}", element_snippet(link.element))

    t = table()
    matched: dict[str, list] = {}  # a page repeats its numbers (header, footer): match each line once
    for line, nodes in _digit_lines(page):
        probe = _DATES.sub(_blank, line) if "." in line or "/" in line or "–" in line or "-" in line else line
        if not _RUN.search(probe) or len(_DIGITS.findall(probe)) < t.min_digits:
            continue
        if line not in matched:
            matched[line] = _matches(line, probe, regions, t)
        for start, end, match in matched[line]:
            before = line[max(0, start - t.context):start]
            if t.forbidden.search(before):
                continue
            raw = match.raw_string
            glued = start > 0 and line[start - 1].isalnum()
            bare = raw.isdigit() and len(raw) >= 10
            if (glued or bare) and not t.labels.search(before):
                continue
            detail = f"ext {match.number.extension}" if match.number.extension else ""
            flat = " ".join(raw.split())  # inside one text node: "phone.text"; across nodes: "phone.split"
            rule = "phone.text" if any(flat in node for node in nodes) else "phone.split"
            add(match.number, "text", rule, line[max(0, start - 40):end + 20], detail)

    for script, data in page.json_ld:
        for raw in jsonld.string_fields(data, _PHONE_KEYS) if data is not None else ():
            number = _parse_in(raw, regions)
            if number is not None and phonenumbers.is_valid_number(number):
                add(number, "jsonld", "phone.jsonld", script.text, counted=False)
    return found


def region_of(value: str, lang: str = "en") -> str:
    """The region of a number (E.164 or any form phonenumbers parses) from phonenumbers' offline geocoder, in
    ``lang``: "Moscow", "Республика Татарстан"; "" for a mobile or toll-free number that says only its country,
    and for a number that does not parse."""
    from phonenumbers import geocoder

    try:
        number = phonenumbers.parse(str(value), None)
    except phonenumbers.NumberParseException:
        return ""
    where = geocoder.description_for_number(number, lang)
    return "" if not where or where == geocoder.country_name_for_number(number, lang) else where
