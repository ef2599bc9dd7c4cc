"""Chat beyond the vendor rows (issue 17): kinds, the vendor-agnostic rules, script files, and how
the kinds count (synthetic pages)."""

from __future__ import annotations

import pytest
import yaml

from chanaudit.core.contract import Evidence, chat_kind, site_channels
from chanaudit.crawler.detectors import chat, detect
from chanaudit.crawler.page import Page, ParsedPage
from tests.test_signatures import SIG

GENERIC = yaml.safe_load((SIG / "chat.yaml").read_text(encoding="utf-8"))["generic"]


def page(body: str, url: str = "https://firm.ru/", rendered: bool = False) -> ParsedPage:
    html = f"<html><body>{body}</body></html>"
    return ParsedPage(Page(url, "" if rendered else html, rendered_html=html if rendered else None))


def chats(body: str, **kw) -> list[tuple[str, str, str]]:
    return [(e.value, e.rule, e.detail) for e in chat.detect(page(body, **kw)) if e.channel == "chat"]


# --- chat.generic_loader ----------------------------------------------------------
@pytest.mark.parametrize("html,value,kind", [
    ('<script src="https://cdn.unknownvendor.io/livechat/loader.js" async></script>', "cdn.unknownvendor.io", "live_chat"),
    ('<script src="https://webchat.newvendor.net/v2/embed.js"></script>', "webchat.newvendor.net", "live_chat"),
    ('<iframe src="https://widget.acme-helpers.com/chat?id=5"></iframe>', "widget.acme-helpers.com", "live_chat"),
    ('<script src="https://assets.botcompany.ai/bot/widget.js"></script>', "assets.botcompany.ai", "ai_chat"),
    ('<script src="https://cdn.acme.io/consultant/init.js"></script>', "cdn.acme.io", "live_chat"),
    ("<script>(function(){var s=document.createElement('script');s.async=true;"
     "s.src='https://static.vendorx.com/chatbot/v1/widget.js';document.head.appendChild(s);})();</script>",
     "static.vendorx.com", "ai_chat"),
])
def test_generic_loader(html, value, kind):
    assert chats(html) == [(value, "chat.generic_loader", kind)]


@pytest.mark.parametrize("html", [
    '<script src="/js/chat.js"></script>',  # the site's own file: a UI kit's chat component, not a loader
    '<script src="https://firm.ru/assets/livechat.js"></script>',
    '<iframe src="https://www.youtube.com/live_chat?v=abc"></iframe>',  # a video's chat room
    '<script src="https://www.gstatic.com/firebasejs/9.0.0/firebase-messaging.js"></script>',  # push messages
    '<script src="https://www.consultant.ru/js/widget.js"></script>',  # the legal database «Консультант»
    '<script src="https://cdn.botd-lib.example/botd.min.js"></script>',  # "botd" is not the word "bot"
    '<a href="https://livechat.example.com/">Chat software we recommend</a>',  # a link, not a loader
    "<script>var x = {url: 'https://chat.vendor.io/widget.js'};</script>",  # no script injected
    "<!-- <script src='https://cdn.unknownvendor.io/livechat/loader.js'></script> -->",
    "<script>// var s=document.createElement('script'); s.src='https://cdn.unknownvendor.io/livechat/l.js';</script>",
])
def test_generic_loader_controls(html):
    assert chats(html) == []


def test_a_vendor_row_wins_over_the_generic_rule():
    html = '<script src="https://embed.tawk.to/abc/default"></script><script src="https://chat.other.io/x.js"></script>'
    assert chats(html) == [("tawk", "chat.tawk", "live_chat")]


def test_a_messenger_button_is_not_a_generic_chat():
    assert chats('<script async src="https://static.getbutton.io/widget/bundle.js?id=abc"></script>') == []


# --- chat.generic_launcher (rendered DOM) -----------------------------------------------
LAUNCHER = ('<div id="helper-launcher" style="position: fixed; bottom: 24px; right: 24px; z-index: 99999">'
            '<button aria-label="Open chat">{}</button></div>')


@pytest.mark.parametrize("words,kind", [("Онлайн-консультант", "live_chat"), ("Напишите нам", "live_chat"),
                                        ("Chat with us", "live_chat"), ("Ask AI", "ai_chat"), ("Чат", "live_chat")])
def test_launcher_in_a_rendered_corner(words, kind):
    assert chats(LAUNCHER.format(words).replace(' aria-label="Open chat"', ""), rendered=True) == \
        [("launcher", "chat.generic_launcher", kind)]


@pytest.mark.parametrize("html", [
    LAUNCHER.format("Чат"),  # the same markup in static HTML: the rule reads rendered pages only
])
def test_launcher_needs_a_rendered_page(html):
    assert chats(html) == []


@pytest.mark.parametrize("html", [
    '<div style="position:fixed;bottom:0;left:0;right:0">Мы используем cookie. <button>OK</button></div>',
    '<div style="position:fixed;bottom:20px;right:20px"><a href="https://wa.me/79001234567">Chat with us</a></div>',
    '<div style="position:fixed;top:0;right:0">Чат</div>',  # a top bar, not a bottom corner
    '<div style="position:relative;bottom:20px;right:20px">Чат</div>',
    '<div style="position:fixed;bottom:20px;right:20px"><a href="tel:+79001234567">Позвонить</a></div>',
    '<div style="position:fixed;bottom:20px;right:20px;">' + "Чат с менеджером и длинный текст " * 5 + "</div>",
])
def test_launcher_controls(html):
    assert chats(html, rendered=True) == []


def test_launcher_words_of_the_table_fire():
    for word in GENERIC["launcher_words"]:
        html = f'<div class="x" style="position:fixed;bottom:10px;left:10px"><span>{word}</span></div>'
        assert chats(html, rendered=True), word


# --- script files: chat rules on a same-site file's code ----------------------------------
def test_detect_code_reads_a_loader_file():
    code = ("var Tawk_API=Tawk_API||{};(function(){var s1=document.createElement('script');"
            "s1.src='https://embed.tawk.to/68754339a5/1j0';document.head.appendChild(s1);})();")
    found = chat.detect_code(code, "https://firm.ru/", "https://firm.ru/js/livechat.js")
    assert [(e.channel, e.value, e.page_url, e.method, e.detail) for e in found] == [
        ("chat", "tawk", "https://firm.ru/", "script_file", "live_chat; in https://firm.ru/js/livechat.js")]
    assert "embed.tawk.to" in found[0].snippet


def test_detect_code_ai_widget_and_comments():
    flowise = ('const s=document.createElement("script");s.type="module";s.innerHTML=`import Chatbot from '
               '"https://cdn.jsdelivr.net/npm/flowise-embed/dist/web.js"; Chatbot.init({chatflowid: "x"})`;')
    assert {(e.value, e.detail.split(";")[0]) for e in chat.detect_code(flowise, "https://f.ru/", "https://f.ru/j.js")} \
        == {("flowise", "ai_chat")}
    commented = "/* s.src='https://embed.tawk.to/abc/default'; */\n// jivo_api.open();"
    assert chat.detect_code(commented, "https://f.ru/", "https://f.ru/j.js") == []


def test_detect_code_generic_loader_in_a_file():
    code = "var s=document.createElement('script');s.src='https://cdn.unknownvendor.io/webchat/loader.js';"
    found = chat.detect_code(code, "https://firm.ru/", "https://firm.ru/js/app.js")
    assert [(e.value, e.rule) for e in found] == [("cdn.unknownvendor.io", "chat.generic_loader")]
    own = "fetch('/api/chat', {method: 'POST'}); var u = 'https://firm.ru/chat/history';"
    assert chat.detect_code(own, "https://firm.ru/", "https://firm.ru/js/ayah-chat.js") == []


# --- kinds and how they count ------------------------------------------------------------
def ev(channel: str, value: str, detail: str, counted: bool = True) -> Evidence:
    return Evidence(channel, value, "https://firm.ru/", "script_src", f"{channel}.{value}", "", detail, counted)


def test_chat_kind_from_detail():
    assert chat_kind(ev("chat", "flowise", "ai_chat; in https://f.ru/j.js")) == "ai_chat"
    assert chat_kind(ev("chat", "jivo", "")) == "live_chat"  # an audit older than the kinds
    assert chat_kind(ev("messenger", "whatsapp", "")) == "messenger"
    assert chat_kind(ev("callback", "zingaya", "callback")) == "callback"
    assert chat_kind(ev("email", "a@b.ru", "")) == ""


def test_ai_chat_counts_unless_switched_off():
    ai = [ev("chat", "flowise", "ai_chat")]
    assert site_channels(ai)["chat"] == 1
    assert site_channels(ai, ai_chat_as_chat=False)["chat"] == 0
    both = ai + [ev("chat", "jivo", "live_chat")]
    assert site_channels(both, ai_chat_as_chat=False)["chat"] == 1


def test_callback_widgets_never_count():
    callback = [ev("callback", "envybox-callback", "callback")]
    for kw in ({}, {"messenger_as_chat": True}, {"count_hidden": True}):
        assert site_channels(callback, **kw) == dict.fromkeys(("email", "phone", "chat", "form", "portal"), 0)


def test_every_chat_finding_has_a_kind():
    body = ('<script src="//code.jivo.ru/widget/X"></script><a href="https://t.me/firm">TG</a>'
            '<script src="https://cdn.envybox.io/widget/cbk.js?wcb_code=a"></script>'
            '<script src="https://widget.docsbot.ai/chat.js"></script>')
    found = detect(page(body))
    kinds = {(e.channel, e.value): chat_kind(e) for e in found if e.channel in ("chat", "messenger", "callback")}
    assert kinds == {("chat", "jivo"): "live_chat", ("messenger", "telegram"): "messenger",
                     ("callback", "envybox-callback"): "callback", ("chat", "docsbot"): "ai_chat"}


# --- a rendered page's attempted requests (crawler/browser.py, RenderWatch) -------------------------
def rendered(body: str = "<p>Firm</p>", requests=(), corners=None, url: str = "https://firm.ru/") -> ParsedPage:
    html = f"<html><body>{body}</body></html>"
    return ParsedPage(Page(url, html, rendered_html=html, requests=tuple(requests), corners=corners))


def found(p: ParsedPage) -> list[tuple[str, str, str, str, str]]:
    return [(e.channel, e.value, e.rule, e.method, e.detail) for e in chat.detect(p)
            if e.channel in ("chat", "messenger", "callback")]


@pytest.mark.parametrize("kind,url,outcome", [
    ("script", "https://code.jivo.ru/widget/AbCd12", "blocked"),  # aborted by the browser: still the page's ask
    ("script", "https://code-ya.jivosite.com/widget.js", "failed: net::ERR_NAME_NOT_RESOLVED"),
    ("document", "https://code.jivosite.com/script/widget/AbCd12", "loaded"),
    ("xhr", "https://api.jivosite.com/1/x", "loaded"),  # the widget's call home, on the vendor's own domain
])
def test_an_attempted_request_to_a_vendor_is_evidence(kind, url, outcome):
    assert found(rendered(requests=[(kind, url, outcome)])) == [
        ("chat", "jivo", "chat.jivo", "attempted_request", f"live_chat; attempted {kind} request, {outcome}")]


@pytest.mark.parametrize("kind", ["image", "stylesheet", "font", "media", "other", "ping"])
def test_a_vendor_logo_or_style_is_no_widget(kind):
    assert found(rendered(requests=[(kind, "https://www.jivo.ru/img/logo.svg", "blocked")])) == []


def test_attempts_add_only_what_the_markup_does_not_show():
    body = '<script src="https://code.jivo.ru/widget/AbCd12"></script>'
    requests = [("script", "https://code.jivo.ru/widget/AbCd12", "blocked"),
                ("script", "https://static.getbutton.io/widget/bundle.js?", "blocked")]
    assert found(rendered(body, requests)) == [
        ("chat", "jivo", "chat.jivo", "script_src", "live_chat"),
        ("messenger", "messenger-widget", "messenger.messenger-widget", "attempted_request",
         "messenger; attempted script request, blocked")]


def test_the_generic_loader_rule_reads_attempted_third_party_scripts_and_frames():
    assert found(rendered(requests=[("script", "https://cdn.newvendor.io/livechat/loader.js", "blocked")])) == [
        ("chat", "cdn.newvendor.io", "chat.generic_loader", "attempted_request",
         "live_chat; attempted script request, blocked")]
    assert found(rendered(requests=[("document", "https://bots.acme.ai/frame", "loaded")]))[0][4].startswith("ai_chat")
    for request in [("script", "https://firm.ru/js/chat.js", "loaded"),  # the site's own file
                    ("xhr", "https://api.newvendor.io/livechat/messages", "loaded"),  # not a loader
                    ("script", "https://www.google.com/recaptcha/api.js", "loaded")]:
        assert found(rendered(requests=[request])) == [], request
    # a vendor row found on the page leaves the generic rule out
    assert [f[1] for f in found(rendered('<script src="https://embed.tawk.to/a/b"></script>',
                                         [("script", "https://chat.other.io/x.js", "loaded")]))] == ["tawk"]


# --- chat.generic_launcher by computed style (crawler/browser.py, CORNERS_JS) --------------------
def corner(text: str = "", **kw) -> dict:
    return {"tag": "div", "id": "", "cls": "", "text": text, "labels": [], "frames": [], "hrefs": [],
            "box": [1146, 654, 110, 42], **kw}


@pytest.mark.parametrize("c,kind", [
    (corner("Чат с нами"), "live_chat"),
    (corner("", labels=["Ask AI"]), "ai_chat"),
    (corner("", tag="iframe", labels=["Chat widget"], frames=["https://w.unknown.io/x"]), "live_chat"),
    (corner("", cls="support-chat-bubble"), "live_chat"),
    (corner("", tag="live-chat"), "live_chat"),
])
def test_a_corner_the_browser_reported(c, kind):
    assert found(rendered(corners={"width": 1280, "height": 720, "corners": [c]})) == [
        ("chat", "launcher", "chat.generic_launcher", "corner", kind)]


@pytest.mark.parametrize("c", [
    corner("Chat with us", hrefs=["https://wa.me/79001234567"]),  # a messenger button
    corner("Позвонить", hrefs=["tel:+79001234567"]),
    corner("Чат с менеджером и длинный текст " * 5),  # a panel or a banner
    corner("Наверх"),  # back to top
])
def test_corner_controls(c):
    assert [f for f in found(rendered(corners={"width": 1280, "height": 720, "corners": [c]})) if f[0] == "chat"] == []


def test_computed_corners_replace_inline_styles_once_read():
    """An inline-styled launcher that the browser did not see in a corner (hidden, zero-sized) is no
    launcher; a page whose corners were not read keeps the inline-style rule."""
    body = LAUNCHER.format("Чат")
    assert found(rendered(body, corners={"width": 1280, "height": 720, "corners": []})) == []
    assert [f[3] for f in found(rendered(body))] == ["dom"]
