"""A page's language, and the phone regions that a site's TLD or language imply.

(Not named ``locale``: a module of that name shadows the standard library's when
the folder lands on ``sys.path``.)
"""

from __future__ import annotations

from typing import Any

import phonenumbers

from chanaudit.crawler.urls import tld_of

#: Language code -> default phone region, when the TLD does not say.
_LANG_REGION = {"ru": "RU", "uk": "UA", "be": "BY", "kk": "KZ", "en": "US", "de": "DE", "fr": "FR", "es": "ES"}
#: Regions a page's language also speaks for, tried in turn when a number is valid in none before:
#: a Russian page on a .com may show a Ukrainian or Kazakh number, an English one a British number.
_LANG_MORE = {"ru": ("UA", "BY", "KZ"), "en": ("GB", "AU", "IE"), "uk": ("RU",), "be": ("RU",)}
#: TLDs that are not the region's ISO code.
_TLD_REGION = {"su": "RU", "xn--p1ai": "RU", "uk": "GB", "xn--j1amh": "UA", "xn--90ais": "BY"}
#: Country-code TLDs sold worldwide for their letters ("vanity" TLDs: .io, .co, .me, .tv, .ai...):
#: they say nothing of the company's country, so the page language and the numbers decide.
VANITY_TLDS = frozenset({"pw", "io", "co", "me", "tv", "cc", "ai", "ly", "fm", "gg", "to", "sh", "ws", "la", "so",
                         "vc", "ac", "im", "is", "it", "nu", "st", "gl", "xyz", "am", "sx", "lc", "bz", "tk", "ms"})


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


def _cc_region(site_url: str) -> tuple[str, bool]:
    """(region the ccTLD names or "", whether the TLD is a vanity one)."""
    suffix = tld_of(site_url)
    if not suffix:
        return "", False
    labels = suffix.split(".")
    last = labels[-1]
    region = _TLD_REGION.get(last) or (last.upper() if len(last) == 2 else "")
    vanity = last in VANITY_TLDS and len(labels) == 1  # .co.uk names a country, .co does not
    return (region if region in phonenumbers.SUPPORTED_REGIONS else ""), vanity


def tld_region(site_url: str) -> str | None:
    """The phone region (ISO 3166 alpha-2) a site's ccTLD names, or None (``.com``, ``.org``..., and
    vanity ccTLDs such as ``.io`` or ``.pw``, which say nothing of the country)."""
    region, vanity = _cc_region(site_url)
    return region if region and not vanity else None


def candidate_regions(site_url: str, language: str) -> tuple[str, ...]:
    """The phone regions to read a page's numbers in, in order: the ccTLD's alone when it names the
    country; else the page language's region, the regions the language also speaks for and, on a
    vanity ccTLD, its country last. A number counts in the first region where it is valid."""
    region, vanity = _cc_region(site_url)
    if region and not vanity:
        return (region,)
    first = language_region(language)
    out = [first, *_LANG_MORE.get(language, ()), *([region] if region else [])]
    return tuple(dict.fromkeys(out))


def language_region(language: str) -> str:
    """The phone region a page's language implies, RU when it says nothing known."""
    return _LANG_REGION.get(language, "RU")
