"""Bytes to text for HTML, when the charset is declared, wrong or absent.

Order: BOM, the HTTP header, ``<meta charset>``, then detection: strict
UTF-8, else charset-normalizer restricted to the encodings of our markets
(cp1251, koi8-r, cp1252...), with a koi8-r/cp1251 case check.

A declared charset the bytes do not fit is not trusted: a cp1251 page served
as ``charset=utf-8`` (most of its non-ASCII bytes invalid UTF-8) and a UTF-8
page declared as a single-byte charset (valid UTF-8 with multi-byte letters,
which cp1251 text practically never is) are detected instead. A few stray bytes
in a page that is otherwise what it says keep the declared charset.
"""

from __future__ import annotations

from functools import lru_cache

from charset_normalizer import from_bytes
from w3lib.encoding import (
    html_body_declared_encoding,
    html_to_unicode,
    http_content_type_encoding,
    read_bom,
    resolve_encoding,
)

_CANDIDATES = ["cp1251", "koi8_r", "cp1252", "iso8859_5", "cp866", "latin_1"]


def _detect(body: bytes) -> str | None:
    sample = body[:65536]
    try:
        sample.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        if exc.start > len(sample) - 4:  # a multi-byte char cut by the sample
            return "utf-8"
    best = from_bytes(sample, cp_isolation=_CANDIDATES).best()
    encoding = best.encoding if best else "cp1251"
    if encoding in ("cp1251", "koi8_r"):
        text = sample.decode("cp1251", "replace")
        letters = [c for c in text if "\u0410" <= c <= "\u044f"]
        if letters:
            upper = sum(c.isupper() for c in letters) / len(letters)
            encoding = "koi8_r" if upper > 0.6 else "cp1251"
    return encoding


def decode_html(body: bytes, content_type: str | None) -> tuple[str, str, str]:
    """Return (text, encoding, how) where how is bom|header|meta|detected."""
    if read_bom(body)[0]:
        how = "bom"
    elif declared := http_content_type_encoding(content_type):
        how = "header"
    elif declared := html_body_declared_encoding(body[:4096]):
        how = "meta"
    else:
        how = "detected"
    if how in ("header", "meta") and not _fits(body, resolve_encoding(declared) or ""):
        encoding = _detect(body) or "cp1251"
        return body.decode(encoding, "replace"), encoding, "detected"
    encoding, text = html_to_unicode(content_type, body, auto_detect_fun=_detect)
    return text, encoding, how


def _fits(body: bytes, encoding: str) -> bool:
    """Whether the bytes are text in ``encoding``: strictly decodable but for a few stray bytes (under 1%
    of its non-ASCII characters, or a multi-byte character cut at the end), and — for a single-byte
    charset — not UTF-8 with multi-byte letters instead."""
    if not encoding:
        return True  # an unknown name: w3lib falls back on its own
    try:
        text = body.decode(encoding)
    except UnicodeDecodeError as exc:
        if exc.start >= len(body) - 3 and exc.reason == "unexpected end of data":
            return True
        text = body.decode(encoding, "replace")
        bad = text.count("\ufffd")
        good = sum(1 for ch in text if ord(ch) > 127) - bad
        return bad <= max(2, good // 100)
    except LookupError:
        return True
    if encoding.replace("_", "-") in ("utf-8", "utf-8-sig") or body.isascii():
        return True
    if _single_byte(encoding):
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            return True
        return False  # valid UTF-8 with non-ASCII bytes: a UTF-8 page with the wrong label
    return True


@lru_cache(maxsize=64)
def _single_byte(encoding: str) -> bool:
    try:
        return len(bytes(range(128, 256)).decode(encoding, "replace")) == 128
    except LookupError:
        return False


_HTML_TYPES = ("text/html", "application/xhtml+xml")


def is_html(content_type: str | None, body: bytes) -> bool:
    """HTML by header, or by sniffing when the header is missing or generic."""
    ctype = (content_type or "").split(";")[0].strip().lower()
    if ctype in _HTML_TYPES:
        return True
    if ctype and ctype not in ("text/plain", "application/octet-stream", "binary/octet-stream"):
        return False
    head = body[:2048].lstrip().lower()
    if b"\x00" in head:
        return False
    return head.startswith((b"<!doctype html", b"<html", b"<head", b"<body")) or b"<html" in head
