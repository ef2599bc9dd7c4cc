"""Attacks on the rendering browser (issue 12, items 1 and 2): a "public" site on 127.0.0.2
(declared public with the CHANAUDIT_TEST_PUBLIC_ADDRESSES hook) sends the browser to an
internal server on 127.0.0.1 — by a redirect of its first navigation, a 307 after a form POST,
a script or meta-refresh navigation, frames, pop-ups, subresources, workers, websockets and
WebRTC — and the real crawler, with its real Chromium and default options (no
--allow-private), must refuse every hop: the internal server sees not a single connection,
nothing of it reaches the outputs, and a refused navigation makes the site blocked_address with
a message naming the hop. A control run with --allow-private shows that the attacks are real.
"""

from __future__ import annotations

import socket
import threading

import pytest

from chanaudit.core.tables import read_csv
from chanaudit.crawler.config import AuditConfig
from chanaudit.crawler.runner import run_audit
from tests.conftest import requires_chromium, write_sites_csv
from tests.hostile import (
    INTERNAL,
    PUBLIC,
    HostileServer,
    html,
    loopback_alias_works,
    redirect,
    secret,
)

pytestmark = [pytest.mark.slow, pytest.mark.browser, requires_chromium,
              pytest.mark.skipif(not loopback_alias_works(), reason="127.0.0.2 is not routed to loopback here")]

HOME = ("<html><head><title>{name}</title></head><body><h1>Firm {name}</h1>"
        "<p>Phone +7 495 123-45-67, email <a href='mailto:info@{name}.example'>info@{name}.example</a></p>"
        "{extra}</body></html>")


def page(name: str, extra: str = "") -> str:
    return HOME.format(name=name, extra=extra)


def cloaked(name: str, later):
    """The static crawler's first visit gets a plain page; the browser's (the next) gets ``later``."""
    return lambda handler, hit: html(page(name)) if hit == 1 else later


class UdpSink:
    """A UDP port on 127.0.0.1 counting datagrams (WebRTC's STUN requests)."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((INTERNAL, 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.datagrams = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.sock.recvfrom(4096)
                self.datagrams += 1
            except OSError:
                continue

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.sock.close()


def attack_sites(i, udp_port: int) -> dict[str, dict]:
    """name -> routes of a public site; ``i(path)`` is the internal URL of path."""
    ip = i("/").split("//")[1].split(":")[1].rstrip("/")  # the internal port
    return {
        # 1. the browser's first navigation is redirected
        "redirect302": {"/": cloaked("redirect302", redirect(i("/redirect302")))},
        # ... after a form POST, with 307 (the POST itself would be replayed)
        "post307": {"/": html(page("post307", "<form method='post' action='/submit'><input name='q' value='1'>"
                                               "</form><script>document.forms[0].submit()</script>")),
                    "/submit": redirect(i("/post307"), 307)},
        # ... by a script, directly and through a redirect of the site's own
        "jsnav": {"/": html(page("jsnav", f"<script>setTimeout(() => location.href = '{i('/jsnav')}', 20)</script>"))},
        "jshop": {"/": html(page("jshop", "<script>setTimeout(() => location.href = '/hop', 20)</script>")),
                  "/hop": redirect(i("/jshop"))},
        # ... by a meta refresh only the browser gets
        "metarefresh": {"/": cloaked("metarefresh", html(
            f"<html><head><meta http-equiv='refresh' content='0;url={i('/metarefresh')}'></head><body>wait</body></html>"))},
        # ... to loopback by name and as an IPv4-mapped IPv6 literal
        "localhost": {"/": html(page("localhost", f"<script>location.href = 'http://localhost:{ip}/localhost'</script>"))},
        "mapped": {"/": html(page("mapped", f"<script>location.href = 'http://[::ffff:127.0.0.1]:{ip}/mapped'</script>"))},
        # 2. frames, directly and redirected: the page itself is fine
        "frames": {"/": html(page("frames", f"<iframe src='{i('/frame-direct')}'></iframe>"
                                            "<iframe src='/frame-hop'></iframe>")),
                   "/frame-hop": redirect(i("/frame-redirect"))},
        # pop-ups: window.open, target=_blank, a pop-up that redirects
        "popups": {"/": html(page("popups", f"<a id='b' target='_blank' href='{i('/popup-blank')}'>x</a><script>"
                                            f"window.open('{i('/popup-open')}'); window.open('/popup-hop');"
                                            "document.getElementById('b').click();</script>")),
                   "/popup-hop": redirect(i("/popup-redirect"))},
        # subresources, workers, websockets, beacons, prefetch, WebRTC
        "subresources": {
            "/": html(page("subresources", (
                f"<script src='{i('/sub-script')}'></script><img src='{i('/sub-img')}'>"
                f"<link rel='prefetch' href='{i('/sub-prefetch')}'><link rel='stylesheet' href='{i('/sub-css')}'>"
                "<script src='/own.js'></script>"
                f"<script>fetch('{i('/sub-fetch')}').catch(() => 0); fetch('/sub-hop').catch(() => 0);"
                f"fetch('http://0.0.0.0:{ip}/sub-zero').catch(() => 0);"
                f"try {{ new WebSocket('ws://127.0.0.1:{ip}/sub-ws'); }} catch (e) {{}}"
                f"navigator.sendBeacon('{i('/sub-beacon')}', 'x'); new EventSource('{i('/sub-sse')}');"
                "new Worker('/worker.js');"
                f"const pc = new RTCPeerConnection({{iceServers: [{{urls: 'stun:127.0.0.1:{udp_port}'}},"
                f"{{urls: 'turn:127.0.0.1:{ip}?transport=tcp', username: 'u', credential: 'p'}}]}});"
                "pc.createDataChannel('x'); pc.createOffer().then(o => pc.setLocalDescription(o));</script>"))),
            "/own.js": (200, {"Content-Type": "application/javascript"},
                        f"fetch('{i('/sub-own-script')}').catch(() => 0);".encode()),
            "/sub-hop": redirect(i("/sub-redirect")),
            "/worker.js": (200, {"Content-Type": "application/javascript"},
                           f"fetch('{i('/sub-worker')}').catch(() => 0);".encode()),
        },
    }


NAVIGATIONS = {  # site -> the refused hop its message names
    "redirect302": "/redirect302", "post307": "/post307", "jsnav": "/jsnav", "jshop": "/jshop",
    "metarefresh": "/metarefresh", "localhost": "/localhost", "mapped": "/mapped",
}
PAGE_ATTACKS = ("frames", "popups", "subresources")


def crawl(tmp, allow_private: bool):
    internal = HostileServer(INTERNAL, 0, default=lambda h, n: html(f"<html><body><p>{secret(h.path.strip('/'))}</p>"
                                                                    "</body></html>")).start()
    sink = UdpSink()
    sites = {name: HostileServer(PUBLIC, 0, {"/robots.txt": html("", 404), **routes}).start()
             for name, routes in attack_sites(internal.url, sink.port).items()}
    try:
        rows = [{"url": server.url("/"), "name": name} for name, server in sites.items()]
        csv_path = write_sites_csv(tmp / "in.csv", rows)
        config = AuditConfig(render="always", allow_private=allow_private, delay=0, timeout=5, retries=0,
                             max_pages=1, render_wait_ms=700, render_timeout=10, concurrency=16)
        result = run_audit(csv_path, tmp / "out", config)
    finally:
        for server in (internal, *sites.values()):
            server.stop()
        sink.close()
    frame = read_csv(tmp / "out" / "sites.csv").set_index("name")
    return result, frame, internal, sites, sink


@pytest.fixture(scope="module")
def attacked(tmp_path_factory):
    """The attacks against default options (the CHANAUDIT_TEST_PUBLIC_ADDRESSES hook set)."""
    mp = pytest.MonkeyPatch()
    mp.setenv("CHANAUDIT_TEST_PUBLIC_ADDRESSES", PUBLIC)
    try:
        yield crawl(tmp_path_factory.mktemp("attacked"), allow_private=False)
    finally:
        mp.undo()


def test_nothing_reached_the_internal_network(attacked):
    result, frame, internal, _sites, sink = attacked
    assert result.returncode == 0 and len(frame) == len(NAVIGATIONS) + len(PAGE_ATTACKS)
    assert internal.log == [] and internal.connections == 0  # not one request, not one connection
    assert sink.datagrams == 0  # no WebRTC STUN packet either


@pytest.mark.parametrize("name", sorted(NAVIGATIONS))
def test_a_refused_navigation_blocks_the_site_and_names_the_hop(attacked, name):
    _result, frame, _internal, sites, _sink = attacked
    row = frame.loc[name]
    assert row["status"] == "blocked_address", row["status_detail"]
    detail = row["status_detail"]
    assert detail.startswith("browser navigation to http://") and f"{NAVIGATIONS[name]} refused: " in detail
    assert "non-public address" in detail and "--allow-private" in detail
    assert row["http_status"] == 200  # what the site's own server answered the static crawl
    assert len(sites[name].log) >= 2  # the static fetch and the browser's own


def test_pages_with_hostile_frames_popups_and_subresources_are_audited(attacked):
    _result, frame, _internal, sites, _sink = attacked
    for name in PAGE_ATTACKS:
        row = frame.loc[name]
        assert row["status"] == "ok", (name, row["status_detail"])
        assert (row["email"], row["phone"], row["rendered"]) == (1, 1, 1), name
    assert "/popup-hop" in sites["popups"].paths  # the pop-up opened, went through the proxy, and was refused
    assert {"/own.js", "/worker.js", "/sub-hop"} <= set(sites["subresources"].paths)  # the attacks ran


def test_no_internal_text_in_any_output(attacked):
    result = attacked[0]
    for name in ("sites.csv", "evidence.csv", "pages.csv"):
        text = (result.out / name).read_text(encoding="utf-8")
        assert "INTERNAL-SECRET" not in text and "intranet.example" not in text, name
    evidence = read_csv(result.out / "evidence.csv")
    blocked_ids = set(read_csv(result.out / "sites.csv").query("status == 'blocked_address'")["site_id"])
    assert blocked_ids and not set(evidence["site_id"]) & blocked_ids  # a blocked site's findings are void


def test_refused_pages_are_recorded(attacked):
    result = attacked[0]
    pages = read_csv(result.out / "pages.csv")
    refused = pages[pages["error"].fillna("").str.startswith("blocked_address: browser navigation to")]
    assert len(refused) == len(NAVIGATIONS) and set(refused["rendered"]) == {1}
    log = (result.out / "crawl.log").read_text(encoding="utf-8")
    assert "closed 3 pop-up(s)" in log


def test_control_the_same_attacks_reach_the_internal_network_with_allow_private(tmp_path):
    """Without this, the suite could pass by accident (an attack that never fires)."""
    result, frame, internal, _sites, _sink = crawl(tmp_path, allow_private=True)
    reached = set(internal.paths)
    assert {*NAVIGATIONS.values(), "/frame-direct", "/frame-redirect", "/sub-redirect", "/sub-ws"} <= reached
    assert reached & {"/popup-open", "/popup-blank", "/popup-redirect"}  # closed at once, but they went out
    assert set(frame["status"]) == {"ok"}
    assert "admin-redirect302@intranet.example" in (result.out / "evidence.csv").read_text(encoding="utf-8")


def test_webrtc_sends_no_udp_outside_the_proxy():
    """STUN packets are UDP and never see a proxy: Chromium sends them to 127.0.0.1 unless told not to
    (BROWSER_NETWORK_ARGS); the control launch without those flags shows the packets arrive."""
    import asyncio

    from playwright.async_api import async_playwright

    from chanaudit.crawler.config import CHROMIUM, CHROMIUM_ARGS
    from chanaudit.crawler.proxy import BrowserProxy
    from chanaudit.crawler.resolver import Resolutions

    async def datagrams(args: list[str]) -> int:
        sink = UdpSink()
        try:
            async with async_playwright() as pw:
                browser = await pw.chromium.launch(executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, *args])
                tab = await browser.new_page()
                await tab.set_content(f"<script>const pc = new RTCPeerConnection({{iceServers: [{{urls: "
                                      f"'stun:127.0.0.1:{sink.port}'}}]}}); pc.createDataChannel('x');"
                                      "pc.createOffer().then(o => pc.setLocalDescription(o));</script>")
                await tab.wait_for_timeout(1000)
                await browser.close()
        finally:
            sink.close()
        return sink.datagrams

    with BrowserProxy(Resolutions(), allow_private=True) as proxy:
        assert asyncio.run(datagrams(proxy.browser_args())) == 0
        assert asyncio.run(datagrams([f"--proxy-server={proxy.url}", "--proxy-bypass-list=<-loopback>"])) > 0
