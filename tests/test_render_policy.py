"""The --render auto policy as data: a test per row of crawler/signatures/render.yaml.

Each row's `example` (ours, synthetic) goes on a page with enough text not to be an app
shell: tag-manager and injector examples ask for rendering, analytics examples do not, and
without the row each example would be judged the other way (the row is what decides)."""

from __future__ import annotations

import re

import pytest

from chanaudit.core.contract import Evidence
from chanaudit.crawler import render, signatures
from chanaudit.crawler.page import Page, ParsedPage

TABLE = signatures.load("render")
TEXT = "<p>" + "Обслуживание компьютеров для офисов. " * 10 + "</p>"


def page(body: str) -> ParsedPage:
    return ParsedPage(Page("https://firm.ru/", f"<html><body>{TEXT}{body}</body></html>"))


def without(monkeypatch, section: str, row_id: str) -> None:
    """The policy with one row of ``section`` taken out."""
    data = {**TABLE, section: [r for r in TABLE[section] if r["id"] != row_id]}
    monkeypatch.setattr(render.signatures, "load", lambda name: data)
    render.table.cache_clear()


@pytest.fixture(autouse=True)
def fresh_table():
    render.table.cache_clear()
    yield
    render.table.cache_clear()


def rows(section):
    return [pytest.param(r, id=r["id"]) for r in TABLE[section]]


@pytest.mark.parametrize("row", rows("tag_managers"))
def test_tag_manager_row(row, monkeypatch):
    assert render.needs_rendering(page(row["example"])) == f"tag manager: {row['id']}"
    assert render.needs_rendering(page(f"<!-- {row['example']} -->")) is None
    without(monkeypatch, "tag_managers", row["id"])
    assert render.needs_rendering(page(row["example"])) is None


@pytest.mark.parametrize("row", rows("injectors"))
def test_injector_row(row, monkeypatch):
    assert render.needs_rendering(page(row["example"])) == "inline script injects scripts"
    without(monkeypatch, "injectors", row["id"])
    assert render.needs_rendering(page(row["example"])) is None


@pytest.mark.parametrize("row", rows("analytics"))
def test_analytics_row(row, monkeypatch):
    assert render.needs_rendering(page(row["example"])) is None
    without(monkeypatch, "analytics", row["id"])
    assert render.needs_rendering(page(row["example"])) == "inline script injects scripts"


def test_a_chat_in_static_html_needs_no_browser_and_an_app_shell_does():
    gtm = TABLE["tag_managers"][0]["example"]
    chat = [Evidence("chat", "jivo", "https://firm.ru/", "script_src", "chat.jivo", "")]
    assert render.needs_rendering(page(gtm), chat) is None
    assert render.needs_rendering(page(gtm), []) == "tag manager: google-tag-manager"
    shell = ParsedPage(Page("https://firm.ru/", '<html><body><div id="app"></div><script src="/app.js"></script>'
                                                "</body></html>"))
    assert render.needs_rendering(shell) == "app shell: scripts and almost no text"
    assert render.needs_rendering(page("")) is None


# -- the hosts the browser never fetches from (`blocked`) -------------------------------------
URL = re.compile(r"""(?:https?:)?//[a-z0-9][a-z0-9.-]*\.[a-z]{2,}[^\s'"`<>()\\]*""", re.I)


def chat_urls() -> list[str]:
    """Every URL in chat.yaml's examples (vendors, messengers, callbacks), and a loader on every
    vendor's own domain and a subdomain of it."""
    data = signatures.load("chat")
    out = []
    for section in ("vendors", "messengers", "callbacks"):
        for row in data[section]:
            for example in [row.get("example") or "", *row.get("more_examples", [])]:
                out += [u if u.startswith("http") else "https:" + u for u in URL.findall(example)]
            for host in row.get("hosts", []):
                out += [f"https://{host}/widget.js", f"https://cdn.{host}/loader/abc.js"]
    return out


@pytest.mark.parametrize("row", rows("blocked"))
def test_blocked_row(row, monkeypatch):
    assert render.blocked(row["example"]) == row["id"]
    without(monkeypatch, "blocked", row["id"])
    assert render.blocked(row["example"]) is None


def test_no_chat_or_tag_manager_is_ever_blocked():
    urls = chat_urls()
    assert len(urls) > 400  # the table's URLs were read
    assert [u for u in urls if render.blocked(u)] == []
    for row in TABLE["tag_managers"]:  # the loaders that inject chats must run
        for url in URL.findall(row["example"]):
            assert render.blocked("https:" + url if url.startswith("//") else url) is None, url
    assert render.blocked("https://www.googletagmanager.com/gtm.js?id=GTM-X") is None


@pytest.mark.parametrize("url", [
    "https://notgoogle-analytics.com/x.js",  # a host that merely ends like a blocked one
    "https://connect.facebook.net/en_US/sdk/xfbml.customerchat.js",  # Messenger's chat plugin: runs
    "https://vk.com/js/api/openapi.js",  # VK's widgets (community messages) run; only its pixel is blocked
    "https://www.facebook.com/tracking/x",
    "https://code.jivo.ru/widget/abc",
])
def test_blocked_controls(url):
    assert render.blocked(url) is None
