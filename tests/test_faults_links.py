"""Issue 12, items 8 and 9 (pages): a bad link on a home page costs that link, never its site, and a page
whose bytes do not fit its declared charset is read in the charset they are in. Real crawls of pages served
on 127.0.0.1."""

from __future__ import annotations

import pytest
from twisted.python.failure import Failure

from chanaudit.core.folder import AuditFolder
from chanaudit.demo.server import Site, SiteServer
from tests.conftest import write_sites_csv
from tests.faults import chanaudit, one_row_per_input

pytestmark = pytest.mark.slow

HTML = "text/html; charset=utf-8"
SUPPORT = "<html><body><h1>Поддержка</h1><p>Телефон: +7 495 123-45-67</p></body></html>".encode()
LONG = "/kontakty?" + "x" * 2100

BAD_LINKS = {
    "ipv6": '<a href="http://[1::2::3]/kontakty">Контакты</a> <a href="http://[::1/kontakty">Контакты</a> '
            '<a href="http://x.com]/support">Поддержка</a>',
    "port": '<a href="http://127.0.0.1:99999/kontakty">Контакты</a> <a href="http://localhost:0x50/support">Support</a>',
    "long": f'<a href="{LONG}">Контакты</a>',
}


def home(bad: str) -> bytes:
    return (f'<html><body><p>Пишите: <a href="mailto:info@firm.ru">info@firm.ru</a></p>{bad}'
            '<a href="/podderzhka">Поддержка</a></body></html>').encode()


def test_a_bad_link_costs_the_link_not_the_site(tmp_path):
    sites = [Site(name, routes={"/": (HTML, home(bad)), "/podderzhka": (HTML, SUPPORT)})
             for name, bad in BAD_LINKS.items()]
    # a cp1251 page served as charset=utf-8: its Cyrillic link text is the only way to its contacts page
    cp1251 = Site("cp1251", routes={
        "/": (HTML, '<html><body><p>Пишите: info@firm.ru</p><a href="/page7">Контакты</a></body></html>'
              .encode("cp1251")),
        "/page7": (HTML, SUPPORT)})
    sites.append(cp1251)
    with SiteServer(sites) as server:
        csv_path = write_sites_csv(tmp_path / "in.csv", [{"url": server.url(s.name), "name": s.name} for s in sites])
        out = tmp_path / "out"
        done = chanaudit("audit", csv_path, "--out", out, "--allow-private", "--render", "never", "--delay", "0",
                         "--timeout", "5", "--quiet")
        requested = {path for _site, path in server.log}
    assert done.returncode == 0, done.output
    frame = one_row_per_input(out, 4)
    assert list(frame["status"]) == ["ok"] * 4, frame[["name", "status", "status_detail"]]
    assert list(frame["email"]) == [1, 1, 1, 1] and list(frame["phone"]) == [1, 1, 1, 1]
    pages = AuditFolder(out).read(AuditFolder.PAGES)
    for name in BAD_LINKS:
        fetched = pages[pages["url"].str.startswith(server.url(name))]
        assert sorted(fetched["role"]) == ["home", "support"], fetched
    fetched = pages[pages["url"].str.startswith(server.url("cp1251"))]
    assert sorted(zip(fetched["role"], fetched["url"], strict=True)) == [
        ("contacts", server.url("cp1251", "/page7")), ("home", server.url("cp1251"))]
    assert not any(p.startswith("/kontakty") for p in requested)  # no bad link was fetched, none half-fetched
    evidence = AuditFolder(out).read(AuditFolder.EVIDENCE)
    home_email = evidence[(evidence["channel"] == "email") & (evidence["page_role"] == "home")]
    assert sorted(home_email["site_id"].unique()) == [1, 2, 3, 4]  # the home page's findings are kept on every site


def test_a_callback_that_raises_costs_its_page(tmp_path):
    """Whatever a page makes a callback raise, its site is journaled with the reason (an error on the home
    page) or goes on (any other page): never left unfinished."""
    from scrapy.http import HtmlResponse, Request

    from chanaudit.crawler.spider import AuditSpider, SiteState

    class Recorder:
        rows = []

        def record(self, row, evidence, pages):
            self.rows.append((row, pages))
            return True

    spider = AuditSpider(sites=[], config={"render": "never"}, recorder=Recorder())
    state = SiteState(1, "a.ru", "http://a.ru/")
    spider.states[1] = state
    request = Request("http://a.ru/", meta={"site_id": 1, "role": "home", "page_depth": 0, "render": False})
    response = HtmlResponse("http://a.ru/", body=b"<html></html>", request=request, status=200)
    spider.on_callback_error(Failure(ValueError("no rule expected this")), response)
    (row, pages), = Recorder.rows
    assert row["status"] == "error"
    assert row["status_detail"] == "ValueError: no rule expected this (reading http://a.ru/)"
    assert pages[0].error == "error: ValueError: no rule expected this (reading http://a.ru/)"
    assert 1 not in spider.states
