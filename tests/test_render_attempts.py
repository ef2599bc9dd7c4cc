"""The rendered path of issue 17 (items 2 and 4), through the real crawler and Chromium with default
options (no --allow-private): sites on 127.0.0.2 play public sites under .test names
(CHANAUDIT_TEST_PUBLIC_ADDRESSES, CHANAUDIT_TEST_HOSTS; docs/safety.md). All pages are synthetic.

- A chat loader that a GTM-like loader injects and removes again is found from the request the page
  *attempted*, whether the browser ran it (third-party scripts on, the default: the vendor host does
  not answer) or blocked it (--no-third-party-scripts).
- A chat that only a tag manager on another host injects is found only when the browser may run
  third-party scripts: the measured reason for the default.
- A launcher fixed in a viewport corner by a stylesheet or inside a shadow root is found from the
  computed styles; a cookie bar, a messenger button, a top bar and hidden elements are not chats.
"""

from __future__ import annotations

import base64
import json
import socket

import pytest

from chanaudit.core.tables import read_csv
from chanaudit.crawler.config import AuditConfig
from chanaudit.crawler.runner import run_audit
from tests.conftest import requires_chromium, write_sites_csv
from tests.hostile import PUBLIC, HostileServer, html, loopback_alias_works, write_hosts

pytestmark = [pytest.mark.slow, pytest.mark.browser, requires_chromium,
              pytest.mark.skipif(not loopback_alias_works(), reason="127.0.0.2 is not routed to loopback here")]

TEXT = ("<h1>Firm {name}</h1><p>Computer support for offices and homes, on site and remote, since 2009. "
        "Phone +7 495 123-45-67, email <a href='mailto:info@{name}.test'>info@{name}.test</a>.</p>")
LOADER_PATH = "/upload/crm/site_button/loader_1_ab12cd.js"  # Bitrix24's site-button loader, on any host


def js(code: str) -> tuple[int, dict, bytes]:
    return 200, {"Content-Type": "application/javascript"}, code.encode()


def page(name: str, body: str = "", head: str = "") -> tuple[int, dict, bytes]:
    return html(f"<html><head><title>{name}</title>{head}</head><body>{TEXT.format(name=name)}{body}</body></html>")


def dead_port() -> int:
    """A port on 127.0.0.2 nothing listens on: a vendor host that does not answer."""
    with socket.socket() as sock:
        sock.bind((PUBLIC, 0))
        return sock.getsockname()[1]


def inject(url_expr: str) -> str:
    """JS that adds a script and removes it once it loaded or failed: nothing of it stays in the DOM."""
    return (f"var s=document.createElement('script');s.async=true;s.src={url_expr};"
            "s.onload=s.onerror=function(){s.remove()};document.head.appendChild(s);")


def sites(tags_port: int, dead: int) -> dict[str, dict]:
    loader = f"http://widgets.test:{dead}{LOADER_PATH}"
    container = base64.b64encode(json.dumps({"tags": [{"src": loader}]}).encode()).decode()
    widget_style = ("var st=document.createElement('style');st.textContent={css!r};document.head.appendChild(st);"
                    "document.body.insertAdjacentHTML('beforeend', {html!r});")
    load_widget = "<script>var w=document.createElement('script');w.src='/widget.js';document.body.appendChild(w);</script>"
    return {
        # a GTM-like inline loader whose container (base64) names the chat loader: static HTML shows no vendor
        "inline": {"/": page("inline", "<script>(function(w,d){w.dataLayer=w.dataLayer||[];"
                                       "w.dataLayer.push({'gtm.start':new Date().getTime()});"
                                       f"JSON.parse(atob('{container}')).tags.forEach(function(t){{"
                                       f"{inject('t.src')}}});}})(window,document);</script>")},
        # the GTM snippet loads the tag manager from another host; only its code names the chat loader
        "chain": {"/": page("chain", "<script>(function(w,d,l,i){w[l]=w[l]||[];w[l].push({'gtm.start':"
                                     f"new Date().getTime()}});{inject(repr(f'http://tags.test:{tags_port}/gtm.js?id=') + '+i')}"
                                     "})(window,document,'dataLayer','GTM-TEST');</script>")},
        # a launcher placed by a stylesheet the widget injects (no inline style)
        "launcher": {"/": page("launcher", load_widget), "/widget.js": js(widget_style.format(
            css=".helper-fab{position:fixed;bottom:24px;right:24px;padding:12px 18px;border-radius:24px}",
            html="<div class='helper-fab'>Чат с нами</div>"))},
        # a launcher inside a shadow root: none of it is in the page's HTML
        "shadow": {"/": page("shadow", load_widget), "/widget.js": js(
            "class B extends HTMLElement{connectedCallback(){this.attachShadow({mode:'open'}).innerHTML="
            "'<style>:host{position:fixed;bottom:16px;left:16px}</style><button aria-label=\"Ask AI\">+</button>'}}"
            "customElements.define('help-bubble',B);document.body.appendChild(document.createElement('help-bubble'));")},
        # fixed elements with chat words that are no launcher
        "controls": {"/": page("controls", load_widget), "/widget.js": js(widget_style.format(
            css=(".cookie{position:fixed;bottom:0;left:0;right:0;height:40px}"
                 ".wa{position:fixed;bottom:20px;right:20px}.top{position:fixed;top:10px;right:10px}"
                 ".ghost{position:fixed;bottom:90px;right:20px;visibility:hidden}"
                 ".gone{position:fixed;bottom:150px;right:20px;display:none}"),
            html=("<div class='cookie'>We use cookies so that our chat works. <button>OK</button></div>"
                  "<div class='wa'><a href='https://wa.me/79001234567'>Chat with us</a></div>"
                  "<div class='top'>Чат</div><div class='ghost'>Чат</div><div class='gone'>Chat now</div>")))},
        # an app shell whose bundle is on a host that does not answer
        "cdnshell": {"/": html(f"<html><head><title>x</title><script src='http://bundles.test:{dead}/app.js'></script>"
                               "</head><body><div id=root></div></body></html>")},
    }


def crawl(tmp, names: list[str], **options):
    dead = dead_port()
    tags = HostileServer(PUBLIC, 0, {"/gtm.js": js(inject(f"'http://widgets.test:{dead}{LOADER_PATH.replace('1_ab', '2_ef')}'"))})
    tags.start()
    routes = sites(tags.port, dead)
    servers = {name: HostileServer(PUBLIC, 0, {"/robots.txt": html("", 404), **routes[name]}).start() for name in names}
    hosts = {f"{name}.test": [PUBLIC] for name in names}
    hosts.update({"tags.test": [PUBLIC], "widgets.test": [PUBLIC], "bundles.test": [PUBLIC]})
    mp = pytest.MonkeyPatch()
    mp.setenv("CHANAUDIT_TEST_PUBLIC_ADDRESSES", PUBLIC)
    mp.setenv("CHANAUDIT_TEST_HOSTS", str(write_hosts(tmp / "hosts.json", hosts)))
    try:
        rows = [{"url": f"http://{name}.test:{server.port}/", "name": name} for name, server in servers.items()]
        config = AuditConfig(render="auto", delay=0, timeout=5, retries=0, max_pages=1, render_wait_ms=600,
                             render_timeout=10, **options)
        result = run_audit(write_sites_csv(tmp / "in.csv", rows), tmp / "out", config)
    finally:
        mp.undo()
        for server in (tags, *servers.values()):
            server.stop()
    frame = read_csv(tmp / "out" / "sites.csv").set_index("name")
    evidence = read_csv(tmp / "out" / "evidence.csv")
    evidence["name"] = evidence["site_id"].map(dict(zip(frame["site_id"], frame.index, strict=True)))
    return result, frame, evidence, tags, dead


def chats(evidence, name: str) -> list[tuple[str, str, str, str]]:
    rows = evidence[(evidence["name"] == name) & (evidence["channel"] == "chat")]
    return [(r["value"], r["rule"], r["method"], r["detail"]) for _, r in rows.iterrows()]


@pytest.fixture(scope="module")
def default_run(tmp_path_factory):
    return crawl(tmp_path_factory.mktemp("default"), ["inline", "chain", "launcher", "shadow", "controls", "cdnshell"])


def test_default_runs_third_party_scripts_and_reads_attempted_requests(default_run):
    result, frame, evidence, tags, dead = default_run
    assert result.manifest["config"]["third_party_scripts"] is True
    for name in ("inline", "chain"):  # the vendor host never answered: the attempt is the evidence
        assert frame.loc[name, "status"] == "ok" and frame.loc[name, "chat"] == 1, name
        [(value, rule, method, detail)] = chats(evidence, name)
        assert (value, rule, method) == ("bitrix24", "chat.bitrix24", "attempted_request")
        assert detail.startswith("live_chat; attempted script request, failed: net::"), detail
    assert tags.paths == ["/gtm.js?id=GTM-TEST"]  # the tag manager on another host ran
    snippet = evidence[(evidence["name"] == "inline") & (evidence["channel"] == "chat")]["snippet"].iloc[0]
    assert snippet.startswith(f"script http://widgets.test:{dead}{LOADER_PATH} (failed: net::")  # no query kept


def test_launchers_by_computed_style(default_run):
    _result, frame, evidence, _tags, _dead = default_run
    assert chats(evidence, "launcher") == [("launcher", "chat.generic_launcher", "corner", "live_chat")]
    assert chats(evidence, "shadow") == [("launcher", "chat.generic_launcher", "corner", "ai_chat")]
    snippet = evidence[(evidence["name"] == "shadow") & (evidence["channel"] == "chat")]["snippet"].iloc[0]
    assert snippet.startswith("<help-bubble>") and ":host" not in snippet  # the shadow root's text, not its style
    assert frame.loc["controls", "status"] == "ok" and frame.loc["controls", "chat"] == 0
    assert chats(evidence, "controls") == []
    messengers = evidence[(evidence["name"] == "controls") & (evidence["channel"] == "messenger")]
    assert list(messengers["value"]) == ["whatsapp"]  # the corner button is a messenger button


def test_attempts_are_counted_in_pages_csv_and_kept_out_of_other_outputs(default_run):
    result, frame, _evidence, _tags, _dead = default_run
    pages = read_csv(result.out / "pages.csv")
    rendered, static = pages[pages["rendered"] == 1], pages[pages["rendered"] == 0]
    assert len(rendered) == len(frame) and static["requests"].isna().all()
    by_site = rendered.set_index("site_id")["requests"]
    assert by_site[frame.loc["inline", "site_id"]] == 1 and by_site[frame.loc["chain", "site_id"]] == 2
    assert by_site[frame.loc["launcher", "site_id"]] == 1  # /widget.js
    for name in ("sites.csv", "pages.csv"):
        assert "gtm.js" not in (result.out / name).read_text(encoding="utf-8")


def test_an_unreachable_bundle_is_named(default_run):
    _result, frame, _evidence, _tags, dead = default_run
    row = frame.loc["cdnshell"]
    assert row["status"] == "empty", row["status_detail"]
    assert row["status_detail"].endswith(f"after rendering; scripts from bundles.test:{dead} did not load")


def test_no_third_party_scripts(tmp_path):
    """--no-third-party-scripts: an attempt the browser blocked still counts; a chat that only the tag
    manager on another host injects is missed, and that host is never asked."""
    result, frame, evidence, tags, _dead = crawl(tmp_path, ["inline", "chain"], third_party_scripts=False)
    assert result.manifest["config"]["third_party_scripts"] is False
    assert frame.loc["inline", "chat"] == 1
    [(value, _rule, method, detail)] = chats(evidence, "inline")
    assert (value, method, detail) == ("bitrix24", "attempted_request", "live_chat; attempted script request, blocked")
    assert frame.loc["chain", "status"] == "ok" and frame.loc["chain", "chat"] == 0
    assert tags.paths == []
