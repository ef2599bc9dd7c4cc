"""The parsed page's views: selectors answered from the source before any XPath (synthetic pages)."""

from __future__ import annotations

import pytest

from chanaudit.crawler.page import Page, ParsedPage

HTML = ('<div data-b24-form id="Jivo_X" class="b24-widget-button a"><!-- <span id=zz class=hidden> -->'
        '<jdiv></jdiv><div class="x b24-widget-button-wrapper"></div><p class=zed></p><p class="q  rr"></p>'
        '<script>var s = "jivo_container nope-class"; b24-widget-button</script></div>')


@pytest.mark.parametrize("selector,hits", [
    ("[data-b24-form]", 1), ("#Jivo_X", 1), ("div#Jivo_X", 1), ("#Jivo*", 1), ("jdiv", 1),
    (".b24-widget-button", 1), (".b24-widget-button-wrapper", 1), (".a", 1), (".zed", 1), (".rr", 1),
    # only in a comment or a script, or a longer token: never an element
    ("span#zz", 0), (".hidden", 0), ("#jivo_container", 0), (".nope-class", 0), (".b24-widget", 0), ("#jivo_", 0),
])
def test_selectors(selector, hits):
    page = ParsedPage(Page("https://firm.ru/", HTML))
    assert len(page.select(selector)) == hits
    if hits:  # the pre-filter never hides a real element
        assert page.index.may_match(selector)


def test_text_nodes_gaps_and_blocks():
    page = ParsedPage(Page("https://firm.ru/", "<p>a<b>b</b> <i>c</i></p><div>d<!-- x -->e</div>"))
    assert [t for t, _ in page.text_items] == ["a", "b", "c", "d", "e"]
    assert page.text_gaps == [False, False, True, False, False]
    assert [b.tag for b in page.text_blocks] == ["p", "p", "p", "div", "div"]


def test_form_text_after_a_comment_is_read():
    from chanaudit.crawler.textwalk import element_text

    page = ParsedPage(Page("https://firm.ru/", "<form><b>Имя</b><!-- x -->Сообщение<select><option>1</option>"
                                             "</select>Отправить</form>"))
    assert element_text(page.forms[0], 100).split() == ["Имя", "Сообщение", "Отправить"]


def test_deeply_nested_page_keeps_its_text():
    """Deep nesting (synthetic): the recursive text walk reads text 250 levels down, and a hostile
    page nested 3000 levels neither overflows nor fails (libxml2 drops what lies past depth 255)."""
    deep = "<div><span>" * 125 + "тел. +7 495 123-45-67" + "</span></div>" * 125 + "<p>after</p>"
    page = ParsedPage(Page("https://firm.ru/", deep))
    assert [t for t, _ in page.text_items] == ["тел. +7 495 123-45-67", "after"]
    assert [b.tag for b in page.text_blocks] == ["div", "p"]
    hostile = ParsedPage(Page("https://firm.ru/", "<div><span>" * 3000 + "x" + "</span></div>" * 3000))
    assert isinstance(hostile.text_items, list)


def test_element_text_stops_past_its_limit():
    from chanaudit.crawler.textwalk import element_text

    page = ParsedPage(Page("https://firm.ru/", "<form><select></select>" + "<p>слово</p>" * 1000 + "</form>"))
    text = element_text(page.forms[0], 50)
    assert 50 < len(text) < 80 and set(text.split()) == {"слово"}


def test_index_holds_only_what_elements_carry():
    page = ParsedPage(Page("https://firm.ru/", HTML + '<a onclick="go()" class="btn  Big">x</a>'))
    index = page.index
    assert {"div", "jdiv", "p", "script", "a"} <= index.tags
    assert all(name in index.attributes for name in ("data-b24-form", "id", "class", "onclick", "ONCLICK"))
    assert "data-absent" not in index.attributes and "bad name!" not in index.attributes
    assert "Jivo_X" in index.ids and "zz" not in index.ids  # zz is only in a comment
    assert {"b24-widget-button", "a", "btn", "Big", "rr"} <= index.classes
    assert not {"hidden", "jivo_container", "nope-class"} & (index.ids | index.classes)


def test_index_counts_elements_the_text_walk_skips():
    """Tags come from the text walk: head, hidden subtrees and the root count too."""
    html = ('<html data-root><head><meta name="x" content="y"><script data-b24-form="1">x</script></head>'
            '<body data-page><noscript><img data-lazy src=a></noscript><select name=s><option data-opt>1</option>'
            '</select><template><p data-tpl>t</p></template></body></html>')
    index = ParsedPage(Page("https://firm.ru/", html)).index
    assert {"html", "head", "meta", "script", "body", "noscript", "select", "option"} <= index.tags


def test_detection_leaves_no_cyclic_garbage():
    """Every page's tree is freed when its last reference goes, not at the collector's next pass:
    a recursive closure (a reference cycle) once held each page's tree and texts (synthetic
    pages plus the paired detector fixtures, all five detectors run)."""
    import gc
    from pathlib import Path

    from chanaudit.crawler.detectors import detect

    cases = sorted((Path(__file__).parent / "fixtures" / "detectors").rglob("*.html"))
    pages = [p.read_bytes().decode("utf-8", "replace") for p in cases]
    pages.append('<form><select><option>x</option></select><input name=phone><textarea></textarea>'
                 '<button>Отправить</button></form><script type="application/ld+json">'
                 '{"telephone": "+7 495 123-45-67", "email": "info@firm.ru"}</script>')
    detect(Page("https://firm.ru/", pages[-1]))  # load the tables first
    enabled = gc.isenabled()
    gc.disable()
    try:
        gc.collect()
        for html in pages:
            detect(Page("https://firm.ru/", html))
        assert gc.collect() == 0
    finally:
        if enabled:
            gc.enable()
    assert len(pages) > 5


def test_every_view_reads_the_one_walk_in_any_order():
    """No view fills another's state: each one, asked first on a fresh page, reads the same walk."""
    import dataclasses

    html = "<p>a<b>b</b> <i>c</i></p><div>d</div>"
    for first in ("text_gaps", "text_blocks", "index", "text_items"):
        page = ParsedPage(Page("https://firm.ru/", html))
        getattr(page, first)
        assert page.text_gaps == [False, False, True, False]
        assert [b.tag for b in page.text_blocks] == ["p", "p", "p", "div"]
        assert page.text_items is page.walk.items and page.index.tags == page.walk.tags
        assert {"p", "b", "i", "div", "body", "html"} <= page.index.tags
    with pytest.raises(dataclasses.FrozenInstanceError):
        page.walk.items = []


# --- the whole document is read (issue 17): markup outside the root element ---------------
FORM = ('<div class="popup"><h3>Заказать звонок</h3><form method="post"><input name="name" placeholder="Имя">'
        '<input type="tel" name="phone"><button>Отправить</button></form>'
        '<p>Пишите: popup@firm.ru, +7 (495) 123-45-67</p></div>')


@pytest.mark.parametrize("html", [
    f"<html><head><title>t</title></head><body><p>Главная</p></body>{FORM}</html>",  # after </body>
    f"<html><head><title>t</title></head><body><p>Главная</p></body></html>{FORM}",  # after </html>
    f"{FORM}<html><head><title>t</title></head><body><p>Главная</p></body></html>",  # before <html>
    f"<html><body><p>Главная</p></body><body>{FORM}</body></html>",  # two <body> tags
    f"<!doctype html><html lang=ru><body><p>Главная</p></body></html>\n<html><body>{FORM}</body></html>",
])
def test_markup_outside_the_body_is_read(html):
    from chanaudit.crawler.detectors import detect

    page = ParsedPage(Page("https://firm.ru/", html))
    assert len(page.forms) == 1 and "Пишите:" in page.visible_text
    assert page.tree.find("body").find(".//form") is not None, "gathered into the one body"
    found = {(e.channel, e.value) for e in detect(page)}
    assert {("form", "callback"), ("email", "popup@firm.ru"), ("phone", "+74951234567")} <= found


def test_document_order_is_kept_around_the_body():
    html = "<p>0</p><html><body>1<p>2</p></body><p>3</p></html><p>4</p>tail 5"
    page = ParsedPage(Page("https://firm.ru/", html))
    assert [t.strip() for t, _ in page.text_items] == ["0", "1", "2", "3", "4", "tail 5"]
    assert [el.tag for el in page.tree] == ["body"]


def test_a_usual_page_is_not_touched():
    from lxml import etree

    html = "<!doctype html><html><head><title>t</title></head><body><p>x</p></body></html><!-- end -->"
    page = ParsedPage(Page("https://firm.ru/", html))
    assert [el.tag for el in page.tree] == ["head", "body"]
    assert etree.tostring(page.tree.find("body"), encoding="unicode").startswith("<body><p>x</p>")
