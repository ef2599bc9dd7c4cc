"""A test per row of the chat table (signatures/chat.yaml): every vendor fires on
its own example, and does not fire when the example is commented out (HTML
comment, and `//` for inline loaders); messenger links are not chat. Examples
are ours, modelled on public install snippets (synthetic). The form and portal
tables have their own file, tests/test_signatures_form_portal.py."""

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
