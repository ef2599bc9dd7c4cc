"""DNS rebinding and the address rule on every hop of the static crawl (issue 12, item 3).

A name that answers a public address first and a private one next must be connected to at the
address that was checked, by the static crawl and by the browser alike: the crawl resolves each
host once (crawler.resolver.Resolutions) and every connection — Scrapy's and the browser
proxy's — uses that answer. The names and their successive answers come from the
CHANAUDIT_TEST_HOSTS hook; 127.0.0.2 plays the public address (CHANAUDIT_TEST_PUBLIC_ADDRESSES)
and 127.0.0.1, on the same port, the internal one.
"""

from __future__ import annotations

import asyncio
import threading

import pytest

from chanaudit.core.tables import read_csv
from chanaudit.crawler.config import AuditConfig
from chanaudit.crawler.resolver import (
    HOSTS_ENV,
    PUBLIC_ENV,
    HostsStub,
    PinnedResolver,
    Resolutions,
    addresses_of,
    non_public,
)
from chanaudit.crawler.runner import run_audit
from tests.conftest import requires_chromium, write_sites_csv
from tests.hostile import (
    INTERNAL,
    PUBLIC,
    HostileServer,
    html,
    loopback_alias_works,
    redirect,
    same_port_pair,
    secret,
    write_hosts,
)

needs_alias = pytest.mark.skipif(not loopback_alias_works(), reason="127.0.0.2 is not routed to loopback here")

HOME = ("<html><body><h1>Rebound firm</h1><p>Phone +7 495 123-45-67</p>"
        "<a href='/contacts'>Контакты</a></body></html>")
CONTACTS = "<html><body><p>Email <a href='mailto:info@firm.example'>info@firm.example</a></p></body></html>"


def test_the_stub_really_rebinds(tmp_path, monkeypatch):
    """Control: asked twice, the stub name answers public, then private."""
    monkeypatch.setenv(HOSTS_ENV, str(write_hosts(tmp_path / "hosts.json", {"flip.test": [PUBLIC, INTERNAL]})))
    stub = HostsStub.from_env()

    async def twice():
        return [await addresses_of("flip.test", stub) for _ in range(3)]

    assert asyncio.run(twice()) == [[PUBLIC], [INTERNAL], [INTERNAL]]


def test_the_crawl_keeps_its_first_answer_across_threads_and_loops():
    stub = HostsStub({"flip.test": [PUBLIC, INTERNAL]})
    resolutions = Resolutions(stub)
    first = asyncio.run(resolutions.addresses("FLIP.test"))
    seen = []
    thread = threading.Thread(target=lambda: seen.append(asyncio.run(resolutions.addresses("flip.test"))))
    thread.start()
    thread.join()
    assert first == seen[0] == (PUBLIC,)
    assert stub.lookups["flip.test"] == 1 and resolutions.lookups == 1
    import copy

    assert copy.deepcopy({"r": resolutions})["r"] is resolutions  # Scrapy's settings copies share it


def test_connections_never_get_a_non_public_address():
    """The second line: even a host the guard never saw gets no private address to connect to."""
    stub = HostsStub({"evil.test": [INTERNAL], "mixed.test": [["93.184.216.34", "10.1.2.3"]],
                      "fine.test": ["93.184.216.34"], "meta.test": ["169.254.169.254"]})
    strict = PinnedResolver(None, Resolutions(stub), allow_private=False)
    loose = PinnedResolver(None, Resolutions(stub), allow_private=True)

    def ask(resolver, host):
        return asyncio.run(resolver.connectable(host))

    for host in ("evil.test", "mixed.test", "meta.test", "127.0.0.1", "[::1]", "::ffff:127.0.0.1", "0.0.0.0"):
        assert ask(strict, host) == [], host
    assert ask(strict, "fine.test") == ["93.184.216.34"]
    assert ask(loose, "evil.test") == [INTERNAL]


def test_test_hooks_are_narrow(monkeypatch):
    monkeypatch.delenv(PUBLIC_ENV, raising=False)
    assert non_public(PUBLIC)  # without the hook 127.0.0.2 is loopback, as it is
    monkeypatch.setenv(PUBLIC_ENV, "127.0.0.2, 127.0.0.1, 10.0.0.5, 169.254.169.254, ::1, junk")
    assert not non_public(PUBLIC) and not non_public(f"::ffff:{PUBLIC}")
    for address in ("127.0.0.1", "10.0.0.5", "169.254.169.254", "::1", "127.0.0.3"):
        assert non_public(address), address  # only the loopback aliases named, never 127.0.0.1
    stub = HostsStub({"example.com": [PUBLIC], "x.test": [PUBLIC]})
    assert stub.lookup("example.com") is None and stub.lookup("x.test") == [PUBLIC]  # only .test names


@pytest.fixture
def rebinding(tmp_path, monkeypatch):
    public, internal = same_port_pair({"/": html(HOME), "/contacts": html(CONTACTS), "/robots.txt": html("", 404)})
    internal.default = lambda h, n: html(f"<html><body>{secret('rebound')}</body></html>")
    hosts = write_hosts(tmp_path / "hosts.json", {"rebind.test": [PUBLIC, INTERNAL],
                                                   "private-first.test": [INTERNAL, PUBLIC]})
    monkeypatch.setenv(HOSTS_ENV, str(hosts))
    monkeypatch.setenv(PUBLIC_ENV, PUBLIC)
    with public, internal:
        yield public, internal


def audit(tmp_path, urls: list[str], **options):
    config = AuditConfig(**{"delay": 0, "timeout": 5, "retries": 0, "max_pages": 2, "render_wait_ms": 300,
                            "render_timeout": 10, **options})
    csv_path = write_sites_csv(tmp_path / "in.csv", [{"url": url} for url in urls])
    result = run_audit(csv_path, tmp_path / "out", config)
    return result, read_csv(tmp_path / "out" / "sites.csv")


def hosts_asked(server: HostileServer) -> list[str]:
    return [headers.get("Host", "").split(":")[0] for _method, _path, headers in server.log]


@pytest.mark.slow
@needs_alias
def test_static_crawl_connects_to_the_address_it_checked(tmp_path, rebinding):
    public, internal = rebinding
    _result, frame = audit(tmp_path, [f"http://rebind.test:{public.port}/", f"http://private-first.test:{public.port}/"],
                           render="never")
    assert list(frame["status"]) == ["ok", "blocked_address"]
    assert frame.loc[0, "pages"] == 2 and (frame.loc[0, "email"], frame.loc[0, "phone"]) == (1, 1)
    assert frame.loc[1, "status_detail"] == ("private-first.test resolves to non-public address 127.0.0.1 "
                                             "(use --allow-private to audit it)")
    assert sorted(public.paths) == ["/", "/contacts", "/robots.txt"]  # robots, home, contacts: all at 127.0.0.2
    assert set(hosts_asked(public)) == {"rebind.test"}  # private-first.test stays refused, though it now answers public
    assert internal.log == [] and internal.connections == 0


@pytest.mark.slow
@pytest.mark.browser
@requires_chromium
@needs_alias
def test_browser_connects_to_the_address_it_checked(tmp_path, rebinding):
    public, internal = rebinding
    _result, frame = audit(tmp_path, [f"http://rebind.test:{public.port}/"], render="always", max_pages=1)
    assert frame.loc[0, "status"] == "ok" and frame.loc[0, "rendered"] == 1
    assert sorted(public.paths) == ["/", "/", "/robots.txt"]  # the static home and the browser's, at 127.0.0.2
    assert internal.log == [] and internal.connections == 0


@pytest.mark.slow
@needs_alias
def test_a_static_redirect_to_a_private_address_names_the_hop(tmp_path, monkeypatch):
    monkeypatch.setenv(PUBLIC_ENV, PUBLIC)
    with HostileServer(INTERNAL, 0) as internal, \
            HostileServer(PUBLIC, 0, {"/": redirect(internal.url("/admin")), "/robots.txt": html("", 404)}) as public:
        _result, frame = audit(tmp_path, [public.url("/")], render="never")
    assert frame.loc[0, "status"] == "blocked_address"
    assert frame.loc[0, "status_detail"] == (f"redirect to {internal.url('/admin')}: 127.0.0.1 is a non-public "
                                             "address (use --allow-private to audit it)")
    assert internal.connections == 0


def test_the_suite_resolves_no_real_name():
    """The offline hook (set by tests/conftest.py for every test and the crawlers they start): a real name
    is refused before any DNS query; special-use names, stubbed .test names and IP literals still answer."""
    import asyncio
    import os
    import socket

    from chanaudit.crawler.resolver import OFFLINE_ENV, HostsStub, addresses_of

    assert os.environ.get(OFFLINE_ENV) == "1"
    for name in ("www.google.com", "content-autofill.googleapis.com", "rnet.ru"):
        with pytest.raises(socket.gaierror, match="tests stay offline"):
            asyncio.run(addresses_of(name))
    assert asyncio.run(addresses_of("127.0.0.2")) == ["127.0.0.2"]
    assert asyncio.run(addresses_of("site.test", HostsStub({"site.test": ["127.0.0.2"]}))) == ["127.0.0.2"]
    assert "127.0.0.1" in asyncio.run(addresses_of("localhost")) or "::1" in asyncio.run(addresses_of("localhost"))
