"""A test per row of the web-form and client-portal tables (signatures/forms.yaml,
signatures/portal.yaml): every row's own `example` (ours, synthetic) goes
through the detector; an exclusion row's `example` must not fire and its
`control` (the same thing without the trap) must. Vocabulary rows (field
kinds, sub-types, callback and newsletter words, portal words, slugs and
subdomains) are checked word by word against a neutral page."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
import yaml
from lxml import etree

from chanaudit.crawler.detectors import form, portal
from chanaudit.crawler.page import Page, ParsedPage

SIG = Path(__file__).resolve().parents[1] / "crawler" / "signatures"
FORMS = yaml.safe_load((SIG / "forms.yaml").read_text(encoding="utf-8"))
PORTAL = yaml.safe_load((SIG / "portal.yaml").read_text(encoding="utf-8"))


def page(html: str, url: str = "https://firm.ru/") -> ParsedPage:
    return ParsedPage(Page(url, f"<html><body>{html}</body></html>"))


def rows(table: dict, key: str, *, where=None) -> list:
    out = [r for r in table[key] if where is None or where(r)]
    return [pytest.param(r, id=r.get("id") or r.get("text")) for r in out]


def pairs(table: dict, key: str) -> list:
    """(group, word) for a {group: [words]} mapping."""
    return [pytest.param(g, w, id=f"{g}:{w}") for g, words in table[key].items() for w in words]


def form_values(html: str) -> list[str]:
    return sorted({e.value for e in form.detect(page(html))})


def portal_rules(html: str, url: str = "https://firm.ru/") -> list[str]:
    return [e.rule for e in portal.detect(page(html, url))]


def test_every_row_has_its_example():
    for table, keys in ((FORMS, ("embeds", "exclude")), (PORTAL, ("platforms", "words", "exclude"))):
        for key in keys:
            for row in table[key]:
                assert row.get("example"), (key, row)
                if key == "exclude":
                    assert row.get("control") and row.get("why"), row
                if row.get("links"):
                    assert row.get("link_example"), row
    ids = [r["id"] for r in FORMS["embeds"]] + [r["id"] for r in PORTAL["platforms"]]
    assert len(ids) == len(set(ids))


# --- forms: field kinds and words -------------------------------------------------
def _field(html: str):
    el = etree.HTML(f"<html><body><form>{html}</form></body></html>").find(".//form")[0]
    return form.field_kind(el, {})


@pytest.mark.parametrize("kind,token", pairs(FORMS, "fields"))
def test_field_token_names_its_kind(kind, token):
    """A token in a placeholder makes the field that kind (kinds are tried in table order)."""
    assert _field(f'<input name="x" placeholder="{token}">') == kind


def test_field_kinds_are_tried_in_table_order(monkeypatch):
    """The order of `fields` is data: "E-mail или телефон" is an email field because email is
    listed before phone, and a phone field when the table lists phone first."""
    assert _field('<input name="x" placeholder="E-mail или телефон">') == "email"
    table = form.table()
    kinds = dict(table.kinds)
    swapped = {k: kinds[k] for k in ("phone", *(k for k in kinds if k != "phone"))}
    monkeypatch.setattr(form, "table", lambda: dataclasses.replace(table, kinds=swapped))
    assert _field('<input name="x" placeholder="E-mail или телефон">') == "phone"


@pytest.mark.parametrize("token,kind", list(FORMS["autocomplete"].items()))
def test_autocomplete_token_names_its_kind(token, kind, monkeypatch):
    html = f'<input name="zz" autocomplete="section-a {token}">'
    assert _field(html) == kind
    table = form.table()
    rest = {k: v for k, v in table.autocomplete.items() if k != token}
    monkeypatch.setattr(form, "table", lambda: dataclasses.replace(table, autocomplete=rest))
    assert _field(html) == "other", "without the row the field says nothing"


@pytest.mark.parametrize("kind", ["name", "phone", "email", "company"])
def test_contact_kind_with_message_box_is_request(kind):
    token = FORMS["fields"][kind][0]
    html = f'<form method="post"><input name="x" placeholder="{token}"><textarea name="m"></textarea></form>'
    assert form_values(html) == ["request"]


@pytest.mark.parametrize("name", FORMS["search_names"])
def test_search_name_makes_a_search_box(name):
    assert _field(f'<input name="{name}">') == "search"
    assert form_values(f'<form action="/find/"><input name="{name}"><button>Go</button></form>') == []


@pytest.mark.parametrize("name", FORMS["ignore_fields"])
def test_ignored_field_is_no_input(name):
    assert _field(f'<input name="{name}">') is None
    # a captcha field does not turn a name-only form into a two-field request
    assert form_values(f'<form method="post"><input name="name"><input name="{name}"></form>') == []


@pytest.mark.parametrize("subtype,words", pairs(FORMS, "subtypes"))
def test_subtype_words(subtype, words):
    html = f'<form method="post"><input name="name"><input type="email" name="email"><textarea name="m"></textarea>' \
           f'<button>{words}</button></form>'
    found = form.detect(page(html))
    assert [(e.value, e.rule) for e in found] == [("request", "form.request")]
    assert found[0].detail.startswith(f"{subtype};")
    neutral = form.detect(page(html.replace(words, "Отправить")))
    assert neutral[0].detail.startswith("contact;")


@pytest.mark.parametrize("word", FORMS["callback"])
def test_callback_words(word):
    """A lone phone field is a callback form with a callback word, nothing without one."""
    html = f'<form method="post"><input type="tel" name="phone"><button>{word}</button></form>'
    assert form_values(html) == ["callback"]
    assert form_values(html.replace(word, "Отправить")) == []


@pytest.mark.parametrize("word", next(r for r in FORMS["exclude"] if r["id"] == "newsletter")["words"])
def test_newsletter_words(word):
    html = f'<form method="post"><input name="name"><input type="email" name="email"><button>{word}</button></form>'
    assert form_values(html) == []
    assert form_values(html.replace(word, "Отправить")) == ["request"]


# --- forms: embedded services -----------------------------------------------------
@pytest.mark.parametrize("row", rows(FORMS, "embeds"))
def test_form_embed_fires(row):
    found = form.detect(page(row["example"]))
    embeds = {(e.value, e.rule) for e in found if e.value.startswith("embed:")}
    assert embeds == {(f"embed:{row['id']}", f"form.embed.{row['id']}")}, "exactly this service"


@pytest.mark.parametrize("row", rows(FORMS, "embeds"))
def test_form_embed_commented_out(row):
    assert form.detect(page(f"<!-- {row['example']} -->")) == []


EMBED_MORE = [pytest.param(r, e, id=f"{r['id']}-{i}") for r in FORMS["embeds"]
              for i, e in enumerate(r.get("more_examples", []))]


@pytest.mark.parametrize("row,example", EMBED_MORE)
def test_form_embed_more_examples(row, example):
    found = {e.value for e in form.detect(page(example)) if e.value.startswith("embed:")}
    assert found == {f"embed:{row['id']}"}
    assert form.detect(page(f"<!-- {example} -->")) == []


@pytest.mark.parametrize("row", rows(FORMS, "embeds", where=lambda r: r.get("control") or r.get("more_controls")))
def test_form_embed_controls(row):
    """The service named on a page without its form (its site, its app, a near-miss URL) is no form."""
    for control in [row.get("control"), *row.get("more_controls", [])]:
        if control:
            assert [e for e in form.detect(page(control)) if e.value.startswith("embed:")] == [], control


@pytest.mark.parametrize("row,host", [pytest.param(r, h, id=f"{r['id']}:{h}") for r in FORMS["embeds"]
                                      for h in r.get("hosts", [])])
def test_form_service_host(row, host):
    """A script or frame served by the service's embed host (or a subdomain of it) is its form."""
    for html in (f'<script src="https://{host}/any/path.js"></script>', f'<iframe src="https://x1.{host}/e/1"></iframe>'):
        assert {e.value for e in form.detect(page(html))} == {f"embed:{row['id']}"}, html
    assert form.detect(page(f'<a href="https://{host}/">Service</a><img src="https://{host}/logo.png">')) == []


GENERIC_FRAME = FORMS["generic_frame"]


@pytest.mark.parametrize("example", [GENERIC_FRAME["example"], *GENERIC_FRAME["more_examples"]])
def test_generic_form_frame(example):
    found = form.detect(page(example))
    assert [(e.value, e.rule, e.method) for e in found] == [("embed:frame", "form.generic_frame", "iframe")]
    assert form.detect(page(f"<!-- {example} -->")) == []


@pytest.mark.parametrize("control", GENERIC_FRAME["controls"])
def test_generic_form_frame_controls(control):
    """Videos, maps, words that only contain "form", surveys and downloadable files are no form."""
    assert form.detect(page(control)) == []


@pytest.mark.parametrize("word", GENERIC_FRAME["words"])
def test_generic_form_frame_words(word):
    assert form_values(f'<iframe src="https://crm.acme.ru/{word}/17"></iframe>') == ["embed:frame"]
    assert form_values(f'<iframe src="https://crm.acme.ru/{word}/survey/17"></iframe>') == []


def test_a_named_service_frame_is_not_also_generic():
    html = '<iframe src="https://forms.yandex.ru/u/6543210abc/?iframe=1"></iframe>'
    assert [(e.value, e.rule) for e in form.detect(page(html))] == [("embed:yandex-forms", "form.embed.yandex-forms")]


# --- forms: a phone known only by its mask, placeholder or name (issue 17) ------------------
@pytest.mark.parametrize("attr", FORMS["phone_masks"]["attributes"])
def test_phone_by_input_mask(attr):
    field = f'<input class="inp" {attr}="+7 (999) 999-99-99">'
    assert _field(field) == "phone"
    html = f'<div class="cb"><div class="title">Заказать звонок</div>{field}<button>Отправить</button></div>'
    assert [(e.value, e.rule) for e in form.detect(page(html))] == [("callback", "form.formless.callback")]


@pytest.mark.parametrize("placeholder,kind", [
    ("+7 (___) ___-__-__", "phone"), ("8 (999) 000-00-00", "phone"), ("(555) 555-5555", "phone"),
    ("+234 800 000 0000", "phone"), ("12345", "other"), ("2024", "other"), ("Ваш вопрос", "message"),
])
def test_phone_by_placeholder_shape(placeholder, kind):
    assert _field(f'<input name="f1" placeholder="{placeholder}">') == kind


@pytest.mark.parametrize("name", FORMS["phone_masks"]["number_names"])
def test_number_field_under_callback_words(name):
    """A field named "number" is the phone of a callback block, and nothing elsewhere."""
    block = '<div class="cb"><h3>{}</h3><div><input name="{}"><button>Отправить</button></div></div>'
    assert form_values(block.format("Обратный звонок", name)) == ["callback"]
    assert form_values(block.format("Калькулятор стоимости", name)) == []
    assert form_values(block.format("Обратный звонок", name).replace(f'name="{name}"', 'type="number"')) == ["callback"]


def test_username_without_a_password_is_a_name():
    """realsites ru-mrhimchistkin: order_UserName + a phone field is a callback form, not a login."""
    html = ('<form class="modal_form" method="post"><input id="order_UserName" name="order_UserName" '
            'placeholder="Ваше имя" type="text"><input name="order_UserPhone" placeholder="Ваш телефон" type="tel">'
            '<button type="submit">отправить</button></form>')
    assert form_values(html) == ["callback"]
    login = html.replace('type="tel"', 'type="password"')
    assert form_values(login) == []


@pytest.mark.parametrize("row", rows(FORMS, "embeds", where=lambda r: r.get("links")))
def test_hosted_form_link(row):
    """A row with `links`: a link to the hosted form page is the service (the form is one click away)."""
    found = form.detect(page(row["link_example"]))
    assert [(e.value, e.rule, e.method) for e in found] == [(f"embed:{row['id']}", f"form.embed.{row['id']}", "link")]
    assert form.detect(page(f"<!-- {row['link_example']} -->")) == []
    survey = re.sub(r">[^<]*</a>", ">Пройдите опрос</a>", row["link_example"])
    assert form.detect(page(survey)) == [], "a survey link is not a request form"


# --- forms: exclusions ------------------------------------------------------------
def _verdict(html: str) -> form.Verdict:
    p = page(html)
    if p.forms:
        el = p.forms[0]
        return form.classify(el, form._FIELDS(el), method=(el.get("method") or "").lower())
    groups = form._loose_groups(p)
    assert len(groups) == 1, html
    container, fields = groups[0]
    return form.classify(container, fields)


def test_every_exclusion_row_says_how_it_is_used(monkeypatch):
    when = {r["id"]: r["when"] for r in FORMS["exclude"]}
    assert set(when.values()) <= set(form._WHEN)
    assert {i for i, w in when.items() if w == "structural"} == {"login", "search", "lookup", "newsletter"}
    assert {i for i, w in when.items() if w == "hosted-link"} == {"hosted-link-not-request"}
    bad = {**FORMS, "exclude": [{**FORMS["exclude"][0], "when": "sometimes"}, *FORMS["exclude"][1:]]}
    monkeypatch.setattr(form.signatures, "load", lambda name: bad)
    form.table.cache_clear()
    try:
        with pytest.raises(ValueError, match="`when` must be one of"):
            form.table()
    finally:
        form.table.cache_clear()


def test_exclusion_rows_are_tried_in_table_order(monkeypatch):
    """A form caught by every `when: always` row is ruled out by the first one listed; with the
    first rows taken out, by the next: the order is the table's, not the code's."""
    screens = [r for r in FORMS["exclude"] if r["when"] == "always"]
    assert [r["id"] for r in screens] == [e.id for e in form.table().screens]
    marks = " ".join(m for r in screens for m in r.get("markers", []))
    words = ", ".join(r["words"][0] for r in screens if r.get("words"))
    html = (f'<div class="{marks}"><form method="post"><input name="name"><input type="tel" name="phone">'
            f'<textarea name="m"></textarea><button>{words}</button></form></div>')
    table = form.table()
    for k, row in enumerate(screens):
        monkeypatch.setattr(form, "table", lambda k=k: dataclasses.replace(table, screens=table.screens[k:]))
        assert _verdict(html).reason == row["id"]


@pytest.mark.parametrize("row", rows(FORMS, "exclude", where=lambda r: "<a " not in r["example"]))
def test_form_exclusion(row):
    """The example is ruled out by this very row; the control is a request or callback."""
    verdict = _verdict(row["example"])
    assert (verdict.value, verdict.reason) == (None, row["id"])
    assert not [e for e in form.detect(page(row["example"])) if e.value in ("request", "callback")]
    assert _verdict(row["control"]).value in ("request", "callback")
    assert {e.value for e in form.detect(page(row["control"]))} & {"request", "callback"}


@pytest.mark.parametrize("row", rows(FORMS, "exclude", where=lambda r: "<a " in r["example"]))
def test_form_link_exclusion(row):
    assert form.detect(page(row["example"])) == []
    assert [e.value for e in form.detect(page(row["control"]))] == ["embed:google-forms"]


# --- portal: platforms ------------------------------------------------------------
@pytest.mark.parametrize("row", rows(PORTAL, "platforms"))
def test_portal_platform_fires(row):
    assert portal_rules(row["example"]) == [f"portal.platform.{row['id']}"]
    assert portal_rules(f"<!-- {row['example']} -->") == []


@pytest.mark.parametrize("row", rows(PORTAL, "platforms", where=lambda r: r.get("reserved")))
def test_portal_platform_reserved_subdomains(row):
    """The vendor's own site (www, docs, help...) is not a client's portal."""
    for label in row["reserved"]:
        sample = re.sub(r"\\d[*+]", "2", label)
        assert re.fullmatch(label, sample), label
        for host in row["hosts"]:
            assert portal.platform_of(f"https://{sample}.{host}/portal") is None, (sample, host)
            assert portal_rules(f'<a href="https://{sample}.{host}/">Docs</a>') == []


@pytest.mark.parametrize("row", rows(PORTAL, "platforms", where=lambda r: r.get("context")))
def test_portal_platform_generic_path_needs_context(row):
    """A generic path (open.php) counts only with a ticket word or a helpdesk host/slug."""
    url = re.search(r'href="([^"]+)"', row["example"]).group(1)
    path = url.split("/", 3)[3]
    assert portal_rules(f'<a href="https://firm.ru/{path.split("/")[-1]}">Open</a>') == []
    assert portal_rules(f'<a href="https://firm.ru/{path.split("/")[-1]}">Заявка</a>') == \
        [f"portal.platform.{row['id']}"]


# --- portal: words ----------------------------------------------------------------
@pytest.mark.parametrize("row", rows(PORTAL, "words"))
def test_portal_word_example(row):
    """The row's own phrase is in its example text, and the example fires."""
    text = etree.HTML(row["example"]).find(".//a").text
    assert re.search(portal.phrase(row["text"], portal.table().endings), portal.normalize(text)), "example must use the row's phrase"
    expected = {"client": ["portal.link_words"], "login": ["portal.path"]}.get(row["tier"])
    rules_found = portal_rules(row["example"])
    assert rules_found in ([expected] if expected else [["portal.link_words"], ["portal.path"]])


@pytest.mark.parametrize("row", rows(PORTAL, "words"))
def test_portal_word_tier(row):
    """What a tier asks of the target: to a plain page of the site only `client`
    counts; to another site `service` too; a helpdesk host of the site takes
    service and help words, a portal slug any word."""
    text, tier = row["text"], row["tier"]
    plain = portal_rules(f'<a href="/about.html">{text}</a>')
    other = portal_rules(f'<a href="https://other-firm.com/">{text}</a>')
    desk = portal_rules(f'<a href="https://support.firm.ru/">{text}</a>')
    slug = portal_rules(f'<a href="/lk/">{text}</a>')
    assert plain == (["portal.link_words"] if tier == "client" else [])
    assert other == (["portal.link_words"] if tier in ("client", "service") else [])
    assert desk == (["portal.path"] if tier == "login" else ["portal.link_words"])
    assert slug == (["portal.path"] if tier in ("service", "help", "login") else ["portal.link_words"])


def test_same_site_copy_is_same_site():
    """A saved copy audited as its public domain: a relative link resolves to the copy's
    host, which is still the site (realsites en-village-computers 'Support Portal')."""
    p = ParsedPage(Page("http://127.0.0.1:8000/village/", '<a href="support.html">Support Portal</a>',
                        site_url="https://villagecomputers.example/"))
    assert portal.detect(p) == []
    p = ParsedPage(Page("http://127.0.0.1:8000/village/", '<a href="https://help.other.com/">Support Portal</a>',
                        site_url="https://villagecomputers.example/"))
    assert [e.rule for e in portal.detect(p)] == ["portal.link_words"]


def test_long_link_text_is_not_a_nav_item():
    limit = PORTAL["max_link_text"]
    text = "Личный кабинет " + "x" * limit
    assert portal_rules(f'<a href="/cab/">{text}</a>') == []


@pytest.mark.parametrize("slug", PORTAL["slugs"])
def test_portal_slug(slug):
    assert portal_rules(f'<a href="/{slug}/">Вход</a>') == ["portal.path"]
    assert portal_rules(f'<a href="/{slug}.html">Вход</a>') == ["portal.path"]
    assert portal_rules(f'<a href="/x-{slug}-y/">Вход</a>') == []


@pytest.mark.parametrize("group,label", pairs(PORTAL, "subdomains"))
def test_portal_subdomain(group, label):
    """A helpdesk or client host of the site: a login word counts, a help word too."""
    assert portal_rules(f'<a href="https://{label}.firm.ru/">Войти</a>') == ["portal.path"]
    assert portal_rules(f'<a href="https://{label}.firm.ru/">Поддержка</a>') == ["portal.link_words"]
    assert portal_rules(f'<a href="https://{label}.other-firm.ru/">Поддержка</a>') == []


@pytest.mark.parametrize("word", PORTAL["ticket_words"])
def test_ticket_words_give_context(word):
    assert portal_rules(f'<a href="https://firm.ru/open.php">{word}</a>') == ["portal.platform.osticket"]


# --- portal: exclusions -----------------------------------------------------------
@pytest.mark.parametrize("row", rows(PORTAL, "exclude"))
def test_portal_exclusion(row, monkeypatch):
    """The example does not fire, its control does; without this row the example would fire."""
    examples = [row["example"], *row.get("more_examples", [])]
    for example in examples:
        assert portal.detect(page(example)) == [], example
    assert portal.detect(page(row["control"]))
    table = portal.table()
    monkeypatch.setattr(portal, "table", lambda: table.__class__(**{
        **{f: getattr(table, f) for f in table.__dataclass_fields__},
        "exclusions": [e for e in table.exclusions if e.id != row["id"]]}))
    for example in examples:
        assert portal.detect(page(example)), f"the row itself must be what rules {example} out"


@pytest.mark.parametrize("href,text", [
    ("https://vk.com/firm", "Личный кабинет"), ("https://webmail.firm.ru/", "Личный кабинет"),
    ("https://firm.ru/wp-admin/", "Личный кабинет"), ("https://firm.ru/bitrix/admin/", "Личный кабинет"),
    ("https://firm.ru/cart/", "Личный кабинет"), ("https://firm.ru/ticket-login", "Owner login"),
    ("https://firm.ru/lk/", "Вход для сотрудников"), ("https://firm.ru/lk/", "Owner login"),
    ("https://partners.firm.ru/", "Личный кабинет партнёра"),
    ("https://firm.ru/personal/", "Личный кабинет партнера"),
])
def test_portal_exclusion_cases(href, text):
    assert portal.detect(page(f'<a href="{href}">{text}</a>')) == []


@pytest.mark.parametrize("part", PORTAL["helpdesk_paths"])
def test_helpdesk_path_on_a_shop_page_is_a_portal(part):
    """On a page with a cart, a client-area link counts only when its path names a helpdesk."""
    cart = '<a href="/basket/">Корзина</a>'
    assert portal_rules(f'<a href="/x/{part}/">Личный кабинет</a>{cart}') == ["portal.link_words"]
    assert portal_rules(f'<a href="/x/area/">Личный кабинет</a>{cart}') == []


@pytest.mark.parametrize("ending", PORTAL["russian_endings"])
def test_russian_ending_is_cut_from_a_phrase(ending):
    """A phrase word loses the ending, so the phrase matches the word with any other ending."""
    endings = portal.table().endings
    assert portal.phrase("кабинет" + ending, endings) == "кабинет[а-я]{0,3}"
    assert portal.phrase("кабинет" + ending, tuple(e for e in endings if e != ending)) != "кабинет[а-я]{0,3}"


def test_shop_customer_account_is_not_a_portal():
    """On a page with a cart, the shop's own customer account is not a client portal."""
    account = '<a href="/personal/">Личный кабинет</a>'
    assert portal_rules(account) == ["portal.link_words"]
    assert portal_rules(account + '<a href="/basket/">Корзина</a>') == []
    assert portal_rules('<a href="/helpdesk/">Личный кабинет</a><a href="/basket/">Корзина</a>') == \
        ["portal.link_words"]


# --- portal: client areas that the link words alone missed (issue 17) --------------------
def test_login_link_to_a_client_subdomain():
    """realsites en-sulspap-mfb: 'Online Banking' -> ibank.<site>; the same words to a plain page do not count."""
    assert portal_rules('<a href="https://ibank.firm.ru/index.html">Online Banking</a>') == ["portal.path"]
    assert portal_rules('<a href="online.html">Internet Banking</a>') == []
    assert portal_rules('<a href="https://bit.ly/4qDHc9K">ONLINE BANKING</a>') == []
    assert portal_rules('<a href="https://app.firm.ru/">Log in</a>') == ["portal.path"]


@pytest.mark.parametrize("page_name", PORTAL["login_pages"])
def test_the_sites_own_login_page(page_name):
    """realsites en-bams-website-builder: nav 'Login' -> /login (clients of the site log in there)."""
    assert portal_rules(f'<a href="/{page_name}">Login</a>') == ["portal.path"]
    assert portal_rules(f'<a href="/account/{page_name}.php">Sign in</a>') == ["portal.path"]
    assert portal_rules(f'<a href="/{page_name}">Pricing</a>') == [], "a login page needs a login word"
    assert portal_rules(f'<a href="https://other.com/{page_name}">Login</a>') == [], "another site's login"
    assert portal_rules(f'<a href="/{page_name}">Staff login</a>') == []
    assert portal_rules(f'<a href="/{page_name}">Login</a><a href="/cart/">Cart</a>') == [], "a shop's account"


def test_a_login_form_posting_to_a_login_page_is_not_enough():
    """A bare login form (any site may have user accounts) needs a client host, a portal slug or words."""
    html = '<form method="post" action="/login"><input name="login"><input type="password" name="p"><button>Войти</button></form>'
    assert portal_rules(html) == []


LOGIN_FORM = ('<div class="modal" id="auth" style="display:none"><form action="/ajax/auth.php" method="post">'
              '<input name="login"><input type="password" name="pass"><button>Войти</button></form></div>')


@pytest.mark.parametrize("opener", [
    '<div class="header-lk" onclick="openAuth()">Личный кабинет</div>',
    '<button class="btn" data-toggle="modal" data-target="#auth">Личный кабинет</button>',
    '<span class="lk-link">Вход в личный кабинет</span>',
    '<a href="#" onclick="openAuth()">Client Portal</a>',
    '<a href="javascript:void(0)">Личный кабинет клиента</a>',
])
def test_inline_login_opened_by_a_non_link(opener):
    found = portal.detect(page(opener + LOGIN_FORM))
    assert [(e.value, e.rule, e.method) for e in found] == [
        ("https://firm.ru/ajax/auth.php", "portal.inline_login", "inline_login")]
    assert portal.detect(page(opener)) == [], "no login form on the page: nothing opens"


@pytest.mark.parametrize("text", [
    "<p>Мы создаем личный кабинет для вашего бизнеса на маркетплейсе.</p>",  # realsites ru-wbhelp
    "<p>Наш блог о клиентских порталах и чатах.</p>",
    '<div class="lk">Личный кабинет партнёра</div>',
    '<div class="lk">Вход для сотрудников</div>',
])
def test_inline_login_controls(text):
    assert portal.detect(page(text + LOGIN_FORM)) == []


def test_inline_login_skips_a_cms_login():
    joomla = LOGIN_FORM.replace("</form>", '<input type="hidden" name="option" value="com_users"></form>')
    assert portal.detect(page('<div class="lk">Личный кабинет</div>' + joomla)) == []
