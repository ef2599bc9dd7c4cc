"""Site states through the real crawler: SYNTHETIC copies of provider pages served on 127.0.0.1 with their
real status codes and headers (tests/fixtures/states/*.json), redirects to a broker and to another domain,
and the challenge retried in the browser."""

from __future__ import annotations

import json

import pytest

from chanaudit.core.tables import read_csv
from chanaudit.crawler.config import AuditConfig
from chanaudit.crawler.offsite import domain_key, readable_domain
from chanaudit.crawler.runner import run_audit
from chanaudit.demo.server import Reply, Site, SiteServer
from tests.conftest import FIXTURES, requires_chromium, write_sites_csv

pytestmark = pytest.mark.slow

STATES = FIXTURES / "states"
BASIC = FIXTURES / "sites" / "basic"
BROKER = "https://www.hugedomains.com/domain_profile.cfm?d=old-company&e=ru"


def fixture_site(name: str, fixture: str) -> Site:
    side = json.loads((STATES / f"{fixture}.json").read_text(encoding="utf-8"))
    return Site(name, replies={"/": Reply.of(side["status"], side["headers"], (STATES / fixture).read_bytes())})


def html_site(name: str, html: str, status: int = 200, headers: dict | None = None) -> Site:
    return Site(name, replies={"/": Reply.of(status, {"Content-Type": "text/html; charset=utf-8", **(headers or {})},
                                             html.encode("utf-8"))})


#: name -> (fixture, status, rule)
SERVED = {
    "cf-challenge": ("example-cloudflare-challenge.html", "challenge", "cloudflare-challenge"),
    "qrator": ("example-qrator-challenge.html", "challenge", "qrator-challenge"),
    "ddos-guard": ("example-ddos-guard-challenge.html", "challenge", "ddos-guard-challenge"),
    "aws-waf": ("example-aws-waf-challenge.html", "challenge", "aws-waf-challenge"),
    "yandex": ("example-yandex-smartcaptcha.html", "challenge", "yandex-smartcaptcha"),
    "sedo": ("example-sedo-parking.html", "parked", "sedo-parking"),
    "godaddy-stub": ("example-godaddy-lander-stub.html", "parked", "godaddy-lander-stub"),
    "for-sale-ru": ("example-domain-for-sale-ru.html", "parked", "domain-for-sale-ru"),
    "centos": ("example-apache-centos-testpage.html", "placeholder", "apache-rhel-test-page"),
    "nginx": ("example-nginx-default.html", "placeholder", "nginx-default"),
    "suspended": ("example-cpanel-suspended.html", "placeholder", "cpanel-suspended"),
    "beget": ("example-beget-not-linked.html", "placeholder", "beget-not-linked"),
    "v-razrabotke": ("example-under-construction-ru.html", "placeholder", "under-construction-ru"),
    "cf-blog": ("control-cloudflare-blog.html", "ok", ""),
    "cf-protected": ("extra-control-cloudflare-protected.html", "ok", ""),
    "ddg-shop": ("control-ddos-guard-protected-shop.html", "ok", ""),
    "qrator-agency": ("control-qrator-protected-agency.html", "ok", ""),
}


def fast(**kw) -> AuditConfig:
    return AuditConfig(**{"render": "never", "allow_private": True, "delay": 0, "timeout": 5, "retries": 0, **kw})


@pytest.fixture(scope="module")
def states_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("states")
    sites = [fixture_site(name, fixture) for name, (fixture, _, _) in SERVED.items()]
    sites += [
        html_site("blank", "<html><head><title>ООО «Ромашка»</title></head><body>\n</body></html>"),
        fixture_site("shell", "example-empty.html"),  # scripts: without a browser it stays ok, said so
        Site("to-broker", replies={"/": Reply(302, [("Location", BROKER)])}),
        Site("moved", redirect_to="target"),
        Site("target", root=BASIC),
        Site("forbidden", fault="http_403"),
    ]
    with SiteServer(sites) as server:
        rows = [{"url": server.url(s.name), "name": s.name} for s in sites]
        result = run_audit(write_sites_csv(tmp / "in.csv", rows), tmp / "out", fast())
        log = list(server.log)
    return result, read_csv(tmp / "out" / "sites.csv"), read_csv(tmp / "out" / "pages.csv"), log


def row(frame, name):
    return frame[frame["name"] == name].iloc[0]


@pytest.mark.parametrize("name", list(SERVED))
def test_each_state_from_its_real_status_and_headers(states_run, name):
    _, frame, pages, _ = states_run
    fixture, status, rule = SERVED[name]
    got = row(frame, name)
    assert got["status"] == status, got["status_detail"]
    if status == "ok":
        assert got["channels"] >= 1
        return
    assert got["status_detail"].startswith(f"{rule}: ")  # the rule, then the provider
    home = pages[(pages["site_id"] == got["site_id"]) & (pages["role"] == "home")].iloc[0]
    assert (home["state"], home["state_rule"]) == (status, rule)
    assert home["state_evidence"]  # what matched, kept in pages.csv
    side = json.loads((STATES / f"{fixture}.json").read_text(encoding="utf-8"))
    assert got["http_status"] == side["status"]  # 401, 403, 405... read, not failed
    assert all(got[ch] != got[ch] for ch in ("email", "phone", "chat", "form", "portal"))  # empty: not counted
    assert (pages["site_id"] == got["site_id"]).sum() == 1  # nothing fetched beyond the home page


def test_a_challenge_without_a_browser_says_so(states_run):
    _, frame, _, _ = states_run
    detail = row(frame, "cf-challenge")["status_detail"]
    assert "Cloudflare" in detail and "(header cf-mitigated, title, text, marker)" in detail  # what matched
    assert "not retried in a browser (--render never)" in detail


def test_a_plain_403_is_still_an_http_error(states_run):
    _, frame, pages, _ = states_run
    got = row(frame, "forbidden")
    assert (got["status"], got["status_detail"], got["http_status"]) == ("http_error", "HTTP 403", 403)
    page = pages[pages["site_id"] == got["site_id"]].iloc[0]
    assert page["error"] == "http_error: HTTP 403" and page["state"] != page["state"]


def test_empty_pages(states_run):
    _, frame, pages, _ = states_run
    blank = row(frame, "blank")
    assert blank["status_detail"] == "empty: under 20 visible characters, no image, frame, form or link; no scripts to fill it"
    assert blank["status"] == "empty" and blank["http_status"] == 200
    home = pages[pages["site_id"] == blank["site_id"]].iloc[0]
    assert home["state"] == "empty" and "visible text: ''" in home["state_evidence"]
    shell = row(frame, "shell")  # an app shell: only a browser could tell, and there was none
    assert shell["status"] == "ok" and shell["status_detail"] == (
        "no visible content in the static HTML; not rendered (--render never)")


def test_redirect_to_a_broker_is_parked_and_not_followed(states_run):
    _, frame, pages, log = states_run
    got = row(frame, "to-broker")
    assert got["status"] == "parked" and got["status_detail"].startswith("broker-hugedomains: HugeDomains")
    assert (got["final_url"], got["final_domain"], got["moved"], got["http_status"]) == (
        BROKER, "hugedomains.com", 1, 302)
    home = pages[pages["site_id"] == got["site_id"]].iloc[0]
    assert home["url"] == BROKER and home["state_rule"] == "broker-hugedomains" and "not fetched" in home["error"]


def test_moved_site_is_audited_as_its_target_and_flagged(states_run):
    _, frame, _, _ = states_run
    moved, target = row(frame, "moved"), row(frame, "target")
    assert moved["status"] == "ok" and moved["moved"] == 1
    assert moved["final_url"] == target["url"] and moved["final_domain"] == target["final_domain"]
    assert [moved[c] for c in ("email", "phone", "form", "portal")] == [1, 1, 1, 1]  # the target's channels
    assert target["moved"] == 0 and row(frame, "nginx")["moved"] == 0
    assert row(frame, "forbidden")["moved"] == 0  # the home page answered: it did not move


def test_manifest_counts_the_new_statuses(states_run):
    result, frame, _, _ = states_run
    counts = result.manifest["counts"]
    assert counts["challenge"] == 5 and counts["parked"] == 4 and counts["placeholder"] == 5
    assert counts["empty"] == 1 and sum(counts.values()) == len(frame)


def test_offsite_redirects_skip(tmp_path):
    sites = [Site("moved", redirect_to="target"), Site("target", root=BASIC), Site("home", root=BASIC)]
    with SiteServer(sites) as server:
        rows = [{"url": server.url("moved")}, {"url": server.url("home")}]
        result = run_audit(write_sites_csv(tmp_path / "in.csv", rows), tmp_path / "out",
                           fast(offsite_redirects="skip"))
        log = list(server.log)
    frame = read_csv(tmp_path / "out" / "sites.csv")
    assert list(frame["status"]) == ["moved", "ok"]
    assert "--offsite-redirects skip" in frame.loc[0, "status_detail"] and frame.loc[0, "moved"] == 1
    assert frame.loc[0, "final_url"] == server.url("target") and frame.loc[1, "moved"] == 0
    assert not [p for site, p in log if site == "target"]  # the other company's site was never fetched
    assert result.manifest["config"]["offsite_redirects"] == "skip"


@pytest.mark.browser
@requires_chromium
def test_challenges_and_shells_in_the_browser(tmp_path):
    """render auto: a challenge is retried once in the browser. One stays a challenge; one the browser gets past
    (its script replaces the page, as a solved challenge does), and the page behind it is audited, links
    included; a lander whose text only scripts write is parked after rendering; an empty shell is empty."""
    passing = (STATES / "example-cloudflare-challenge.html").read_text(encoding="utf-8").replace(
        "</body>", "<script>document.documentElement.innerHTML = '<head><title>Acme Service</title></head>"
        "<body><h1>Acme Service</h1><p>Computer support for offices, call +7 (495) 123-45-67.</p>"
        "<a href=\"/kontakty/\">Контакты</a></body>';</script></body>")
    side = json.loads((STATES / "example-cloudflare-challenge.html.json").read_text(encoding="utf-8"))
    lander = ("<html><head><title></title><script>window.LANDER_SYSTEM=\"PW\"</script>"
              '<script src="https://img1.wsimg.com/parking-lander/static/js/main.js"></script></head>'
              "<body><div id=\"root\"></div><script>document.getElementById('root').innerHTML ="
              "'<h1>Get this domain</h1><p>The owner of this domain has listed it for sale.</p>';</script>"
              "</body></html>")
    filled = ("<html><head><title>Acme</title></head><body><div id=root></div><script>"
              "document.getElementById('root').innerHTML = '<h1>Acme Service</h1><p>IT support for offices.</p>"
              "<a href=\"/kontakty/\">Контакты</a>';</script></body></html>")
    cdn_shell = ("<html><head><title>Acme</title><script src='https://cdn.bundles.example/app.js'></script></head>"
                 "<body><div id=root></div></body></html>")
    sites = [
        fixture_site("challenge", "example-cloudflare-challenge.html"),
        Site("passing", root=BASIC, replies={"/": Reply.of(403, side["headers"], passing.encode("utf-8"))}),
        html_site("lander", lander),
        fixture_site("shell", "example-empty.html"),
        Site("filled", root=BASIC, replies={"/": Reply.of(200, {"Content-Type": "text/html"}, filled.encode())}),
        html_site("cdn-shell", cdn_shell),
    ]
    with SiteServer(sites) as server:
        rows = [{"url": server.url(s.name), "name": s.name} for s in sites]
        run_audit(write_sites_csv(tmp_path / "in.csv", rows), tmp_path / "out",
                  fast(render="auto", timeout=10, render_wait_ms=300, third_party_scripts=False))
        log = list(server.log)
    frame, pages = read_csv(tmp_path / "out" / "sites.csv"), read_csv(tmp_path / "out" / "pages.csv")
    challenge = row(frame, "challenge")
    assert challenge["status"] == "challenge" and "still a challenge in the browser" in challenge["status_detail"]
    tried = pages[pages["site_id"] == challenge["site_id"]]
    assert list(tried["rendered"]) == [0, 1] and set(tried["state"]) == {"challenge"}  # retried once
    passed = row(frame, "passing")
    assert passed["status"] == "ok" and passed["phone"] == 1 and passed["email"] == 1  # email: on /kontakty/
    assert passed["status_detail"] == "cloudflare-challenge challenge passed in the browser"
    assert ("passing", "/kontakty/") in log
    assert any("challenge passed in the browser" in str(e) for e in pages["state_evidence"])
    lander_row = row(frame, "lander")
    assert lander_row["status"] == "parked" and "after rendering" in lander_row["status_detail"]
    shell = row(frame, "shell")
    assert shell["status"] == "empty" and shell["status_detail"].endswith("; after rendering")
    filled_row = row(frame, "filled")  # a shell its own script fills: audited, links read from the browser's page
    assert filled_row["status"] == "ok" and filled_row["email"] == 1 and ("filled", "/kontakty/") in log
    cdn = row(frame, "cdn-shell")  # the bundle is on another host, which the browser does not run here
    assert cdn["status"] == "empty"
    assert "scripts from cdn.bundles.example not run (--third-party-scripts runs them)" in cdn["status_detail"]


@pytest.mark.browser
@requires_chromium
@pytest.mark.skipif(not (FIXTURES.parents[2] / "shared" / "realsites" / "domains.csv").exists()
                    and not __import__("os").environ.get("CI"), reason="../shared/realsites not present")
def test_no_real_company_site_changes_status(tmp_path):
    """Both labelled batches of ../shared/realsites (35 working company sites), served as they were saved
    and audited as their public domains with the default rendering policy (the rules run on the static
    pages and on the rendered ones): every one stays ok, none moved, no page shows a state."""
    import csv

    from tests import realsites

    with open(realsites.ROOT / "domains.csv", encoding="utf-8") as fh:
        domains = {r["slug"]: r["domain"] for r in csv.DictReader(fh)}
    served = [Site(slug, root=realsites.ROOT / "sites" / slug) for slug in sorted(domains)]
    with SiteServer(served) as server:
        rows = [{"url": server.url(s.name), "domain": domains[s.name], "slug": s.name} for s in served]
        # the saved pages name real third-party hosts: no test asks them (third-party scripts off)
        result = run_audit(write_sites_csv(tmp_path / "in.csv", rows), tmp_path / "out",
                           fast(render="auto", timeout=10, render_wait_ms=300, third_party_scripts=False))
    frame = read_csv(tmp_path / "out" / "sites.csv")
    assert len(frame) == len(domains) >= 35 and result.manifest["pages_rendered"] >= 10
    assert (frame["status"] == "ok").all(), frame[frame["status"] != "ok"][["slug", "status", "status_detail"]]
    assert (frame["moved"] == 0).all()
    # the registrable public domain (not 127.0.0.1), private suffixes kept (desertlink.it.com, not it.com), IDN
    # shown in Unicode (бурмастер.бел); project7450979.tilda.ws is tilda.ws: Tilda is not on the suffix list
    expected = {s: readable_domain(domain_key(f"https://{d}/")) for s, d in domains.items()}
    assert list(frame["final_domain"]) == [expected[s] for s in frame["slug"]]
    assert {"desertlink.it.com", "бурмастер.бел", "tilda.ws"} <= set(frame["final_domain"])
    pages = read_csv(tmp_path / "out" / "pages.csv")
    assert pages["state"].isna().all() and frame["status_detail"].isna().all()


@pytest.mark.browser
@requires_chromium
def test_the_demo_markets_states_are_found_as_labelled(tmp_path):
    """The demo market's sites in a state, served as the demo serves them (real status codes and headers),
    audited as the demo audits them (render auto): each gets the status it is labelled with; a moved site is
    audited as the company it redirects to."""
    from chanaudit.demo.market import generate_market
    from chanaudit.demo.run import serve_market

    market = generate_market(tmp_path / "market", 320, 2016)
    wanted = {s["slug"] for s in market.sites if s["state"]}
    wanted |= {s["moved_to"] for s in market.sites if s["state"] == "moved"}
    served = [site for site in serve_market(market) if site.name in wanted]
    with SiteServer(served) as server:
        rows = [{"url": server.url(s.name), "slug": s.name} for s in served]
        run_audit(write_sites_csv(tmp_path / "in.csv", rows), tmp_path / "out",
                  fast(render="auto", timeout=10, render_wait_ms=300))
    frame = read_csv(tmp_path / "out" / "sites.csv").set_index("slug")
    for site in market.sites:
        if not site["state"]:
            continue
        got = frame.loc[site["slug"]]
        if site["state"] == "moved":
            assert got["status"] == "ok" and got["moved"] == 1, got["status_detail"]
            assert got["final_url"] == frame.loc[site["moved_to"], "url"]
        else:
            assert got["status"] == site["state"], (site["slug"], site["reply"]["variant"], got["status_detail"])


def test_offsite_redirects_option_is_checked(tmp_path):
    from typer.testing import CliRunner

    from chanaudit.cli import app

    csv_path = write_sites_csv(tmp_path / "in.csv", [{"url": "http://127.0.0.1:9/"}])
    result = CliRunner().invoke(app, ["audit", str(csv_path), "--out", str(tmp_path / "o"),
                                      "--offsite-redirects", "follow"])
    assert result.exit_code == 2
    assert "error: --offsite-redirects must be one of audit, skip, not 'follow'" in result.output
    assert not (tmp_path / "o").exists()
