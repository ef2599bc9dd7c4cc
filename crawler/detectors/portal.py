"""Client portal: links to helpdesk/portal platforms, client-area links, client login forms.

Rules (``signatures/portal.yaml``), strongest first:
``portal.platform.<id>`` a known helpdesk/portal platform by URL;
``portal.link_words`` a link whose text is a strong portal phrase («Личный
кабинет», "Client portal"), or a weak one («Портал поддержки», "Login")
backed by a portal slug in the path (/lk, /cabinet) or a client-area host of
the site (lk., help., billing.); ``portal.subdomain`` a helpdesk host of the
site linked as help/support; ``portal.login_form`` a password form posting to
a client-area host or path. Excluded: social networks, webmail, CMS admin and
CMS login, shop carts, staff/owner/partner logins.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from crawler.evidence import Evidence, make_snippet
from crawler.page import ParsedPage, element_snippet
from crawler.urls import absolute, registrable_domain

_DATA = Path(__file__).resolve().parents[1] / "signatures" / "portal.yaml"


@dataclass(frozen=True)
class Rules:
    platforms: list[tuple[str, re.Pattern]]
    platform_any: re.Pattern  # one named group per platform (p0, p1...)
    strong: re.Pattern
    weak: re.Pattern
    slugs: frozenset[str]
    subdomains: frozenset[str]
    exclude_hosts: re.Pattern
    exclude_paths: re.Pattern
    exclude_words: re.Pattern
    login_actions: re.Pattern


def _words(items, stems: bool = False) -> re.Pattern:
    """Whole words; with ``stems`` a word may go on (Russian endings: партнёр-а, сотрудник-ов)."""
    alts = "|".join(re.escape(w) for w in sorted(items, key=len, reverse=True))
    return re.compile(rf"(?<![\w])(?:{alts})" + ("" if stems else r"(?![\w])"), re.I)


@lru_cache(maxsize=1)
def rules() -> Rules:
    d = yaml.safe_load(_DATA.read_text(encoding="utf-8"))
    ex = d["exclude"]
    return Rules(
        [(p["id"], re.compile(p["url"], re.I)) for p in d["platforms"]],
        re.compile("|".join(f"(?P<p{i}>{p['url']})" for i, p in enumerate(d["platforms"])), re.I),
        _words(d["words"]["strong"]), _words(d["words"]["weak"]),
        frozenset(d["slugs"]), frozenset(d["subdomains"]),
        re.compile("|".join(ex["hosts"]), re.I), re.compile("|".join(ex["paths"]), re.I),
        _words(ex["words"], stems=True), re.compile("|".join(ex["login_actions"]), re.I),
    )


def _client_host(host: str, site_domain: str, r: Rules) -> bool:
    """A host of the site other than the site itself whose first label names a client area."""
    if not host or registrable_domain(host) != site_domain or host in (site_domain, "www." + site_domain):
        return False
    return host.split(".")[0] in r.subdomains


def _has_slug(path: str, r: Rules) -> bool:
    for seg in path.lower().strip("/").split("/"):
        if re.sub(r"\.(html?|php|aspx?)$", "", seg) in r.slugs:
            return True
    return False


def excluded(url: str, text: str, r: Rules) -> bool:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    return bool(r.exclude_hosts.search(host) or r.exclude_paths.search(parts.path or "")
                or r.exclude_words.search(text or ""))


def detect(page: ParsedPage) -> list[Evidence]:
    r = rules()
    site_domain = registrable_domain(urlsplit(page.site_url).hostname or "")
    found: list[Evidence] = []
    seen: set[str] = set()

    def add(value: str, method: str, rule: str, snippet: str, detail: str = "") -> None:
        if value not in seen:
            seen.add(value)
            found.append(Evidence("portal", value, page.url, method, rule, make_snippet(snippet), detail))

    for link in page.links:
        url = link.url
        if not url:
            continue
        m = r.platform_any.search(url)
        platform = r.platforms[int(m.lastgroup[1:])][0] if m else None
        strong = weak = None
        if platform is None:
            strong = r.strong.search(link.text)
            weak = strong or r.weak.search(link.text)
            if not weak:
                continue
        if excluded(url, link.text, r):
            continue
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        if platform:
            add(url, "link", f"portal.platform.{platform}", element_snippet(link.element), link.text)
            continue
        client_host = _client_host(host, site_domain, r)
        if strong:
            add(url, "link", "portal.link_words", element_snippet(link.element), link.text)
        elif _has_slug(parts.path, r) or client_host:
            rule = "portal.subdomain" if client_host and not _has_slug(parts.path, r) else "portal.link_words"
            add(url, "link", rule, element_snippet(link.element), link.text)

    for form in page.forms:
        if not form.xpath(".//input[@type='password']"):
            continue
        action = absolute(page.base_url, form.get("action") or "") or page.url
        if r.login_actions.search(action) or excluded(action, "", r):
            continue
        parts = urlsplit(action)
        host = (parts.hostname or "").lower()
        if _client_host(host, site_domain, r) or _has_slug(parts.path, r) or r.platform_any.search(action):
            context = _context_text(form)
            if r.strong.search(context) or r.weak.search(context) or _client_host(host, site_domain, r):
                add(action, "form", "portal.login_form", element_snippet(form), context[:120])
    return found


def _context_text(form) -> str:
    """Text of the form and of its nearest ancestors (headings like «Личный кабинет»)."""
    node, text = form, ""
    for _ in range(3):
        if node.getparent() is None:
            break
        node = node.getparent()
        text = " ".join(node.text_content().split())
        if len(text) > 600:
            break
    return text[:600]
