"""The browser proxy (crawler.proxy.BrowserProxy) spoken to directly, as Chromium speaks to it:
SOCKS5 CONNECT with a host name or an address. It connects only to addresses the crawl's rule
allows, to exactly the address it resolved (once per crawl), and refuses everything else with
"not allowed by ruleset", remembering why. And the browser is launched to use it."""

from __future__ import annotations

import socket
import struct

import pytest

from chanaudit.crawler.config import AuditConfig
from chanaudit.crawler.process import crawl_settings
from chanaudit.crawler.proxy import BrowserProxy
from chanaudit.crawler.resolver import PUBLIC_ENV, HostsStub, Resolutions
from tests.hostile import (
    INTERNAL,
    PUBLIC,
    HostileServer,
    html,
    loopback_alias_works,
    same_port_pair,
)

needs_alias = pytest.mark.skipif(not loopback_alias_works(), reason="127.0.0.2 is not routed to loopback here")


def socks_connect(proxy: BrowserProxy, host: str, port: int, command: int = 1) -> tuple[int, socket.socket]:
    """A SOCKS5 CONNECT as Chromium sends it (the host as a name, ATYP 3): (reply code, socket)."""
    sock = socket.create_connection(("127.0.0.1", proxy.port), timeout=5)
    sock.sendall(b"\x05\x01\x00")
    assert sock.recv(2) == b"\x05\x00"
    name = host.encode()
    sock.sendall(b"\x05" + bytes([command]) + b"\x00\x03" + bytes([len(name)]) + name + struct.pack("!H", port))
    reply = b""
    while len(reply) < 10:
        chunk = sock.recv(10 - len(reply))
        if not chunk:
            break
        reply += chunk
    return reply[1], sock


def http_get(sock: socket.socket, host: str) -> bytes:
    sock.sendall(f"GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


@needs_alias
def test_public_hosts_are_relayed_private_ones_refused(monkeypatch):
    monkeypatch.setenv(PUBLIC_ENV, PUBLIC)
    with HostileServer(PUBLIC, 0, {"/": html("<p>public</p>")}) as public, HostileServer(INTERNAL, 0) as internal, \
            BrowserProxy(Resolutions()) as proxy:
        code, sock = socks_connect(proxy, PUBLIC, public.port)
        with sock:
            assert code == 0 and b"<p>public</p>" in http_get(sock, PUBLIC)
        for host in (INTERNAL, "localhost", "::ffff:127.0.0.1", "0.0.0.0"):
            code, sock = socks_connect(proxy, host, internal.port)
            sock.close()
            assert code == 2, host  # connection not allowed by ruleset
        code, sock = socks_connect(proxy, INTERNAL, proxy.port)  # the proxy through itself: loopback too
        sock.close()
        assert code == 2
        assert internal.connections == 0
        assert str(proxy.refusal(f"http://localhost:{internal.port}/x")) == (
            "localhost resolves to non-public address 127.0.0.1 (use --allow-private to audit it)")
        assert proxy.refusal(f"http://{PUBLIC}:{public.port}/") is None


@needs_alias
def test_the_proxy_connects_to_the_address_the_crawl_pinned(monkeypatch):
    monkeypatch.setenv(PUBLIC_ENV, PUBLIC)
    public, internal = same_port_pair({"/": html("<p>public</p>")})
    resolutions = Resolutions(HostsStub({"flip.test": [PUBLIC, INTERNAL]}))
    with public, internal, BrowserProxy(resolutions) as proxy:
        for _ in range(3):
            code, sock = socks_connect(proxy, "flip.test", public.port)
            with sock:
                assert code == 0 and b"<p>public</p>" in http_get(sock, "flip.test")
    assert public.connections == 3 and internal.connections == 0


def test_only_connect_is_spoken():
    with BrowserProxy(Resolutions(), allow_private=True) as proxy:
        for command in (2, 3):  # BIND, UDP ASSOCIATE
            code, sock = socks_connect(proxy, "93.184.216.34", 80, command)
            sock.close()
            assert code == 7
        with socket.create_connection(("127.0.0.1", proxy.port), timeout=5) as sock:
            sock.sendall(b"\x05\x01\x02")  # username/password only: no method acceptable
            assert sock.recv(2) == b"\x05\xff"


def test_allow_private_lets_private_hosts_through():
    with HostileServer(INTERNAL, 0, {"/": html("<p>intranet</p>")}) as internal, \
            BrowserProxy(Resolutions(), allow_private=True) as proxy:
        code, sock = socks_connect(proxy, INTERNAL, internal.port)
        with sock:
            assert code == 0 and b"<p>intranet</p>" in http_get(sock, INTERNAL)


def test_the_browser_is_launched_through_the_proxy_and_nothing_else():
    with BrowserProxy(Resolutions()) as proxy:
        settings = crawl_settings(AuditConfig(render="auto"), proxy=proxy)
    args = settings["PLAYWRIGHT_LAUNCH_OPTIONS"]["args"]
    assert f"--proxy-server=socks5://127.0.0.1:{proxy.port}" in args
    assert "--proxy-bypass-list=<-loopback>" in args  # else Chromium goes direct to loopback
    assert "--force-webrtc-ip-handling-policy=disable_non_proxied_udp" in args
    assert settings["CHANAUDIT_BROWSER_PROXY"] is proxy
    with pytest.raises(ValueError, match="browser proxy"):
        crawl_settings(AuditConfig(render="always"))  # no rendering without it
    static = crawl_settings(AuditConfig(render="never"))
    assert static["TWISTED_DNS_RESOLVER"] == "chanaudit.crawler.resolver.PinnedResolver"
    assert static["HTTPPROXY_ENABLED"] is False
    assert {static["DOWNLOAD_HANDLERS"][s] for s in ("file", "data", "ftp", "s3")} == {None}
