"""Client portal: links to a helpdesk/portal platform or a client area, and client login forms.

Rules (vocabulary in ``signatures/portal.yaml``), strongest first; the value
is the portal URL (absolute):

``portal.platform.<id>``
    a link (or a login form) to a known helpdesk/portal platform: a tenant of
    a hosted one (``<account>.okdesk.ru``) or the path of a self-hosted one
    (``/servicedesk/customer/portal/2``, ``front/helpdesk.public.php``).
``portal.link_words``
    the link text names the portal: a client-area phrase («Личный кабинет»,
    "Client portal") on any target; a support-portal phrase («Портал
    поддержки», "Support portal", "Submit a ticket") to a helpdesk/client
    host of the site or to another site; a help label («Помощь», "Support")
    to a helpdesk/client host of the site (``help.firm.ru``).
``portal.path``
    the URL names the client area and the text supports it: a portal slug
    (``/lk``, ``/cabinet``, ``/portal``, ``/helpdesk``…) with a portal, help
    or login word, or a client host of the site (``lk.``, ``billing.``) with
    a login word.
``portal.login_form``
    a login form (password field) posting to a client/helpdesk host of the
    site or to a portal slug, with portal or login words around it.

A support-portal phrase on a same-site page without a portal slug does not
count: from one page the detector cannot see that the target has no login,
and IT firms call plain pages that way ('Support Portal' -> support.html with
a remote-session download; 'Submit a Ticket' -> an on-site web form, which
the form detector reports). Words in body text are not links and never count.
Excluded: social networks, webmail, CMS back offices and CMS user logins,
shop carts (and, on a page with a cart, the shop's customer account), staff,
owner and partner logins, remote-support tools, hosted forms, government/bank
cabinets, and links about building portals for others.
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
from chanaudit.crawler.detectors.anchors import anchors
from chanaudit.crawler.dom import element_snippet, text_of
from chanaudit.crawler.page import ParsedPage
from chanaudit.crawler.textwalk import element_text, heading_before
from chanaudit.crawler.urls import absolute, host_of, registrable_domain

TIERS = ("client", "service", "help", "login")
_ONCLICK_URL = re.compile(r"""(?:location(?:\.href)?\s*=|window\.open\(|location\.assign\()\s*['"]([^'"]+)['"]""")
_EXTENSION = re.compile(r"\.(?:html?|php|aspx?|jsp)$")
_PASSWORD = etree.XPath(".//input[translate(@type,'PASWORD','pasword')='password']")
_NOT_TYPED = frozenset({"hidden", "submit", "button", "image", "reset"})
_ONCLICK = etree.XPath("descendant-or-self::*[@onclick]")  # relative: 3x faster than "//" in libxml2
_BUTTONS = etree.XPath(".//button | .//input[@type='submit' or @type='image' or @type='button']")
_SHORT = 40  # a label, not a sentence: the whole text of an element that opens an inline login


def normalize(text: str) -> str:
    return " ".join((text or "").lower().replace("ё", "е").split())


def phrase(text: str, endings: tuple[str, ...]) -> str:
    """Regex source for a phrase: Russian words take their endings («личного кабинета»); ``endings``
    longest first (:attr:`Table.endings`)."""
    out = []
    for word in normalize(text).split():
        if re.fullmatch(r"[а-я-]+", word) and len(word) > 4:
            stem = next((word[: -len(e)] for e in endings if word.endswith(e) and len(word) - len(e) >= 4), word)
            out.append(re.escape(stem) + "[а-я]{0,3}")
        else:
            out.append(re.escape(word))
    return r"[\s-]+".join(out)


def _phrases(items, endings: tuple[str, ...]) -> re.Pattern | None:
    items = list(items)
    if not items:
        return None
    alts = "|".join(phrase(w, endings) for w in sorted(items, key=len, reverse=True))
    return re.compile(rf"(?<![\w])(?:{alts})(?![\w])")


def _regex(items) -> re.Pattern | None:
    return re.compile("|".join(items), re.I) if items else None


@dataclass(frozen=True)
class Platform:
    id: str
    hosts: tuple[str, ...]
    reserved: re.Pattern | None
    tenant_path: re.Pattern | None
    paths: re.Pattern | None
    context: bool


@dataclass(frozen=True)
class Exclusion:
    id: str
    hosts: re.Pattern | None
    paths: re.Pattern | None
    words: re.Pattern | None
    form_inputs: tuple[tuple[str, str], ...]
    actions: re.Pattern | None


@dataclass(frozen=True)
class Table:
    platforms: list[Platform]
    platform_domains: frozenset[str]  # okdesk.ru...: a tenant host is <label>.<domain>
    platform_paths: re.Pattern | None  # literal hints of the path rules (cheap test first)
    tiers: dict[str, re.Pattern]
    any_word: re.Pattern
    ticket_words: re.Pattern
    max_link_text: int
    slugs: frozenset[str]
    login_pages: frozenset[str]
    desk_hosts: frozenset[str]
    client_hosts: frozenset[str]
    helpdesk_paths: tuple[str, ...]  # substrings of a path that name a helpdesk
    exclusions: list[Exclusion]
    endings: tuple[str, ...]  # Russian word endings, longest first


@cache
def table() -> Table:
    d = signatures.load("portal")
    endings = tuple(sorted(d["russian_endings"], key=len, reverse=True))
    platforms, domains, hints = [], set(), []
    for p in d["platforms"]:
        reserved = re.compile("|".join(p["reserved"])) if p.get("reserved") else None
        platforms.append(Platform(p["id"], tuple(p.get("hosts", [])), reserved, _regex([p["tenant_path"]])
                                  if p.get("tenant_path") else None, _regex(p.get("paths", [])), bool(p.get("context"))))
        domains.update(p.get("hosts", []))
        path_hints = anchors(p.get("paths", []))
        hints += [re.escape(h) for h in path_hints] if path_hints is not None else p["paths"]
    tiers = {tier: _phrases((w["text"] for w in d["words"] if w["tier"] == tier), endings) for tier in TIERS}
    exclusions = [
        Exclusion(e["id"], _regex(e.get("hosts", [])), _regex(e.get("paths", [])), _phrases(e.get("words", []), endings),
                  tuple(tuple(i.split("=", 1)) for i in e.get("form_inputs", [])), _regex(e.get("actions", [])))
        for e in d["exclude"]
    ]
    return Table(
        platforms, frozenset(domains), re.compile("|".join(dict.fromkeys(hints)), re.I) if hints else None, tiers,
        _phrases((w["text"] for w in d["words"]), endings), _phrases(d["ticket_words"], endings),
        int(d["max_link_text"]), frozenset(d["slugs"]), frozenset(d["login_pages"]), frozenset(d["subdomains"]["desk"]),
        frozenset(d["subdomains"]["client"]), tuple(p.lower() for p in d["helpdesk_paths"]), exclusions, endings,
    )


# -- URL tests -----------------------------------------------------------------
def platform_of(url: str, text: str = "", t: Table | None = None) -> str | None:
    """The platform id of a URL, or None."""
    t = table() if t is None else t
    host = url.split("/", 3)[2].rpartition("@")[2].split(":")[0].lower() if "//" in url else ""
    if host.partition(".")[2] not in t.platform_domains and not (t.platform_paths and t.platform_paths.search(url)):
        return None
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    path = (parts.path or "/") + ("?" + parts.query if parts.query else "")
    for p in t.platforms:
        for domain in p.hosts:
            if host.endswith("." + domain):
                label = host[: -len(domain) - 1]
                if "." in label or (p.reserved and p.reserved.fullmatch(label)):
                    continue
                if p.tenant_path is None or p.tenant_path.search(parts.path or "/"):
                    return p.id
        if p.paths and p.paths.search(path):
            if not p.context or t.ticket_words.search(normalize(text)) or _desk_label(host, t) or \
                    has_slug(parts.path, t):
                return p.id
    return None


def _desk_label(host: str, t: Table) -> bool:
    label = host.split(".")[0]
    return label in t.desk_hosts or label in t.client_hosts


def has_slug(path: str, t: Table | None = None) -> bool:
    t = table() if t is None else t
    return any(_EXTENSION.sub("", seg) in t.slugs for seg in (path or "").lower().split("/") if seg)


def excluded(host: str, path: str, text: str, t: Table | None = None) -> str | None:
    """The id of the exclusion that rules this target out, or None."""
    t = table() if t is None else t
    for e in t.exclusions:
        if (e.hosts and e.hosts.search(host)) or (e.paths and e.paths.search(path)) or \
                (e.words and text and e.words.search(text)):
            return e.id
    return None


# -- candidates ------------------------------------------------------------------
def _candidates(page: ParsedPage):
    """(url, text, element, method) for links, bare button forms and onclick buttons."""
    for link in page.links:
        if link.url:
            yield link.url, link.text, link.element, "link"
    for form in page.forms:
        action = form.get("action")
        if action and not _fillable(form):
            url = absolute(page.base_url, action)
            if url:
                text = " ".join(" ".join(b.itertext()) + " " + (b.get("value") or "") for b in _BUTTONS(form))
                yield url, " ".join(text.split()), form, "form_button"
    if "onclick" in page.index.attributes:
        for el in _ONCLICK(page.tree):
            m = _ONCLICK_URL.search(el.get("onclick") or "")
            url = absolute(page.base_url, m.group(1)) if m else None
            if url:
                text = " ".join([text_of(el), el.get("title") or "", el.get("aria-label") or ""])
                yield url, " ".join(text.split()), el, "onclick"


def _fillable(form) -> bool:
    """Whether a form has a field to type in (else it is a button posing as a link)."""
    for el in form.iter("input", "textarea", "select"):
        if el.tag != "input" or (el.get("type") or "text").lower() not in _NOT_TYPED:
            return True
    return False


def _is_shop(page: ParsedPage, t: Table) -> bool:
    shop = next((e for e in t.exclusions if e.id == "shop"), None)
    if shop is None:
        return False
    for link in page.links:
        if (link.url and shop.paths and shop.paths.search(urlsplit(link.url).path)) or \
                (len(link.text) <= 40 and shop.words and shop.words.search(normalize(link.text))):
            return True
    return False


def detect(page: ParsedPage) -> list[Evidence]:
    t = table()
    site_domain = registrable_domain(urlsplit(page.site_url).hostname or "")
    # Same site: the public site and the host the page was fetched from (a local copy
    # is audited as its public domain, but its relative links resolve to the copy).
    local = {site_domain} | {registrable_domain(host_of(u)) for u in (page.url, page.base_url)}
    found: list[Evidence] = []
    seen: set[str] = set()
    shop: list[bool] = []  # computed on first need

    def add(value: str, method: str, rule: str, el: Any, detail: str) -> None:
        if value not in seen:
            seen.add(value)
            found.append(Evidence("portal", value, page.url, method, rule, make_snippet(element_snippet(el)),
                                  make_snippet(detail, 120)))

    for url, text, el, method in _candidates(page):
        platform = platform_of(url, text, t)
        low = text.lower().replace("ё", "е")  # link texts come whitespace-collapsed
        tier = None
        if platform is None:
            if not low or len(low) > t.max_link_text or not t.any_word.search(low):
                continue
            tier = next(name for name in TIERS if t.tiers[name] and t.tiers[name].search(low))
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        if excluded(host, parts.path or "/", low, t):
            continue
        if platform:
            add(url, method, f"portal.platform.{platform}", el, text)
            continue
        same_site = bool(host) and registrable_domain(host) in local
        rule = _word_rule(tier, host, parts.path, same_site, site_domain, t)
        if rule and same_site and not _desk_host(host, site_domain, t, desk_only=True):
            if not shop:
                shop.append(_is_shop(page, t))
            if shop[0] and not _helpdesk_path(parts.path, t):
                continue  # a shop's customer account
        if rule:
            add(url, method, rule, el, text)

    logins = [form for form in page.forms if _PASSWORD(form)]
    for form in logins:
        _login_form(page, form, site_domain, t, add)
    if logins and not found:
        _inline_login(page, logins, t, add)
    return found


def host_is_site(host: str, site_domain: str) -> bool:
    return bool(host) and registrable_domain(host) == site_domain


def _desk_host(host: str, site_domain: str, t: Table, desk_only: bool = False) -> bool:
    """A subdomain of the site whose first label names a helpdesk (or a client area)."""
    if not host_is_site(host, site_domain) or host in (site_domain, "www." + site_domain):
        return False
    label = host.split(".")[0]
    return label in t.desk_hosts or (not desk_only and label in t.client_hosts)


def _helpdesk_path(path: str, t: Table) -> bool:
    path = (path or "").lower()
    return any(s in path for s in t.helpdesk_paths)


def _word_rule(tier: str, host: str, path: str, same_site: bool, site_domain: str, t: Table) -> str | None:
    """Which rule a link with words of ``tier`` to this target fires, if any.

    A service or help phrase to a page of the site itself (not a helpdesk/client
    host) needs a portal slug: 'Support Portal' -> support.html does not count.
    """
    desk = _desk_host(host, site_domain, t)
    if tier == "client":
        return "portal.link_words"
    if tier in ("service", "help") and desk:
        return "portal.link_words"
    if tier == "service" and host and not same_site:
        return "portal.link_words"
    if has_slug(path, t) or (tier == "login" and desk):
        return "portal.path"
    if tier == "login" and same_site and _login_page(path, t):
        return "portal.path"
    return None


def _login_page(path: str, t: Table) -> bool:
    """Whether a path is a site's own login page (``/login``, ``/account/signin.php``)."""
    last = (path or "").lower().rstrip("/").rpartition("/")[2]
    return bool(last) and _EXTENSION.sub("", last) in t.login_pages


# -- login forms -----------------------------------------------------------------
def _inline_login(page: ParsedPage, logins: list, t: Table, add) -> None:
    """portal.inline_login: an element that is not a link («Личный кабинет» on a div or button)
    names the client area, and the page holds the login form (password field) it opens. A CMS's
    user login and an excluded form (partner, staff) do not count; neither does the phrase inside
    a sentence («Мы создаем личный кабинет»): the element's whole text must be about that short."""
    forms = []
    for form in logins:
        raw = form.get("action") or ""
        if _cms_login(form, raw, t):
            continue
        action = absolute(page.base_url, raw) or page.url
        parts = urlsplit(action)
        own = " ".join([_heading(form), _context(form)])
        if not excluded((parts.hostname or "").lower(), parts.path or "/", own, t):
            forms.append((form, action))
    if not forms:
        return
    client = t.tiers["client"]
    for text, owner in page.text_items:
        if len(text) > 2 * _SHORT or not client:
            continue
        low = normalize(text_of(owner)) if owner.tag not in ("body", "html", "p", "blockquote") else ""
        m = client.search(low) if low and len(low) <= _SHORT else None
        if m is None or len(low) - len(m.group()) > _SHORT // 3 or excluded("", "/", low, t):
            continue  # not the label of the element, or a partner's or staff cabinet
        link = next((a for a in (owner, *owner.iterancestors("a")) if a.tag == "a"), None)
        if link is not None and absolute(page.base_url, link.get("href") or ""):
            continue  # a link: the link rules judge it
        form, action = forms[0]
        add(action, "inline_login", "portal.inline_login", owner, text.strip())
        return



def _text(root, limit: int = 400) -> str:
    return normalize(element_text(root, limit))[:limit]


def _heading(form) -> str:
    return normalize(heading_before(form, 3, 4))[:120]


def _context(form) -> str:
    """Text of the form and of its nearest ancestors, as long as it stays short."""
    text, node = _text(form), form
    for _ in range(3):
        node = node.getparent()
        if node is None or node.tag in ("body", "html"):
            break
        wider = _text(node, 600)
        if len(wider) > 500:
            break
        text = wider
    return text


def _cms_login(form, action: str, t: Table) -> bool:
    cms = next((e for e in t.exclusions if e.id == "cms-login"), None)
    if cms is None:
        return False
    if cms.actions and cms.actions.search(action):
        return True
    for inp in form.iter("input"):
        name, value = inp.get("name") or "", (inp.get("value") or "").lower()
        for want_name, want_value in cms.form_inputs:
            if name == want_name and (want_value == "*" or value == want_value.lower()):
                return True
    return False


def _login_form(page: ParsedPage, form, site_domain: str, t: Table, add) -> None:
    raw = form.get("action") or ""
    action = absolute(page.base_url, raw) or page.url
    if _cms_login(form, raw, t):
        return
    parts = urlsplit(action)
    host = (parts.hostname or "").lower()
    heading = _heading(form)
    own = " ".join([heading, normalize(" ".join(b.get("value") or " ".join(b.itertext()) for b in _BUTTONS(form)))])
    if excluded(host, parts.path or "/", own, t):
        return
    context = _context(form)
    platform = platform_of(action, context, t)
    if platform:
        add(action, "login_form", f"portal.platform.{platform}", form, heading or context)
        return
    if not (_desk_host(host, site_domain, t) or has_slug(parts.path, t)):
        return
    words = f"{heading} {context}"
    if t.any_word.search(words):
        add(action, "login_form", "portal.login_form", form, heading or context)
