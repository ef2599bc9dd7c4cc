"""A test per signature row: every row of every table fires on its own example,
and does not fire when the example is commented out (HTML comment, and `//` for
inline loaders). Examples are ours, modelled on public install snippets (synthetic)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from crawler.detectors import chat, form, portal
from crawler.page import Page, ParsedPage

SIG = Path(__file__).resolve().parents[1] / "crawler" / "signatures"


def load(name):
    return yaml.safe_load((SIG / name).read_text(encoding="utf-8"))


def page(html: str, url: str = "https://firm.ru/") -> ParsedPage:
    return ParsedPage(Page(url, f"<html><body>{html}</body></html>"))


CHAT = load("chat.yaml")
FORMS = load("forms.yaml")
PORTAL = load("portal.yaml")


@pytest.mark.parametrize("row", CHAT["vendors"], ids=lambda r: r["id"])
def test_chat_vendor_fires(row):
    found = {(e.channel, e.value, e.rule) for e in chat.detect(page(row["example"]))}
    assert ("chat", row["id"], f"chat.{row['id']}") in found
    assert {v for c, v, _ in found if c == "chat"} == {row["id"]}, "no other vendor may fire"


@pytest.mark.parametrize("row", CHAT["vendors"], ids=lambda r: r["id"])
def test_chat_vendor_commented_out(row):
    assert chat.detect(page(f"<!-- {row['example']} -->")) == []


@pytest.mark.parametrize("row", [r for r in CHAT["vendors"] if "<script>" in r["example"] or "<script " in r["example"]
                                 and "src=" not in r["example"].split(">")[0]], ids=lambda r: r["id"])
def test_chat_inline_loader_commented_with_slashes(row):
    """The same loader with every JS line commented out with // must not count."""
    html = row["example"]
    start = html.index(">", html.index("<script")) + 1
    end = html.index("</script>", start)
    code = "\n".join("// " + line for line in html[start:end].splitlines())
    commented = "<script>" + code + "</script>"
    found = [e for e in chat.detect(page(commented)) if e.channel == "chat"]
    assert found == []


@pytest.mark.parametrize("row", CHAT["messengers"], ids=lambda r: r["id"])
def test_messenger_is_not_chat(row):
    found = chat.detect(page(row["example"]))
    assert {(e.channel, e.value) for e in found} == {("messenger", row["id"])}


@pytest.mark.parametrize("row", FORMS["embeds"], ids=lambda r: r["id"])
def test_form_embed_fires(row):
    values = {e.value for e in form.detect(page(row["example"]))}
    assert f"embed:{row['id']}" in values


@pytest.mark.parametrize("row", FORMS["embeds"], ids=lambda r: r["id"])
def test_form_embed_commented_out(row):
    assert form.detect(page(f"<!-- {row['example']} -->")) == []


@pytest.mark.parametrize("row", PORTAL["platforms"], ids=lambda r: r["id"])
def test_portal_platform_fires(row):
    found = portal.detect(page(row["example"]))
    assert [e.rule for e in found] == [f"portal.platform.{row['id']}"]


@pytest.mark.parametrize("word", PORTAL["words"]["strong"])
def test_portal_strong_word_alone(word):
    found = portal.detect(page(f'<a href="/some-page">{word}</a>'))
    assert [e.rule for e in found] == ["portal.link_words"]


@pytest.mark.parametrize("word", PORTAL["words"]["weak"])
def test_portal_weak_word_needs_slug_or_client_host(word):
    assert portal.detect(page(f'<a href="/about.html">{word}</a>')) == []
    assert [e.rule for e in portal.detect(page(f'<a href="/lk/">{word}</a>'))] == ["portal.link_words"]
    assert [e.rule for e in portal.detect(page(f'<a href="https://lk.firm.ru/">{word}</a>'))] == ["portal.subdomain"]


@pytest.mark.parametrize("slug", PORTAL["slugs"])
def test_portal_slug_row(slug):
    assert portal.detect(page(f'<a href="/{slug}/">Вход</a>'))


@pytest.mark.parametrize("sub", PORTAL["subdomains"])
def test_portal_subdomain_row(sub):
    found = portal.detect(page(f'<a href="https://{sub}.firm.ru/">Поддержка</a>'))
    assert [e.value for e in found] == [f"https://{sub}.firm.ru/"]


@pytest.mark.parametrize("href,text", [
    ("https://vk.com/firm", "Личный кабинет"), ("https://webmail.firm.ru/", "Личный кабинет"),
    ("https://firm.ru/wp-admin/", "Личный кабинет"), ("https://firm.ru/bitrix/admin/", "Личный кабинет"),
    ("https://firm.ru/cart/", "Личный кабинет"), ("https://firm.ru/ticket-login", "Client login"),
    ("https://firm.ru/lk/", "Вход для сотрудников"), ("https://firm.ru/lk/", "Owner login"),
    ("https://partners.firm.ru/", "Личный кабинет партнёра"),
])
def test_portal_exclusions(href, text):
    assert portal.detect(page(f'<a href="{href}">{text}</a>')) == []


@pytest.mark.parametrize("word", FORMS["words"]["newsletter"])
def test_newsletter_words_suppress(word):
    html = f'<form method="post"><input type="email" name="email"><button>{word}</button></form>'
    assert form.detect(page(html)) == []


@pytest.mark.parametrize("word", FORMS["words"]["callback"])
def test_callback_words(word):
    html = f'<form method="post"><input name="name"><input type="tel" name="phone"><button>{word}</button></form>'
    assert [e.value for e in form.detect(page(html))] == ["callback"]


@pytest.mark.parametrize("kind", ["name", "phone", "email", "company"])
def test_contact_field_tokens(kind):
    """Each field kind, recognised from its tokens, makes a request form with a message box."""
    for token in FORMS["fields"][kind]:
        html = f'<form method="post"><input name="x" placeholder="{token}"><textarea name="m"></textarea></form>'
        assert [e.value for e in form.detect(page(html))] == ["request"], token
