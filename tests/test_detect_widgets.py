"""Chat, form and portal detectors on their traps (synthetic pages)."""

from __future__ import annotations

from chanaudit.crawler.detectors import chat, form, portal
from chanaudit.crawler.detectors.jscode import strip_js_comments
from chanaudit.crawler.page import Page, ParsedPage
from chanaudit.crawler.render import needs_rendering


def page(body: str, url: str = "https://firm.ru/") -> ParsedPage:
    return ParsedPage(Page(url, f"<html><body>{body}</body></html>"))


def values(detector, body, **kw):
    return sorted({e.value for e in detector.detect(page(body, **kw)) if e.channel != "messenger"})


# --- chat -----------------------------------------------------------------
def test_strip_js_comments_keeps_urls_in_strings():
    code = "var u='https://code.jivo.ru/widget/x'; // loader\n/* old: embed.tawk.to */ <!-- legacy\nx=1;"
    stripped = strip_js_comments(code)
    assert "https://code.jivo.ru/widget/x" in stripped and "tawk" not in stripped and "legacy" not in stripped


def test_one_comment_stripper_for_chat_and_forms():
    """Both detectors read inline code through the one strip_js_comments: a comment is a space
    (``jivo/**/_api`` is two tokens in JS, not the global ``jivo_api``), and an old page's
    ``<!--`` line is a comment for the form detector as for the chat detector."""
    assert chat.strip_js_comments is form.strip_js_comments is strip_js_comments
    assert strip_js_comments("a/*x*/b // c\nd") == "a b  \nd"
    assert strip_js_comments("x = 1;\n--> legacy end") == "x = 1;\n "
    assert values(chat, "<script>window.jivo/**/_api = {};</script>") == []
    assert values(chat, "<script>window.jivo_api = {};</script>") == ["jivo"]
    hubspot = '<script>hbspt.forms.create({portalId: "1", formId: "a"});</script>'
    assert values(form, hubspot) == ["embed:hubspot"]
    assert values(form, hubspot.replace("<script>", "<script><!-- ")) == []


def test_marker_comments_around_an_active_loader_count():
    body = ("<!-- BEGIN JIVOSITE CODE --><script>(function(){ var widget_id = 'abc';var d=document;var w=window;"
            "function l(){var s = document.createElement('script'); s.type = 'text/javascript'; s.async = true;"
            "s.src = '//code.jivosite.com/script/widget/'+widget_id;}})();</script><!-- END JIVOSITE CODE -->")
    assert values(chat, body) == ["jivo"]


def test_percent_encoded_and_document_write_loaders():
    assert values(chat, "<script>var u=unescape('https%3A%2F%2Fembed.tawk.to%2Fabc%2Fdefault');</script>") == ["tawk"]
    body = "<script>document.write('<scr'+'ipt src=\"//code.jivo.ru/widget/AbC\"></scr'+'ipt>');</script>"
    assert values(chat, body) == ["jivo"]


def test_vendor_url_in_json_or_text_is_not_a_widget():
    assert values(chat, '<script type="application/ld+json">{"url":"https://embed.tawk.to/x"}</script>') == []
    assert values(chat, "<p>Мы сравнили code.jivo.ru/widget и embed.tawk.to в блоге</p>") == []


def test_callback_widgets_are_not_chat():
    """A callback widget is recorded as channel "callback" (kind callback, issue 17), never as chat."""
    found = chat.detect(page('<script src="https://ua.cdn.fastcallagent.com/loader.js"></script>'))
    assert [e for e in found if e.channel == "chat"] == []
    assert [(e.channel, e.value, e.detail) for e in found] == [("callback", "fastcallagent", "callback")]


def test_rendered_dom_signals():
    assert values(chat, '<div id="jivo-iframe-container"></div><jdiv class="x"></jdiv>') == ["jivo"]


def test_whatsapp_button_is_messenger_not_chat():
    found = chat.detect(page('<a href="https://wa.me/254795909156" aria-label="Chat with us on WhatsApp">W</a>'))
    assert [(e.channel, e.value) for e in found] == [("messenger", "whatsapp")]


def test_render_hint_for_tag_managers_and_injectors():
    gtm = "<script>(function(w,d,s,l,i){j.src='https://www.googletagmanager.com/gtm.js?id='+i;})(window,document,'script','dataLayer','GTM-X');</script>"
    assert needs_rendering(page(gtm)).startswith("tag manager")
    inject = "<p>" + "текст " * 100 + "</p><script>var s=document.createElement('script');s.src=['a','b'].join('');</script>"
    assert needs_rendering(page(inject)) == "inline script injects scripts"
    metrika = "<p>" + "текст " * 100 + "</p><script>var s=document.createElement('script');s.src='https://mc.yandex.ru/metrika/tag.js';</script>"
    assert needs_rendering(page(metrika)) is None


# --- form -----------------------------------------------------------------
def test_formless_js_form_counts():
    body = ('<div class="order"><input placeholder="Имя"><input placeholder="Телефон"><input placeholder="E-mail">'
            '<button onclick="send()">Отправить</button></div>')
    found = form.detect(page(body))
    assert [(e.value, e.rule) for e in found] == [("request", "form.formless.request")]


def test_form_in_comment_never_counts():
    assert values(form, "<!-- <form><input name=name><textarea name=m></textarea></form> -->") == []


def test_question_form_subtype():
    """A question form is a request; its sub-type goes to the evidence detail."""
    body = '<form method="post"><input type="email" name="email"><textarea name="q"></textarea><button>Задать вопрос</button></form>'
    found = form.detect(page(body))
    assert [(e.value, e.rule) for e in found] == [("request", "form.request")]
    assert found[0].detail.startswith("question;")


def test_get_lookup_and_login_are_not_requests():
    assert values(form, '<form method="get"><input name="street" placeholder="Улица"></form>') == []
    assert values(form, '<form method="post"><input name="user"><input type="password" name="p"></form>') == []


# --- portal ---------------------------------------------------------------
def test_login_form_to_client_host():
    body = ('<div class="lk"><h3>Личный кабинет</h3><form action="https://billing.firm.ru" method="post">'
            '<input name="login"><input type="password" name="password"><button>Войти</button></form></div>')
    found = portal.detect(page(body))
    assert [(e.value, e.rule) for e in found] == [("https://billing.firm.ru", "portal.login_form")]


def test_cms_login_is_not_a_portal():
    body = ('<form action="/index.php?option=com_users&task=user.login" method="post"><input name="username">'
            '<input type="password" name="password"><button>Войти</button></form>')
    assert portal.detect(page(body)) == []


def test_portal_word_in_body_text_is_not_a_link():
    assert portal.detect(page("<p>We build customer portals and client portal apps.</p>")) == []


def test_support_portal_to_plain_same_site_page_is_weak():
    """realsites en-village-computers: 'Support Portal' -> support.html (a remote-session page)."""
    assert portal.detect(page('<a href="support.html">Support Portal</a>', url="https://village.example/")) == []
    assert portal.detect(page('<a href="/portal/">Support Portal</a>'))
