"""Bytes to text for HTML, when the charset is declared, wrong or absent.

Order: BOM, the HTTP header, ``<meta charset>``, then detection: strict
UTF-8, else charset-normalizer restricted to the encodings of our markets
(cp1251, koi8-r, cp1252...), with a koi8-r/cp1251 case check.
"""

from __future__ import annotations

from charset_normalizer import from_bytes
from w3lib.encoding import (
    html_body_declared_encoding,
    html_to_unicode,
    http_content_type_encoding,
    read_bom,
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
    elif http_content_type_encoding(content_type):
        how = "header"
    elif html_body_declared_encoding(body[:4096]):
        how = "meta"
    else:
        how = "detected"
    encoding, text = html_to_unicode(content_type, body, auto_detect_fun=_detect)
    return text, encoding, how


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
