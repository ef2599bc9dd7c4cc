"""What the rendering browser may fetch (crawler.browser.BrowserPolicy), without a browser:
the requests are stand-ins with Playwright's attributes (synthetic)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest
from scrapy.utils.misc import load_object

from chanaudit.crawler.browser import MAX_ATTEMPTS, MAX_URL, BrowserPolicy, RenderWatch, trim_url
from chanaudit.crawler.config import AuditConfig
from chanaudit.crawler.process import crawl_settings
from chanaudit.crawler.proxy import BrowserProxy
from chanaudit.crawler.resolver import Resolutions

PAGE = "https://firm.ru/contacts/"


def request(url: str, kind: str = "script", navigation: bool = False, page_url: str = PAGE):
    frame = SimpleNamespace(page=SimpleNamespace(url=page_url))
    return SimpleNamespace(url=url, resource_type=kind, frame=frame, is_navigation_request=lambda: navigation)


def aborted(policy: BrowserPolicy, req) -> bool:
    return asyncio.run(policy(req))


@pytest.mark.parametrize("kind", ["image", "media", "font", "stylesheet"])
def test_heavy_resources_never_load(kind):
    policy = BrowserPolicy(third_party_scripts=True)
    assert aborted(policy, request("https://firm.ru/a", kind))


def test_own_host_loads_other_hosts_do_not_by_default():
    policy = BrowserPolicy()
    assert not aborted(policy, request("https://firm.ru/app.js"))
    assert aborted(policy, request("https://93.184.216.34/gtm.js"))
    assert aborted(policy, request("https://93.184.216.34/data", "xhr"))


def test_third_party_scripts_only_scripts_and_only_public_addresses():
    policy = BrowserPolicy(third_party_scripts=True)
    assert not aborted(policy, request("https://93.184.216.34/gtm.js"))  # a public address literal: no DNS asked
    assert aborted(policy, request("https://93.184.216.34/data", "xhr"))
    for private in ("http://127.0.0.1:8080/x.js", "http://10.1.2.3/x.js", "http://[::1]/x.js", "http://169.254.169.254/x.js"):
        assert aborted(policy, request(private)), private


def test_frames_and_redirects_to_private_addresses_are_refused():
    policy = BrowserPolicy()
    assert aborted(policy, request("http://192.168.0.1/", "document", navigation=True))
    assert not aborted(policy, request("https://93.184.216.34/embed", "document", navigation=True))
    policy = BrowserPolicy(allow_private=True)
    assert not aborted(policy, request("http://192.168.0.1/", "document", navigation=True))


def test_each_crawl_hands_its_own_policy_to_scrapy_playwright():
    """The policy comes from the crawl's AuditConfig, in its settings: no module state, and two
    crawls with different configurations never share one."""
    with BrowserProxy(Resolutions()) as proxy:  # rendering needs the browser proxy (crawler.proxy)
        strict = crawl_settings(AuditConfig(render="auto", third_party_scripts=False),
                                proxy=proxy)["PLAYWRIGHT_ABORT_REQUEST"]
        loose = crawl_settings(AuditConfig(render="auto", third_party_scripts=True, allow_private=True),
                               proxy=proxy)["PLAYWRIGHT_ABORT_REQUEST"]
    assert load_object(strict) is strict  # what scrapy-playwright's handler does with the setting
    assert (strict.third_party_scripts, strict.allow_private) == (False, False)
    assert (loose.third_party_scripts, loose.allow_private) == (True, True)
    assert aborted(strict, request("http://127.0.0.1:8080/x.js")) and not aborted(loose, request("http://127.0.0.1:8080/x.js"))
    assert "PLAYWRIGHT_ABORT_REQUEST" not in crawl_settings(AuditConfig(render="never"))
    with BrowserProxy(Resolutions()) as proxy:  # an audit runs other hosts' scripts unless told not to
        default = crawl_settings(AuditConfig(render="auto"), proxy=proxy)["PLAYWRIGHT_ABORT_REQUEST"]
    assert (default.third_party_scripts, default.allow_private) == (True, False)


def test_analytics_and_ad_hosts_stay_blocked_with_third_party_scripts():
    policy = BrowserPolicy(third_party_scripts=True, allow_private=True)  # no DNS asked: the list decides first
    for url in ("https://mc.yandex.ru/metrika/tag.js", "https://www.google-analytics.com/analytics.js",
                "https://www.googletagmanager.com/gtag/js?id=G-1", "https://connect.facebook.net/en_US/fbevents.js"):
        assert aborted(policy, request(url)), url
    assert aborted(policy, request("https://googleads.g.doubleclick.net/pagead/x", "document", navigation=True))
    assert not aborted(policy, request("https://www.googletagmanager.com/gtm.js?id=GTM-X"))  # the tag manager runs
    assert not aborted(policy, request("https://code.jivo.ru/widget/abc"))
    assert not aborted(policy, request("https://firm.ru/metrika-like/own.js"))  # the page's own host: always


class Req:
    """A Playwright request stand-in that, like Playwright's, takes a weak reference and hashes by identity."""

    def __init__(self, url: str, kind: str = "script", navigation: bool = False, main: bool = False,
                 failure: str | None = None):
        self.url, self.resource_type, self.failure = url, kind, failure
        self._navigation = navigation
        self.frame = SimpleNamespace(page=SimpleNamespace(url=PAGE), parent_frame=None if main else object())

    def is_navigation_request(self) -> bool:
        return self._navigation


def test_render_watch_records_attempts_and_their_outcomes():
    policy = BrowserPolicy()  # other hosts' scripts aborted
    watch = RenderWatch(policy)
    blocked, loaded = Req("https://code.jivo.ru/widget/abc?key=SECRET#x"), Req("https://firm.ru/app.js")
    failed, frame = Req("https://cdn.firm.ru/x.js"), Req("https://widget.example/frame", "document", navigation=True)
    for req in (blocked, loaded, failed, frame):
        watch.on_request(req)
    watch.on_request(Req(PAGE, "document", navigation=True, main=True))  # the page's own navigation
    watch.on_request(Req("data:image/png;base64,xx", "image"))
    assert aborted(policy, blocked) and not aborted(policy, loaded)
    for req in (blocked, failed):
        req.failure = "net::ERR_FAILED" if req is blocked else "net::ERR_NAME_NOT_RESOLVED"
        watch.on_request_failed(req)
    watch.on_request_finished(loaded)
    assert watch.attempts == (("script", "https://code.jivo.ru/widget/abc?", "blocked"),
                              ("script", "https://firm.ru/app.js", "loaded"),
                              ("script", "https://cdn.firm.ru/x.js", "failed: net::ERR_NAME_NOT_RESOLVED"),
                              ("document", "https://widget.example/frame", "pending"))
    assert watch.attempted == 4 and watch.failed == []


def test_render_watch_keeps_a_bounded_list():
    watch = RenderWatch()
    for i in range(MAX_ATTEMPTS + 30):
        watch.on_request(Req(f"https://firm.ru/{'p' * 400}/{i}.js?q={i}"))
    assert watch.attempted == MAX_ATTEMPTS + 30 and len(watch.attempts) == MAX_ATTEMPTS
    assert all(len(url) <= MAX_URL + 1 and "q=" not in url for _kind, url, _outcome in watch.attempts)
    assert trim_url("https://v2.zopim.com/?KEY") == "https://v2.zopim.com/?"  # a row that needs the "?"
