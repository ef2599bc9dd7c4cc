"""A page's language, and the phone region that a site's TLD or language implies.

(Not named ``locale``: a module of that name shadows the standard library's when
the folder lands on ``sys.path``.)
"""

from __future__ import annotations

from typing import Any

import phonenumbers

from chanaudit.crawler.urls import tld_of

#: Language code -> default phone region, when the TLD does not say.
_LANG_REGION = {"ru": "RU", "uk": "UA", "be": "BY", "kk": "KZ", "en": "US", "de": "DE", "fr": "FR", "es": "ES"}
#: TLDs that are not the region's ISO code.
_TLD_REGION = {"su": "RU", "xn--p1ai": "RU", "uk": "GB", "xn--j1amh": "UA", "xn--90ais": "BY"}


def page_language(tree: Any, visible_text: str) -> str:
    """Two-letter language code: ``<html lang>``, else ``Content-Language``, else Cyrillic or
    Latin letters in the first 4,000 characters of text ("ru"/"en"); "" when nothing says."""
    langs = tree.xpath("/html/@lang | /html/@xml:lang")
    meta = tree.xpath("//meta[translate(@http-equiv,'CONTENT-LANGUAGE','content-language')='content-language']/@content")
    for value in [*langs, *meta]:
        code = value.strip().lower().replace("_", "-").split("-")[0]
        if len(code) == 2 and code.isalpha():
            return code
    text = visible_text[:4000]
    cyr = sum("а" <= ch.lower() <= "я" for ch in text)
    lat = sum("a" <= ch.lower() <= "z" for ch in text)
    return "ru" if cyr > lat else ("en" if lat else "")


def tld_region(site_url: str) -> str | None:
    """The phone region (ISO 3166 alpha-2) a site's ccTLD names, or None (``.com``, ``.org``...)."""
    last = tld_of(site_url).split(".")[-1] if tld_of(site_url) else ""
    region = _TLD_REGION.get(last) or (last.upper() if len(last) == 2 else "")
    return region if region in phonenumbers.SUPPORTED_REGIONS else None


def language_region(language: str) -> str:
    """The phone region a page's language implies, RU when it says nothing known."""
    return _LANG_REGION.get(language, "RU")
