"""Rendering fallback through Debian's chromium (scrapy-playwright, executable_path)."""

from __future__ import annotations

import pytest

from chanaudit.core.tables import read_csv
from chanaudit.crawler.config import CHROMIUM, AuditConfig
from chanaudit.crawler.runner import run_audit
from chanaudit.demo.server import Site, SiteServer
from tests.conftest import requires_chromium, write_sites_csv

pytestmark = [pytest.mark.slow, pytest.mark.browser, requires_chromium]

# SYNTHETIC: a chat loader whose URL exists only once the script has run.
INJECTED = b"""<!doctype html><html lang="ru"><head><meta charset="utf-8"></head><body>
<h1>\xd0\x9a\xd0\xbe\xd0\xbc\xd0\xbf\xd0\xb0\xd0\xbd\xd0\xb8\xd1\x8f</h1>
<p>Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore
et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris nisi.</p>
<script>(function(){var s=document.createElement('script');s.async=true;
s.src=['https://code.','jivo','.ru/widget/','Ab12Cd34'].join('');document.body.appendChild(s);})();</script>
</body></html>"""
PLAIN = b"""<!doctype html><html lang="ru"><head><meta charset="utf-8"></head><body>
<p>Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore
et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris nisi.</p>
<p><a href="mailto:info@plain.ru">info@plain.ru</a></p></body></html>"""


@pytest.mark.parametrize("policy,chat,rendered_pages", [("never", 0, 0), ("auto", 1, 1), ("always", 1, 2)])
def test_render_policy(tmp_path, policy, chat, rendered_pages):
    sites = [Site("injected", routes={"/": ("text/html", INJECTED)}),
             Site("plain", routes={"/": ("text/html", PLAIN)})]
    with SiteServer(sites) as server:
        csv_path = write_sites_csv(tmp_path / "in.csv", [{"url": server.url(s.name)} for s in sites])
        # the loader names the vendor's real host: no test asks an outside host (third-party scripts off)
        result = run_audit(csv_path, tmp_path / "out",
                           AuditConfig(render=policy, allow_private=True, delay=0, timeout=10, render_wait_ms=300,
                                       third_party_scripts=False))
    frame = read_csv(tmp_path / "out" / "sites.csv")
    assert list(frame["status"]) == ["ok", "ok"]
    assert frame.loc[0, "chat"] == chat
    assert result.manifest["pages_rendered"] == rendered_pages
    rendering = result.manifest["rendering"]  # what rendering actually ran
    assert (rendering["policy"], rendering["pages_rendered"], rendering["render_errors"]) == (policy, rendered_pages, 0)
    if policy == "never":
        assert rendering["browser"] is None and rendering["browser_version"] is None
    else:
        assert rendering["browser"] == CHROMIUM and rendering["browser_version"].startswith("Chromium ")
    if chat:
        evidence = read_csv(tmp_path / "out" / "evidence.csv")
        assert "jivo" in set(evidence[evidence["channel"] == "chat"]["value"])


# SYNTHETIC: a tag manager on another host (another port) injects a Bitrix24 site-button loader
# hosted on the site itself; static HTML shows only the tag manager's <script src>.
def _tag_manager_sites():
    site = Site("shop", routes={})
    manager = Site("manager", routes={})
    return site, manager


@pytest.mark.parametrize("third_party,chat", [(False, 0), (True, 1)])
def test_tag_manager_on_another_host_runs_only_when_allowed(tmp_path, third_party, chat):
    site, manager = _tag_manager_sites()
    with SiteServer([site, manager]) as server:
        own = server.url("shop").rstrip("/")
        manager.routes["/gtm.js"] = ("application/javascript", (
            "var s=document.createElement('script');"
            f"s.src='{own}/upload/crm/site_button/loader_1_ab12cd.js';document.head.appendChild(s);").encode())
        site.routes["/"] = ("text/html", PLAIN.replace(
            b"</body>", f'<script async src="{server.url("manager", "/gtm.js")}"></script></body>'.encode()))
        csv_path = write_sites_csv(tmp_path / "in.csv", [{"url": server.url("shop")}])
        run_audit(csv_path, tmp_path / "out", AuditConfig(
            render="always", allow_private=True, delay=0, timeout=10, render_wait_ms=500,
            third_party_scripts=third_party))
        fetched = list(server.log)
    frame = read_csv(tmp_path / "out" / "sites.csv")
    assert frame.loc[0, "status"] == "ok" and frame.loc[0, "chat"] == chat
    assert (("manager", "/gtm.js") in fetched) == third_party  # the browser asked the other host only when allowed
    if chat:
        evidence = read_csv(tmp_path / "out" / "evidence.csv")
        assert set(evidence[evidence["channel"] == "chat"]["value"]) == {"bitrix24"}
