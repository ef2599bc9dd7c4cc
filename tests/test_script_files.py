"""Same-site script files (issue 17): which files a page's chat loader may hide in, and the crawler
reading them, bounded in count and bytes (synthetic sites served on 127.0.0.1)."""

from __future__ import annotations

import pytest

from chanaudit.core.tables import read_csv
from chanaudit.crawler.config import AuditConfig
from chanaudit.crawler.detectors import scriptfiles
from chanaudit.crawler.page import Page, ParsedPage
from chanaudit.crawler.runner import run_audit
from chanaudit.demo.server import Site, SiteServer
from tests.conftest import write_sites_csv

TAWK = (b"var Tawk_API=Tawk_API||{}, Tawk_LoadStart=new Date();(function(){var s1=document.createElement('script'),"
        b"s0=document.getElementsByTagName('script')[0];s1.async=true;s1.src='https://embed.tawk.to/5d8ca18a/default';"
        b"s0.parentNode.insertBefore(s1,s0);})();")


def scripts_page(*srcs: str, url: str = "https://firm.ru/") -> ParsedPage:
    tags = "".join(f'<script src="{src}"></script>' for src in srcs)
    return ParsedPage(Page(url, f"<html><head>{tags}</head><body><p>x</p></body></html>"))


def test_chat_named_files_first_libraries_never():
    page = scripts_page("js/jquery-3.4.1.min.js", "lib/wow/wow.min.js", "js/popup.js", "/js/main.js",
                        "https://cdn.other.com/chat.js", "js/livechat.js?v=2", "js/analytics.js", "js/widget.js",
                        "https://static.firm.ru/js/tawk.js", "/cdn-cgi/scripts/x/cloudflare-static/email-decode.min.js")
    assert scriptfiles.targets(page, limit=10) == [
        "https://firm.ru/js/livechat.js?v=2", "https://static.firm.ru/js/tawk.js", "https://firm.ru/js/widget.js",
        "https://firm.ru/js/main.js", "https://firm.ru/js/popup.js"]
    assert len(scriptfiles.targets(page)) == scriptfiles.limits().per_page


def test_same_site_is_the_fetched_host_or_the_public_one():
    page = ParsedPage(Page("http://127.0.0.1:8001/", '<script src="/js/chat.js"></script>'
                           '<script src="http://127.0.0.1:8002/js/chat.js"></script>'
                           '<script src="https://firm.ru/js/site.js"></script>', site_url="https://firm.ru/"))
    assert scriptfiles.targets(page) == ["http://127.0.0.1:8001/js/chat.js", "https://firm.ru/js/site.js"]


def test_inline_scripts_and_repeats_are_not_files():
    page = scripts_page("/js/chat.js", "/js/chat.js#x")
    assert scriptfiles.targets(page) == ["https://firm.ru/js/chat.js"]
    assert scriptfiles.targets(ParsedPage(Page("https://firm.ru/", "<script>var a=1;</script>"))) == []


def home(*srcs: str, body: str = "<p>Компания</p>") -> bytes:
    tags = "".join(f'<script src="{src}"></script>' for src in srcs)
    return f"<html lang='ru'><head>{tags}</head><body>{body}</body></html>".encode()


@pytest.fixture(scope="module")
def script_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("scripts")
    limits = scriptfiles.limits()
    many = [f"/js/part{i}.js" for i in range(limits.per_page + 3)]
    sites = [
        # the loader lives in a same-site file, behind a library
        Site("loader", routes={"/": ("text/html", home("/js/jquery.min.js", "/js/livechat.js?v=2")),
                               "/js/livechat.js": ("application/javascript", TAWK),
                               "/js/jquery.min.js": ("application/javascript", b"/* jquery */")}),
        # many plain files: at most per_page are read, none holds a chat
        Site("many", routes={"/": ("text/html", home(*many)),
                             **{p: ("application/javascript", b"var x = 1;") for p in many}}),
        # a chat already on the page: no file is read
        Site("inline", routes={"/": ("text/html", home("/js/chat.js", body=f"<script>{TAWK.decode()}</script>")),
                               "/js/chat.js": ("application/javascript", TAWK)}),
        # a file over the byte cap is not read, a missing file is a 404 row
        Site("big", routes={"/": ("text/html", home("/js/chat.js", "/js/gone.js")),
                            "/js/chat.js": ("application/javascript", TAWK + b" " * (limits.max_bytes + 10))}),
        # a commented-out loader in the file does not count
        Site("commented", routes={"/": ("text/html", home("/js/chat.js")),
                                  "/js/chat.js": ("application/javascript", b"/* " + TAWK + b" */")}),
    ]
    with SiteServer(sites) as server:
        rows = [{"url": server.url(s.name), "name": s.name} for s in sites]
        run_audit(write_sites_csv(tmp / "sites.csv", rows), tmp / "out",
                  AuditConfig(render="never", allow_private=True, delay=0, timeout=5, retries=0))
        log = list(server.log)
    out = tmp / "out"
    return read_csv(out / "sites.csv"), read_csv(out / "evidence.csv"), read_csv(out / "pages.csv"), log


def _site(frame, name):
    return frame[frame["name"] == name].iloc[0]


def test_a_loader_in_a_same_site_file_is_chat(script_run):
    sites, evidence, pages, log = script_run
    row = _site(sites, "loader")
    assert row["chat"] == 1 and row["pages"] == 1, "a script file is not a page"
    found = evidence[(evidence["site_id"] == row["site_id"]) & (evidence["channel"] == "chat")]
    assert list(zip(found["value"], found["method"], found["page_role"], strict=True)) == [("tawk", "script_file", "home")]
    assert found["detail"].iloc[0].startswith("live_chat; in http://127.0.0.1:")
    assert ("loader", "/js/jquery.min.js") not in log, "a library is never read"
    files = pages[(pages["site_id"] == row["site_id"]) & (pages["role"] == "script")]
    assert list(files["http_status"]) == [200] and files["url"].iloc[0].endswith("/js/livechat.js?v=2")


def test_files_are_bounded_per_page(script_run):
    sites, _evidence, pages, log = script_run
    row = _site(sites, "many")
    assert row["chat"] == 0
    files = pages[(pages["site_id"] == row["site_id"]) & (pages["role"] == "script")]
    assert len(files) == scriptfiles.limits().per_page
    assert sum(1 for site, path in log if site == "many" and path.startswith("/js/")) == scriptfiles.limits().per_page


def test_no_file_is_read_once_the_site_shows_a_chat(script_run):
    sites, _evidence, pages, log = script_run
    row = _site(sites, "inline")
    assert row["chat"] == 1
    assert pages[pages["site_id"] == row["site_id"]]["role"].tolist() == ["home"]
    assert ("inline", "/js/chat.js") not in log


def test_too_large_and_missing_files(script_run):
    sites, _evidence, pages, _log = script_run
    row = _site(sites, "big")
    assert row["chat"] == 0 and row["status"] == "ok"
    files = pages[(pages["site_id"] == row["site_id"]) & (pages["role"] == "script")].sort_values("url")
    assert len(files) == 2 and files["error"].notna().all()
    assert files["error"].iloc[1].startswith("http_error"), files["error"].tolist()  # /js/gone.js: 404
    assert files["error"].iloc[0].startswith("too_large:")  # /js/chat.js: over max_bytes, never read


def test_a_commented_out_loader_in_a_file_is_not_chat(script_run):
    sites, evidence, _pages, _log = script_run
    row = _site(sites, "commented")
    assert row["chat"] == 0
    assert evidence[(evidence["site_id"] == row["site_id"]) & (evidence["channel"] == "chat")].empty
