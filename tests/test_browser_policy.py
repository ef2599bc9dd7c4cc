"""What the rendering browser may fetch (crawler.process.abort_request), without a browser:
the requests are stand-ins with Playwright's attributes (synthetic)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest

from chanaudit.crawler import process

PAGE = "https://firm.ru/contacts/"


def request(url: str, kind: str = "script", navigation: bool = False, page_url: str = PAGE):
    frame = SimpleNamespace(page=SimpleNamespace(url=page_url))
    return SimpleNamespace(url=url, resource_type=kind, frame=frame, is_navigation_request=lambda: navigation)


@pytest.fixture
def policy(monkeypatch):
    def set_policy(**kw):
        monkeypatch.setattr(process, "BROWSER_POLICY", {"third_party_scripts": False, "allow_private": False, **kw})
    return set_policy


def aborted(req) -> bool:
    return asyncio.run(process.abort_request(req))


@pytest.mark.parametrize("kind", ["image", "media", "font", "stylesheet"])
def test_heavy_resources_never_load(policy, kind):
    policy(third_party_scripts=True)
    assert aborted(request("https://firm.ru/a", kind))


def test_own_host_loads_other_hosts_do_not_by_default(policy):
    policy()
    assert not aborted(request("https://firm.ru/app.js"))
    assert aborted(request("https://93.184.216.34/gtm.js"))
    assert aborted(request("https://93.184.216.34/data", "xhr"))


def test_third_party_scripts_only_scripts_and_only_public_addresses(policy):
    policy(third_party_scripts=True)
    assert not aborted(request("https://93.184.216.34/gtm.js"))  # a public address literal: no DNS asked
    assert aborted(request("https://93.184.216.34/data", "xhr"))
    for private in ("http://127.0.0.1:8080/x.js", "http://10.1.2.3/x.js", "http://[::1]/x.js", "http://169.254.169.254/x.js"):
        assert aborted(request(private)), private


def test_frames_and_redirects_to_private_addresses_are_refused(policy):
    policy()
    assert aborted(request("http://192.168.0.1/", "document", navigation=True))
    assert not aborted(request("https://93.184.216.34/embed", "document", navigation=True))
    policy(allow_private=True)
    assert not aborted(request("http://192.168.0.1/", "document", navigation=True))
