"""The identity detector: the company's name, ИНН and ОГРН (records, never channels), and phone regions.

Checksums are tested on numbers published by the companies themselves (their sites' requisites and the
state register ЕГРЮЛ): Sberbank ИНН 7707083893, ОГРН 1027700132195; Yandex ИНН 7736207543, ОГРН
1027700229193; Gazprom ИНН 7736050003, ОГРН 1027700070518; and the examples of the ФНС format
descriptions: a person's ИНН 500100732259, an entrepreneur's ОГРНИП 304500116000157.
"""

from __future__ import annotations

import pytest

from chanaudit.core.contract import ALL_CHANNELS, CHANNELS, RECORD_KINDS, Evidence, site_channels
from chanaudit.crawler import signatures
from chanaudit.crawler.detectors import detect, identity
from chanaudit.crawler.detectors.identity import (
    complete_inn,
    complete_ogrn,
    title_name,
    valid_inn,
    valid_ogrn,
)
from chanaudit.crawler.detectors.phone import region_of
from chanaudit.crawler.page import Page, ParsedPage

REAL_INN = ["7707083893", "7736207543", "7736050003", "500100732259"]
REAL_OGRN = ["1027700132195", "1027700229193", "1027700070518", "304500116000157"]


def page(head: str = "", body: str = "", url: str = "https://romashka.ru/") -> ParsedPage:
    return ParsedPage(Page(url, f"<html lang='ru'><head>{head}</head><body>{body}</body></html>"))


def found(head: str = "", body: str = "", kind: str | None = None) -> list[tuple[str, str, str]]:
    return [(e.channel, e.value, e.rule) for e in identity.detect(page(head, body)) if kind in (None, e.channel)]


@pytest.mark.parametrize("number", REAL_INN)
def test_real_inn_checksums_hold(number):
    assert valid_inn(number)
    # one digit changed moves the weighted sum by w * delta, never 0 mod 11 (the weights are prime to 11), so
    # the check digit changes — unless the remainders are 0 and 10, which both give 0; no check digit here is 0
    for i in range(len(number)):
        for d in "0123456789":
            if d != number[i]:
                assert not valid_inn(number[:i] + d + number[i + 1:]), (number, i, d)


def test_inn_single_digit_errors_are_caught():
    # hand, Sberbank: 7·2+7·4+0·10+7·3+0·5+8·9+3·4+8·6+9·8 = 267, 267 mod 11 = 3, the last digit is 3
    assert valid_inn("7707083893") and not valid_inn("7707083894") and not valid_inn("7707083883")
    assert not valid_inn("770708389") and not valid_inn("77070838931") and not valid_inn("77070838९3")
    assert not valid_inn("") and not valid_inn(7707083893)  # type: ignore[arg-type]


@pytest.mark.parametrize("number", REAL_OGRN)
def test_real_ogrn_checksums_hold(number):
    assert valid_ogrn(number)
    # hand, Sberbank: 102770013219 mod 11 = 5 -> last digit 5; ОГРНИП: 30450011600015 mod 13 = 7
    assert not valid_ogrn(number[:-1] + str((int(number[-1]) + 1) % 10))


def test_ogrn_hand_values():
    assert 102770013219 % 11 % 10 == 5 and 30450011600015 % 13 % 10 == 7
    assert not valid_ogrn("0027700132195") and not valid_ogrn("102770013219") and not valid_ogrn("1O27700132195")


def test_complete_gives_the_real_numbers():
    assert complete_inn("770708389") == "7707083893" and complete_inn("50010073225") == "500100732259"
    assert complete_ogrn("102770013219") == "1027700132195" and complete_ogrn("30450011600015") == "304500116000157"
    with pytest.raises(ValueError):
        complete_inn("1234")


@pytest.mark.parametrize("body,inn,ogrn", [
    ("<p>ИНН 7707083893</p>", ["7707083893"], []),
    ("<p>ИНН: 7707083893, ОГРН: 1027700132195</p>", ["7707083893"], ["1027700132195"]),
    ("<p>ИНН/КПП 7707083893/773601001</p>", ["7707083893"], []),
    ("<footer><p>ОГРН <b>1027700132195</b></p><p>ИНН <span>7736207543</span></p></footer>", ["7736207543"],
     ["1027700132195"]),
    ("<p>ОГРНИП № 304500116000157, ИНН 500100732259</p>", ["500100732259"], ["304500116000157"]),
    ("<p>INN 7736050003 OGRN 1027700070518</p>", ["7736050003"], ["1027700070518"]),
    ("<p>ИНН 7707083894</p>", [], []),  # a wrong check digit: not an ИНН
    ("<p>ИНН 77070838931</p>", [], []),  # eleven digits: neither length
    ("<p>Тел. 7707083893</p>", [], []),  # no label: a number is not an ИНН
    ("<p>Свинн 7707083893</p>", [], []),  # the label inside a word does not count
    ("<!-- ИНН 7707083893 --><p>x</p>", [], []),  # comments are not on the page
])
def test_registration_numbers_on_pages(body, inn, ogrn):
    assert [v for _, v, _ in found(body=body, kind="inn")] == inn
    assert [v for _, v, _ in found(body=body, kind="ogrn")] == ogrn


@pytest.mark.parametrize("kind", ["inn", "ogrn"])
def test_every_registration_label_reads_its_number(kind):
    number = {"inn": "7707083893", "ogrn": "1027700132195"}[kind]
    labels = signatures.load("contact")["registration"][kind]
    assert labels
    for word in labels:
        got = found(body=f"<p>{word.upper()} {number}</p>", kind=kind) + found(body=f"<p>{word}: {number}</p>", kind=kind)
        assert [v for _, v, _ in got] == [number, number], word


def test_registration_numbers_are_never_phones():
    parsed = page(body="<p>ИНН 7707083893 ОГРН 1027700132195</p><p>Тел.: +7 (495) 500-55-50</p>")
    phones = [e.value for e in detect(parsed) if e.channel == "phone"]
    assert phones == ["+74955005550"]


def test_name_from_json_ld_og_and_title():
    head = ("<title>ИТ-аутсорсинг в Москве — Ромашка</title><meta property='og:site_name' content='Ромашка ИТ'>"
            "<script type='application/ld+json'>{\"@context\": \"https://schema.org\", \"@graph\": [{\"@type\": "
            "\"WebSite\", \"name\": \"site\"}, {\"@type\": [\"LocalBusiness\"], \"name\": \"Ромашка\", "
            "\"legalName\": \"ООО «Ромашка»\", \"taxID\": \"7707083893\"}]}</script>")
    assert found(head=head) == [("company", "ООО «Ромашка»", "identity.jsonld"),
                                ("inn", "7707083893", "identity.jsonld_inn"),
                                ("company", "Ромашка ИТ", "identity.og_site_name"),
                                ("company", "Ромашка", "identity.title")]
    assert all(not e.counted for e in identity.detect(page(head)))


@pytest.mark.parametrize("kind", signatures.load("contact")["identity"]["organization_types"])
def test_every_organization_type_gives_a_name(kind):
    head = f"<script type='application/ld+json'>{{\"@type\": \"{kind}\", \"name\": \"Фирма\"}}</script>"
    assert found(head=head, kind="company") == [("company", "Фирма", "identity.jsonld")]


def test_json_ld_of_other_types_and_broken_blocks_give_nothing():
    head = ("<script type='application/ld+json'>{\"@type\": \"WebPage\", \"name\": \"Главная\"}</script>"
            "<script type='application/ld+json'>{not json</script>")
    assert found(head=head) == []


@pytest.mark.parametrize("title,name", [
    ("ИТ-аутсорсинг в Москве — Ромашка", "Ромашка"),
    ("Главная | ООО Ромашка", "ООО Ромашка"),
    ("Ромашка - обслуживание компьютеров", "Ромашка"),
    ("Ай-Ти Сервис", "Ай-Ти Сервис"),  # a hyphen inside a word is not a separator
    ("Home :: Acme IT", "Acme IT"),
    ("Главная", ""),
])
def test_title_names(title, name):
    assert title_name(title) == name


@pytest.mark.parametrize("word", signatures.load("contact")["identity"]["generic_titles"])
def test_every_generic_title_segment_is_dropped(word):
    assert title_name(f"{word} | Ромашка") == "Ромашка" and title_name(word) == ""


@pytest.mark.parametrize("sep", signatures.load("contact")["identity"]["title_separators"])
def test_every_title_separator_splits(sep):
    assert title_name(f"Обслуживание компьютеров и серверов {sep} Ромашка") == "Ромашка"


def test_record_kinds_never_count_as_channels():
    assert set(RECORD_KINDS) == {"messenger", "callback", "company", "inn", "ogrn"} and set(CHANNELS) < set(ALL_CHANNELS)
    records = [Evidence(kind, "x", "https://a.ru/", "text", f"identity.{kind}") for kind in ("company", "inn", "ogrn")]
    records.append(Evidence("callback", "envybox", "https://a.ru/", "script_src", "callback.envybox", detail="callback"))
    assert site_channels(records) == dict.fromkeys(CHANNELS, 0)
    assert site_channels(records, count_hidden=True, messenger_as_chat=True) == dict.fromkeys(CHANNELS, 0)
    with pytest.raises(ValueError):
        Evidence("vat", "x", "https://a.ru/", "text", "x")


@pytest.mark.parametrize("number,lang,region", [
    ("+74955005550", "en", "Moscow"),
    ("+74993332211", "ru", "г. Москва"),
    ("+78122000000", "en", "St Petersburg"),
    ("+73432000000", "en", "Ekaterinburg"),
    ("+78432000000", "ru", "Республика Татарстан"),
    ("+79161234567", "en", ""),  # a mobile number says only its country: no region
    ("+78005553535", "en", ""),  # toll-free
    ("+12125551234", "en", "New York, NY"),
    ("not a number", "en", ""),
])
def test_phone_regions(number, lang, region):
    assert region_of(number, lang) == region
