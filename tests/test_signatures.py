"""A test per row of the chat table (signatures/chat.yaml): every vendor fires on
its own example (and `more_examples`), with its kind in the evidence detail, and
does not fire when the example is commented out (HTML comment, and `//` for
inline loaders) nor on its `control`; a vendor's `hosts` serve its widget;
messenger links and callback widgets are not chat. Examples are ours, modelled
on public install snippets (synthetic). The form and portal tables have their
own file, tests/test_signatures_form_portal.py."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from chanaudit.crawler.detectors import chat
from chanaudit.crawler.page import Page, ParsedPage

SIG = Path(__file__).resolve().parents[1] / "crawler" / "signatures"


def load(name):
    return yaml.safe_load((SIG / name).read_text(encoding="utf-8"))


def page(html: str, url: str = "https://firm.ru/") -> ParsedPage:
    return ParsedPage(Page(url, f"<html><body>{html}</body></html>"))


CHAT = load("chat.yaml")
EXAMPLES = [pytest.param(row, example, id=f"{row['id']}-{i}") for row in CHAT["vendors"]
            for i, example in enumerate([row["example"], *row.get("more_examples", [])])]


def test_rows_are_well_formed():
    ids = [r["id"] for key in ("vendors", "messengers", "callbacks") for r in CHAT[key]]
    assert len(ids) == len(set(ids)), "row ids are unique across the table"
    for row in CHAT["vendors"]:
        assert row["kind"] in ("live_chat", "ai_chat"), row["id"]
        assert row.get("urls") or row.get("globals") or row.get("dom") or row.get("hosts"), row["id"]
    hosts = [h for r in CHAT["vendors"] for h in r.get("hosts", [])]
    assert len(hosts) == len(set(hosts)), "a vendor domain belongs to one row"


@pytest.mark.parametrize("row,example", EXAMPLES)
def test_chat_vendor_fires(row, example):
    found = chat.detect(page(example))
    assert ("chat", row["id"], f"chat.{row['id']}") in {(e.channel, e.value, e.rule) for e in found}
    assert {e.value for e in found if e.channel == "chat"} == {row["id"]}, "no other vendor may fire"
    assert {e.detail for e in found if e.channel == "chat"} == {row["kind"]}, "the kind is in the detail"


@pytest.mark.parametrize("row,example", EXAMPLES)
def test_chat_vendor_commented_out(row, example):
    assert chat.detect(page(f"<!-- {example} -->")) == []


@pytest.mark.parametrize("row", [r for r in CHAT["vendors"] if r.get("control")], ids=lambda r: r["id"])
def test_chat_vendor_control(row):
    """The vendor named on a page without its widget (its site, its logo, its API) is no chat."""
    assert [e for e in chat.detect(page(row["control"])) if e.channel == "chat"] == []


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


@pytest.mark.parametrize("row,host", [pytest.param(r, h, id=f"{r['id']}:{h}") for r in CHAT["vendors"]
                                      for h in r.get("hosts", [])])
def test_vendor_host_serves_the_widget(row, host):
    """A script or frame from the vendor's domain (any subdomain, any path) is its widget; a link
    to or an image from the vendor's site is not."""
    for html in (f'<script src="https://w7.{host}/any/path.js"></script>', f'<iframe src="https://{host}/x"></iframe>'):
        assert {e.value for e in chat.detect(page(html)) if e.channel == "chat"} == {row["id"]}, html
    control = f'<a href="https://www.{host}/">Vendor</a><img src="https://cdn.{host}/logo.png">'
    assert chat.detect(page(control)) == []
    # in loader code the domain counts as a loader URL, a link to the vendor's www site does not
    loader = f"<script>var s=document.createElement('script');s.src='https://cdn.{host}/l/abc';</script>"
    assert {e.value for e in chat.detect(page(loader)) if e.channel == "chat"} == {row["id"]}
    link = f"<script>var a=document.createElement('a');a.href='https://www.{host}/';</script>"
    assert [e for e in chat.detect(page(link)) if e.channel == "chat" and e.value == row["id"]] == []


@pytest.mark.parametrize("row", CHAT["messengers"], ids=lambda r: r["id"])
def test_messenger_is_not_chat(row):
    found = chat.detect(page(row["example"]))
    assert {(e.channel, e.value, e.detail) for e in found} == {("messenger", row["id"], "messenger")}


@pytest.mark.parametrize("row", CHAT["callbacks"], ids=lambda r: r["id"])
def test_callback_widget_is_not_chat(row):
    found = chat.detect(page(row["example"]))
    assert {(e.channel, e.value, e.rule, e.detail) for e in found} == \
        {("callback", row["id"], f"callback.{row['id']}", "callback")}
    assert chat.detect(page(f"<!-- {row['example']} -->")) == []
    if row.get("control"):
        assert [e for e in chat.detect(page(row["control"])) if e.value == row["id"]] == []


def test_an_unknown_kind_is_refused(monkeypatch):
    bad = {**CHAT, "vendors": [{**CHAT["vendors"][0], "kind": "chatty"}, *CHAT["vendors"][1:]]}
    monkeypatch.setattr(chat.signatures, "load", lambda name: bad)
    chat.table.cache_clear()
    try:
        with pytest.raises(ValueError, match="unknown kind 'chatty'"):
            chat.table()
    finally:
        chat.table.cache_clear()
