"""Email and phone detectors on the traps named in SIGNALS.md and the realsites labels (synthetic pages)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from chanaudit.crawler.detectors import detect, email, phone
from chanaudit.crawler.detectors.email import decode_cfemail
from chanaudit.crawler.page import Page, ParsedPage


def page(body: str, url: str = "https://firm.ru/", lang: str = "ru", region: str | None = None) -> ParsedPage:
    return ParsedPage(Page(url, f'<html lang="{lang}"><head><title>t</title></head><body>{body}</body></html>',
                           region=region))


def emails(body, **kw):
    return {(e.value, e.rule) for e in email.detect(page(body, **kw)) if e.counted}


def phones(body, **kw):
    return {e.value for e in phone.detect(page(body, **kw)) if e.counted}


def cf_encode(address: str, key: int = 0x42) -> str:
    return f"{key:02x}" + "".join(f"{b ^ key:02x}" for b in address.encode())


# --- email ------------------------------------------------------------------
def test_mailto_with_subject_and_percent():
    assert emails('<a href="mailto:Info%40Firm.ru?subject=Заявка">пишите</a>') == {("info@firm.ru", "email.mailto")}


def test_text_per_node_never_glued():
    # nodes are glued only at an "@" (see test_address_split_across_inline_elements): a word
    # before an address stays a word, and a space or a block between two nodes keeps them apart
    assert emails("<span>Почта</span><span>info@firm.ru</span>") == {("info@firm.ru", "email.text")}
    assert emails("<span>info</span> <span>@firm.ru</span>") == set()
    assert emails("<li>info</li><li>@firm.ru</li>") == set()
    assert emails("<p>Почта: sales@firm.ru</p>") == {("sales@firm.ru", "email.text")}


def test_cloudflare_both_forms():
    hexed = cf_encode("info@firm.ru")
    body = (f'<a href="/cdn-cgi/l/email-protection#{hexed}"><span class="__cf_email__" '
            f'data-cfemail="{hexed}">[email&#160;protected]</span></a>')
    assert emails(body) == {("info@firm.ru", "email.cfemail")}
    assert decode_cfemail(cf_encode("почта@фирма.рф")) == "почта@фирма.рф"  # UTF-8 after XOR


def test_joomla_cloaking():
    body = """<script type='text/javascript'>
 <!--
 var prefix = '&#109;a' + 'i&#108;' + '&#116;o';
 var addy1 = 'sup&#112;ort' + '&#64;';
 addy1 = addy1 + 'f&#105;rm' + '&#46;' + 'r&#117;';
 document.write('<a ' + 'href=' + '\\'' + prefix + ':' + addy1 + '\\'>');
 document.write(addy1);
 //-->
 </script>"""
    assert emails(body) == {("support@firm.ru", "email.joomla")}


@pytest.mark.parametrize("text", ["info [at] firm [dot] ru", "info(собака)firm.ru", "info [собака] firm [точка] ru",
                                  "info{at}firm{dot}ru"])
def test_obfuscated_forms(text):
    assert emails(f"<p>{text}</p>") == {("info@firm.ru", "email.obfuscated")}


def test_bare_at_inside_words_is_not_an_address():
    assert emails("<p>Look at firm dot ru for our prices at noon</p>") == set()


def test_entities_decode_to_text():
    assert emails("<p>office&#64;firm.ru</p>") == {("office@firm.ru", "email.text")}


@pytest.mark.parametrize("junk", ["logo@2x.png", "Rating@Mail.ru", "example@example.com", "name@domain.com",
                                  "jane@example.com", "wght@400", "3f4b2c1d5e6f7a8b9c0d1e2f3a4b5c6d@sentry.io",
                                  "user@yoursite.com"])
def test_junk_rejected(junk):
    assert emails(f"<p>{junk}</p>") == set()


def test_google_maps_coordinates_rejected():
    assert emails('<a href="https://www.google.com/maps/place/@55.75,37.61,17z">карта</a><p>@55.751244,37.618423</p>') == set()


def test_jsonld_recorded_not_counted():
    body = '<script type="application/ld+json">{"@type":"Organization","email":"shawn@firm.com"}</script>'
    found = email.detect(page(body))
    assert [(e.value, e.rule, e.counted) for e in found] == [("shawn@firm.com", "email.jsonld", False)]


def test_placeholder_attribute_is_not_text():
    assert emails('<input type="email" placeholder="simple@gmail.com">') == set()


def test_contact_yaml_rows_each_tested():
    """Every junk address and placeholder domain in the table is rejected (a test per row)."""
    from pathlib import Path

    data = yaml.safe_load((Path(email.__file__).parents[1] / "signatures" / "contact.yaml").read_text("utf-8"))
    for address in data["email"]["junk_addresses"]:
        assert email.clean(address) is None, address
    for domain in data["email"]["placeholder_domains"]:
        assert email.clean(f"info@{domain}") is None, domain
    for ext in data["email"]["file_extensions"]:
        assert email.clean(f"logo@2x.{ext}") is None, ext
    for host in data["email"]["third_party_hosts"]:
        assert email.clean(f"abc@{host}") is None, host
    for token in data["email"]["at_tokens"]:
        assert emails(f"<p>info [{token}] firm.ru</p>") == {("info@firm.ru", "email.obfuscated")}, token



def test_placeholder_locals_only_at_free_mail_domains():
    """A row per placeholder local part and per free-mail domain it is refused at; the same local
    part at the company's own domain, and a real local part at a free-mail domain, stay."""
    data = yaml.safe_load((Path(email.__file__).parents[1] / "signatures" / "contact.yaml").read_text("utf-8"))
    domains = data["email"]["placeholder_local_domains"]
    for local in data["email"]["placeholder_locals"]:
        assert email.clean(f"{local}@{domains[0]}") is None, local
        assert email.clean(f"{local}@firm.ru") == f"{local}@firm.ru", local
    for domain in domains:
        assert email.clean(f"name@{domain}") is None, domain
        assert email.clean(f"sales.dept@{domain}") == f"sales.dept@{domain}", domain


# --- phone ------------------------------------------------------------------
@pytest.mark.parametrize("text,e164", [
    ("+7 (495) 123-45-67", "+74951234567"),
    ("8 (812) 555-12-34", "+78125551234"),
    ("8-800-555-35-35", "+78005553535"),
    ("(495)\u00a0\u00a0221-06-63", "+74952210663"),  # NBSP, no country code (realsites ru-artw)
    ("+7 495 123\u201345\u201367", "+74951234567"),  # en dashes
    ("+7 (343) 201-00-67 доб. 123", "+73432010067"),
])
def test_russian_formats(text, e164):
    assert phones(f"<p>Телефон: {text}</p>") == {e164}


def test_split_across_spans():
    found = phone.detect(page("<p><span>+7 (863)</span> 267-85-37</p>"))
    assert [(e.value, e.rule) for e in found] == [("+78632678537", "phone.split")]


def test_tel_and_callto_links():
    body = '<a href="callto:+78632260839">позвонить</a><a href="tel:8436086560">Call</a>'
    assert phones(body, url="https://firm.com/", lang="en") == {"+78632260839", "+18436086560"}


def test_region_follows_the_site():
    # +38 numbers on a .com.ua site, a local number on a .ua site
    assert phones('<a href="tel:+380933904048">Kyiv</a>', url="https://sysit.com.ua/") == {"+380933904048"}
    assert phones("<p>Тел.: (044) 123-45-67</p>", url="https://firm.com.ua/") == {"+380441234567"}


@pytest.mark.parametrize("text", ["ИНН 7713793002", "ОГРН 1147746435872", "КПП 771301001",
                                  "р/с 40702810938000012345", "БИК 044525225"])
def test_registration_numbers_rejected(text):
    assert phones(f"<p>{text}</p>") == set()


def test_glued_digits_need_a_label():
    assert phones("<p>заказ74951234567 оформлен</p>") == set()
    assert phones("<p>Артикул 74951234567</p>") == set()
    assert phones("<p>тел 74951234567</p>") == {"+74951234567"}


def test_dates_are_not_phones():
    assert phones("<p>Работаем с 01.02.2016 по 31.12.2026, 10:00-19:00</p>") == set()
    # a portfolio list of dated items (realsites ru-cinet) beside a number on the same line
    assert phones("<li>Сайт компании ООО «Аэро» 15.12.2011</li><li>© 1999–2014</li>") == set()
    assert phones("<p>04.09.2014 звоните: 8 (863) 267-85-37, 8.800.555.35.35</p>") == {"+78632678537", "+78005553535"}


def test_number_in_html_comment_does_not_count():
    assert phones("<!-- +7 (812) 700 78 96 --><p>Контакты</p>") == set()


def test_extension_kept_in_detail():
    found = phone.detect(page("<p>Тел. +7 (495) 123-45-67 доб. 123</p>"))
    assert found[0].detail == "ext 123"


def test_label_and_forbidden_rows():
    from pathlib import Path

    data = yaml.safe_load((Path(phone.__file__).parents[1] / "signatures" / "contact.yaml").read_text("utf-8"))
    for label in data["phone"]["labels"]:
        assert phones(f"<p>{label} 74951234567</p>") == {"+74951234567"}, label
    registration = [w for words in data["registration"].values() for w in words]  # ИНН, ОГРН: refused too
    for word in [*data["phone"]["forbidden"], *registration]:
        assert phones(f"<p>{word} +7 (495) 123-45-67</p>") == set(), word


@pytest.mark.parametrize("body,expected", [
    ("<p>info<span>@</span>firm.ru</p>", {("info@firm.ru", "email.split")}),
    ("<p>Почта: <a href='#'>sales</a><span>@</span><span>firm.ru</span>, звоните</p>", {("sales@firm.ru", "email.split")}),
    ("<p><i>info</i>@firm.ru</p>", {("info@firm.ru", "email.split")}),
    # never glued: across blocks, across spaces, words beside an address
    ("<div>info</div><div>@firm.ru</div>", set()),
    ("<p>пишите <span>@</span> нам</p>", set()),
    ("<p>E-mail<b>info@firm.ru</b></p>", {("info@firm.ru", "email.text")}),
])
def test_address_split_across_inline_elements(body, expected):
    assert emails(body) == expected


def test_text_after_a_comment_is_visible():
    # lxml's iterwalk skips comments and with them the text that follows one
    assert phones("<p>Телефон: <!-- старый номер --> +7 (495) 123-45-67</p>") == {"+74951234567"}
    assert emails("<p>Почта:<!-- --> info@firm.ru</p>") == {("info@firm.ru", "email.text")}


def test_find_addresses_equals_a_full_regex_scan():
    """The "@"-anchored scan finds exactly what EMAIL_RE.finditer finds (synthetic random texts,
    long local parts and domains that cross the read window included)."""
    import random

    from chanaudit.crawler.detectors.email import EMAIL_RE, find_addresses

    rng = random.Random(7)
    texts = ["".join(rng.choice("ab.-_@ z0+Яя\n") for _ in range(rng.randint(0, 80))) for _ in range(5000)]
    texts += ["x" * 500 + " info@firm.ru " + "a@" * 300 + "b" * 70 + "@" + "c." * 200 + "ru",
              "q" * 70 + "@firm.ru, " + "d-" * 200 + "@x.ru",
              *(f"see a@{'cc.' * n}ru, b@firm.ru" for n in range(100, 106))]  # up to 319 past the "@"
    for text in texts:
        assert [m.span() for m in find_addresses(text)] == [m.span() for m in EMAIL_RE.finditer(text)], text
    # past the 320-character reach (SMTP allows 254 in all) an overlong string is cut, the next address kept
    text = f"see a@{'cc.' * 110}ru, b@firm.ru"
    (first, second), (full_first, full_second) = find_addresses(text), EMAIL_RE.finditer(text)
    assert first.start() == full_first.start() and first.end() - text.index("@") <= 320
    assert second.span() == full_second.span()


def test_phone_windows_cover_what_the_matcher_accepts():
    """The matcher reads only stretches around digits: its punctuation is ours, numbers written with
    any of it are found, and a stretch that only a refused number could fill is not read."""
    import re

    import phonenumbers.phonenumberutil as pnu

    from chanaudit.crawler.detectors.phone import PUNCTUATION_CLASS, _windows, table

    ours, theirs = re.compile(f"[{PUNCTUATION_CLASS}]"), re.compile(f"[{pnu._VALID_PUNCTUATION}{pnu._PLUS_CHARS}]")
    assert all(bool(ours.match(chr(c))) == bool(theirs.match(chr(c))) for c in range(0x3100))
    assert phones("<p>Отдел кадров: Тел.: 8–812–297–54–89, с 10 до 19</p>") == {"+78122975489"}
    assert phones("<p>ИНН 7713793002, КПП 771301001. Отдел продаж, звоните по телефону +7 (495) 123-45-67 доб. 12"
                  "</p>") == {"+74951234567"}
    t = table()
    line = "ООО «Фирма», ИНН 7713793002, КПП 771301001, ОГРН 1147746877783, тел. +7 495 123-45-67"
    (start, end), = _windows(line, line, t.forbidden, t.context)
    assert line[start:end] == "ел. +7 495 123-45-67"  # the numbers after ИНН, КПП and ОГРН are not read


def test_hostile_json_ld_costs_nothing_else():
    """A JSON-LD block nested 100,000 deep (synthetic) made json.loads raise RecursionError, which
    stopped every detector on the page; now it is skipped and the rest is found."""
    from chanaudit.crawler.detectors import detect
    from chanaudit.crawler.jsonld import loads, string_fields

    deep = "[" * 100_000 + "]" * 100_000
    body = f'<script type="application/ld+json">{deep}</script><p>Тел.: +7 495 123-45-67, info@firm.ru</p>'
    found = {(e.channel, e.value) for e in detect(page(body))}
    assert {("phone", "+74951234567"), ("email", "info@firm.ru")} <= found
    assert loads(deep) is None and loads("{") is None
    data = loads('{"a": {"Email": "x@firm.ru"}, "email": "y@firm.ru", "list": [{"EMAIL": "z@firm.ru"}, 5, null]}')
    assert string_fields(data, frozenset({"email"})) == ["x@firm.ru", "y@firm.ru", "z@firm.ru"]  # document order
    nested: object = "w@firm.ru"
    for _ in range(5000):  # deeper than Python's recursion limit: the walk keeps its own stack
        nested = {"x": [nested]} if not isinstance(nested, str) else {"email": nested}
    assert string_fields(nested, frozenset({"email"})) == ["w@firm.ru"]


# --- issue 17: exact decoded values, vanity TLDs, a "+" before a national number -----------------
def test_joomla_cloaking_gives_the_exact_address():
    """Joomla 3's cloak writes the address twice (href and text) from variables: gluing its literals
    ran them together ("info@firm.ruinfo@firm.ru" read as "info@firm.ruinfo")."""
    body = """<span id="cloak1a2b">This email address is being protected from spambots.</span><script type='text/javascript'>
 document.getElementById('cloak1a2b').innerHTML = '';
 var prefix = '&#109;a' + 'i&#108;' + '&#116;o';
 var path = 'hr' + 'ef' + '=';
 var addy1a2b = '&#105;nf&#111;' + '&#64;';
 addy1a2b = addy1a2b + 'f&#105;rm' + '&#46;' + 'r&#117;';
 var addy_text1a2b = '&#105;nf&#111;' + '&#64;' + 'f&#105;rm' + '&#46;' + 'r&#117;';document.getElementById('cloak1a2b').innerHTML += '<a ' + path + '\\'' + prefix + ':' + addy1a2b + '\\'>'+addy_text1a2b+'<\\/a>';
 </script>"""
    assert emails(body) == {("info@firm.ru", "email.joomla")}
    assert email._joomla(body) == ["info@firm.ru"]


def test_joomla_two_cloaks_on_one_page_stay_apart():
    one = "var addy1 = 'sales' + '&#64;'; addy1 = addy1 + 'firm' + '&#46;' + 'ru'; document.write(addy1);"
    two = "var addy2 = 'help' + '&#64;'; addy2 = addy2 + 'firm' + '&#46;' + 'ru'; document.write(addy2);"
    assert email._joomla(one + "\n" + two) == ["sales@firm.ru", "help@firm.ru"]


def test_joomla_4_hidden_mail_element():
    body = ('<joomla-hidden-mail is-link="1" is-email="1" first="aW5mbw==" last="ZmlybS5ydQ==" '
            'text="aW5mb0BmaXJtLnJ1" base="">This email address is being protected</joomla-hidden-mail>')
    assert emails(body) == {("info@firm.ru", "email.joomla")}
    assert emails(body.replace('first="aW5mbw=="', 'first="%%%"')) == set()


def test_cloudflare_decoder_without_a_protected_address_is_no_email():
    decoder = '<script data-cfasync="false" src="/cdn-cgi/scripts/5c5dd728/cloudflare-static/email-decode.min.js"></script>'
    assert emails(decoder) == set()
    assert emails(decoder + '<a href="/cdn-cgi/l/email-protection">[email&#160;protected]</a>') == set()
    assert emails(decoder + '<span class="__cf_email__" data-cfemail="">[email protected]</span>') == set()
    hexed = cf_encode("office@firm.ru")
    assert emails(decoder + f'<span class="__cf_email__" data-cfemail="{hexed}">[email protected]</span>') == \
        {("office@firm.ru", "email.cfemail")}


@pytest.mark.parametrize("tld", ["pw", "io", "co", "me", "tv", "cc", "ai", "ws"])
def test_vanity_tld_reads_numbers_in_the_page_language(tld):
    """A Russian page on a .pw (or .io, .ws...) domain: 8 (9xx) numbers are Russian, not Palau's."""
    body = "<p>Звоните: 8 (912) 345-67-89, 8 800 600 48 74</p>"
    assert phones(body, url=f"https://firm.{tld}/") == {"+79123456789", "+78006004874"}
    assert page("", url=f"https://firm.{tld}/").regions[0] == "RU"


def test_a_country_tld_still_decides():
    assert page("", url="https://firm.by/").regions == ("BY",)
    assert page("", url="https://firm.co.uk/", lang="en").regions == ("GB",)
    assert page("", url="https://firm.com/", lang="en").regions[:2] == ("US", "GB")
    assert page("", url="https://firm.io/", lang="en").regions[-1] == "IO"


def test_a_number_valid_only_in_another_region_of_the_language():
    """An English page on a .com: an Australian mobile "0420 749 361" (realsites en-analogyit) is read
    in the next region the language speaks for, where it is valid."""
    assert phones("<p>Call 0420 749 361</p>", url="https://analogyit.com/", lang="en") == {"+61420749361"}
    # but never digits after a written country code: "(+234) 012819231" is no Irish number
    assert phones("<p>Tel: (+234) 012819231</p>", url="https://bank.com/", lang="en") == set()


def test_a_plus_before_a_national_number():
    """realsites en-rootguard: "+315-338-3592" is the US number (315) 338-3592 with a stray "+"."""
    assert phones("<p>+315-338-3592 / +215-595-623-6326</p>", url="https://firm.com/", lang="en") == {"+13153383592"}
    assert phones("<p>Тел.: +8 (800) 555-35-35</p>") == {"+78005553535"}
    assert phones("<p>+7 (495) 123-45-67</p>") == {"+74951234567"}, "a valid number keeps its country code"


@pytest.mark.parametrize("html, expected", [
    # two numbers on two lines of one block: one run of digits before, none found
    ('<p>Телефоны: +7 (495) 538-87-87<br> 8 800 885-19-85</p>', {"+74955388787", "+78008851985"}),
    ('<p>+7 (495) 538-87-87<br/>8 (800) 885-19-85</p>', {"+74955388787", "+78008851985"}),
    # the line break inside an inline element ends the line for the text after that element too
    ('<p><b>Тел.: +7 (495) 538-87-87<br></b>8 800 885-19-85</p>', {"+74955388787", "+78008851985"}),
    # a number split across inline elements on one line is still one number
    ('<p>Тел.: <span>+7 (863)</span> 267-85-37<br>Пн-Пт 9-18</p>', {"+78632678537"}),
])
def test_a_line_break_separates_numbers(html, expected):
    """SYNTHETIC snippets: text after <br> is a new line (the phone matcher never crosses one)."""
    found = {ev.value for ev in detect(Page("https://firm.ru/", f"<html lang='ru'><body>{html}</body></html>"))
             if ev.channel == "phone"}
    assert found == expected


def test_an_address_split_by_a_line_break_is_not_glued():
    html = "<html><body><p>info<br>@firm.ru</p><p>sales<span>@</span>firm.ru</p></body></html>"  # SYNTHETIC
    found = {ev.value for ev in detect(Page("https://firm.ru/", html)) if ev.channel == "email"}
    assert "sales@firm.ru" in found and "info@firm.ru" not in found
