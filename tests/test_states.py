"""Site states (crawler/states.py, crawler/signatures/states.yaml): every row against its SYNTHETIC example
and control (tests/fixtures/states, each with the real status code and headers), and every working company
site we have -- the labelled real sites and the demo market -- against every row."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from chanaudit.crawler import signatures, states
from chanaudit.crawler.page import Page, ParsedPage
from tests import realsites
from tests.conftest import FIXTURES

STATES = FIXTURES / "states"
TABLE = signatures.load("states")
ROWS = TABLE["rules"]
URL_ROWS = TABLE["url_rules"]
ALLOWED = {"id", "status", "provider", "verified", "http_status", "headers", "title", "markers", "text", "require",
           "example", "control", "source"}


def load_fixture(name: str, url: str = "https://www.example-company.ru/") -> ParsedPage:
    """A fixture page as the crawler sees it: its HTML with the status and headers of its sidecar."""
    path = STATES / name
    side = json.loads(path.with_name(path.name + ".json").read_text(encoding="utf-8"))
    page = Page(url, path.read_text(encoding="utf-8"), int(side["status"]),
                headers=states.normalise_headers(side["headers"]))
    return ParsedPage(page)


def page_of(html: str, status: int = 200, headers: dict | None = None) -> ParsedPage:
    return ParsedPage(Page("https://firma.example/", html, status, headers=states.normalise_headers(headers or {})))


def rules_firing(parsed: ParsedPage, ignore_status: bool = False) -> list[str]:
    sig = states.signals(parsed)
    return [r.id for r in states.table().rules if states.fires(r, sig, ignore_status)]


# -- the table ----------------------------------------------------------------------------------------------------
def test_table_is_well_formed():
    ids = [r["id"] for r in ROWS] + [r["id"] for r in URL_ROWS]
    assert len(ids) == len(set(ids))
    for row in ROWS:
        assert set(row) <= ALLOWED, (row["id"], set(row) - ALLOWED)
        assert re.fullmatch(r"[a-z0-9-]+", row["id"])
        assert row["status"] in states.PRECEDENCE
        assert isinstance(row["verified"], bool) and row["provider"] and row["source"]
        kinds = [k for k in states.KINDS if row.get(k)]
        assert 1 <= row["require"] <= len(kinds), row["id"]
        patterns = [p for k in ("title", "markers", "text") for p in row.get(k) or []]
        patterns += list((row.get("headers") or {}).values())
        assert all(name == name.lower() for name in row.get("headers") or {})
        for p in patterns:  # the input is lower-cased: an upper-case letter would never match
            assert re.sub(r"\\[SWDBAZ]", "", p) == re.sub(r"\\[SWDBAZ]", "", p).lower(), (row["id"], p)
    assert {r["status"] for r in ROWS} == set(states.PRECEDENCE)
    # Russian and international providers of each status
    for status in states.PRECEDENCE:
        rows = [r for r in ROWS if r["status"] == status]
        assert any(re.search("[а-яё]", str(r.get("title")) + str(r.get("text"))) for r in rows), status
        assert len(rows) >= 10


def test_single_signal_rows_are_provider_markup_only():
    """require 1 only where one kind's every pattern is markup a parking lander alone emits."""
    assert sorted(r["id"] for r in ROWS if r["require"] == 1) == ["bodis-parkingcrew-lander", "godaddy-lander-stub"]


def test_every_error_status_of_a_rule_reaches_the_classifier():
    """The home page is read, not failed, with every error status a rule names (STATE_HTTP_CODES)."""
    codes = {c for r in ROWS for c in r.get("http_status") or [] if c >= 400}
    assert codes <= set(states.STATE_HTTP_CODES)


def test_unverified_rows_are_marked_and_said_so():
    unverified = {r["id"] for r in ROWS if not r["verified"]}
    assert len(unverified) == 15  # 14 partly guessed rows, and the OpenResty page from memory
    assert {"servicepipe-challenge", "variti-challenge", "rucenter-parking", "openresty-default"} <= unverified
    match = states.classify(load_fixture("example-servicepipe-challenge.html"))
    assert match.rule == "servicepipe-challenge" and "unverified rule" in match.detail()
    assert "unverified" not in states.classify(load_fixture("example-nginx-default.html")).detail()


def test_every_fixture_is_synthetic_has_a_sidecar_and_is_used():
    files = sorted(p.name for p in STATES.glob("*.html"))
    used = {r["example"] for r in ROWS} | {r["control"] for r in ROWS} | {TABLE["empty"]["example"]}
    used |= {f for f in files if f.startswith("extra-control-")}
    assert set(files) == used
    for name in files:
        head = (STATES / name).read_text(encoding="utf-8").lstrip()[:300]
        assert head.startswith("<!--") and "SYNTHETIC" in head.split("-->")[0], name
        side = json.loads((STATES / f"{name}.json").read_text(encoding="utf-8"))
        assert isinstance(side["status"], int) and side["headers"], name


# -- a test per row ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("row", ROWS, ids=[r["id"] for r in ROWS])
def test_example_fires_its_row_and_status(row):
    parsed = load_fixture(row["example"])
    match = states.classify(parsed)
    assert match is not None and match.status == row["status"], rules_firing(parsed)
    fired = rules_firing(parsed)
    assert row["id"] in fired
    other = [r["id"] for r in ROWS if r["id"] in fired and r["status"] != row["status"]]
    assert not other
    assert len(match.evidence) >= min(r["require"] for r in ROWS if r["id"] == match.rule)
    assert match.provider in match.detail() and match.rule in match.detail()


@pytest.mark.parametrize("row", ROWS, ids=[r["id"] for r in ROWS])
def test_control_fires_nothing_even_without_the_status_gate(row):
    parsed = load_fixture(row["control"])
    assert states.classify(parsed) is None
    assert rules_firing(parsed, ignore_status=True) == []
    assert not states.is_empty(parsed)


def test_one_signal_never_fires_alone():
    """Most controls carry one kind of their own row's signals (a vendor header, a word), and stay ok."""
    near = 0
    for row in ROWS:
        sig = states.signals(load_fixture(row["control"]))
        rule = next(r for r in states.table().rules if r.id == row["id"])
        near += bool(states.match_rule(rule, sig, ignore_status=True, complete=True))
    assert near >= 35


@pytest.mark.parametrize("name", sorted(p.name for p in STATES.glob("extra-control-*.html")))
def test_extra_controls_fire_nothing(name):
    parsed = load_fixture(name)
    assert states.classify(parsed) is None and rules_firing(parsed, ignore_status=True) == []


def test_the_status_gate_matters():
    """A Cloudflare challenge page served with 200 is not what Cloudflare sends: the row needs 403/429/503."""
    path = STATES / "example-cloudflare-challenge.html"
    side = json.loads(path.with_name(path.name + ".json").read_text(encoding="utf-8"))
    assert states.classify(page_of(path.read_text(encoding="utf-8"), 403, side["headers"])).status == "challenge"
    parsed = page_of(path.read_text(encoding="utf-8"), 200, side["headers"])
    assert "cloudflare-challenge" not in rules_firing(parsed)


def test_precedence_challenge_over_parked_over_placeholder():
    html = ("<html><head><title>Just a moment...</title></head><body><h1>Welcome to nginx!</h1>"
            "<p>This domain may be for sale</p><script>window._cf_chl_opt={};</script></body></html>")
    match = states.classify(page_of(html, 403, {"cf-mitigated": "challenge"}))
    assert match.status == "challenge"
    html = ('<html data-adblockkey="MFwwDQ"><head><title>Welcome to nginx</title></head><body>'
            "<h1>Welcome to nginx!</h1><p>Thank you for using nginx.</p></body></html>")
    match = states.classify(page_of(html))
    assert match.status == "parked" and "nginx-default" in match.also


# -- broker redirects ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("row", URL_ROWS, ids=[r["id"] for r in URL_ROWS])
def test_url_rule_example_and_control(row):
    match = states.classify_url(row["example"])
    assert match is not None and match.rule == row["id"] and match.status == "parked"
    assert states.classify_url(row["control"]) is None


def test_url_rules_ignore_scheme_port_and_case():
    assert states.url_key("HTTPS://WWW.HugeDomains.com:443/domain_profile.cfm?d=x") == "www.hugedomains.com/domain_profile.cfm"
    assert states.classify_url("http://forsale.godaddy.com/forsale/x.ru").rule == "broker-godaddy-forsale"
    assert states.classify_url("https://www.godaddy.com/forsale/x.ru").rule == "broker-godaddy-forsale"


# -- empty --------------------------------------------------------------------------------------------------------
def test_the_empty_example_is_empty():
    parsed = load_fixture(TABLE["empty"]["example"])
    assert states.classify(parsed) is None and states.is_empty(parsed) and states.has_scripts(parsed)


@pytest.mark.parametrize("html,empty", [
    ("<html><body></body></html>", True),
    ("<html><head><title>Компания «Ромашка» — сервис</title></head><body> \n </body></html>", True),
    ("<html><body><div id=root></div><noscript>You need to enable JavaScript to run this app.</noscript></body></html>",
     True),
    ("<html><body><p hidden>Our services and prices for every client</p></body></html>", True),
    ("<html><body><p style='display: none'>Our services and prices for every client</p></body></html>", True),
    ("<html><body><a href='#top'>top</a><a href='javascript:void(0)'>x</a></body></html>", True),
    # a language chooser: two links and four letters of text
    ("<html><body><a href='/ru/'>RU</a> <a href='/en/'>EN</a></body></html>", False),
    ("<html><frameset><frame src='main.html'></frameset></html>", False),
    ("<html><body><img src='/splash.jpg' alt=''></body></html>", False),
    ("<html><body><form action='/q'><input name=q></form></body></html>", False),
    ("<html><body><p>ООО «Ромашка», ремонт компьютеров</p></body></html>", False),
])
def test_empty_rule(html, empty):
    assert states.is_empty(page_of(html)) is empty


def test_visible_text_skips_what_a_visitor_cannot_see():
    html = ("<html><head><title>T</title><style>p{}</style></head><body><p>one</p><!-- two --><script>three</script>"
            "<template>four</template><svg><text>five</text></svg><div hidden>six</div><p>seven</p></body></html>")
    assert states.visible_text(page_of(html).tree) == "one seven"


# -- no working company site changes status -------------------------------------------------------------------------
@realsites.skip_unless_available()
def test_no_rule_fires_on_any_real_company_page():
    """Every saved page of every labelled real site (both batches: home, contacts, support pages), decoded as
    the crawler decodes it, with a plain 200, the headers a real site sends and its public URL: no state,
    no row even without the status gate, not empty."""
    from chanaudit.crawler.decoding import decode_html

    domains = _domains()
    sites = sorted(p for p in (realsites.ROOT / "sites").iterdir() if (p / "index.html").exists())
    assert len(sites) == len(domains) >= 35
    checked = 0
    for site in sites:
        domain = domains[site.name]
        for path in sorted(site.rglob("*.htm*")):
            html, _enc, _how = decode_html(path.read_bytes(), "text/html")
            parsed = ParsedPage(Page(f"https://{domain}/", html, 200,
                                     headers={"server": "nginx", "content-type": "text/html"}))
            assert states.classify(parsed) is None, (site.name, path.name, rules_firing(parsed))
            assert rules_firing(parsed, ignore_status=True) == [], (site.name, path.name)
            assert not states.is_empty(parsed), (site.name, path.name)
            checked += 1
        assert states.classify_url(f"https://{domain}/") is None
    assert checked >= 55


def _domains() -> dict[str, str]:
    import csv

    with open(realsites.ROOT / "domains.csv", encoding="utf-8") as fh:
        return {r["slug"]: r["domain"] for r in csv.DictReader(fh)}


def test_no_rule_fires_on_the_demo_markets_working_sites(tmp_path):
    from chanaudit.demo.market import generate_market

    market = generate_market(tmp_path / "m", 320, 2016)
    checked = 0
    for site in market.sites:
        if site["fault"] or site.get("state"):
            continue
        codec = "cp1251" if site["encoding"] == "cp1251" else "utf-8"
        for path in (market.site_dir(site["slug"])).rglob("*.html"):
            parsed = ParsedPage(Page(f"https://{site['domain']}/", path.read_bytes().decode(codec), 200))
            assert states.classify(parsed) is None, (site["slug"], path.name, rules_firing(parsed))
            assert not states.is_empty(parsed), (site["slug"], path.name)
            checked += 1
    assert checked > 1000


def test_the_table_loads_as_plain_yaml():
    """The shipped table is the file the docs describe (no code in it)."""
    data = yaml.safe_load(Path(signatures.FOLDER, "states.yaml").read_text(encoding="utf-8"))
    assert set(data) == {"rules", "url_rules", "empty"}


# -- where a home page ended ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("final,start,public,expected", [
    ("https://www.firm.ru/", "http://firm.ru/", None, ("firm.ru", 0)),  # www and https: the same site
    ("https://shop.firm.co.uk/", "http://firm.co.uk/", None, ("firm.co.uk", 0)),
    ("https://newname.com/", "http://firm.ru/", None, ("newname.com", 1)),  # a new name, or another company
    ("https://b.github.io/", "https://a.github.io/", None, ("b.github.io", 1)),  # a private suffix: two customers
    ("https://www.xn--e1afmkfd.xn--p1ai/", "http://xn--e1afmkfd.xn--p1ai/", None, ("пример.рф", 0)),
    ("http://127.0.0.1:5001/", "http://127.0.0.1:5000/", "https://firm.ru", ("127.0.0.1:5001", 1)),  # local copies
    ("http://127.0.0.1:5000/x", "http://127.0.0.1:5000/", "https://www.firm.ru", ("firm.ru", 0)),
])
def test_final_domain_and_moved(final, start, public, expected):
    from chanaudit.crawler.offsite import where

    assert where(final, start, public) == expected


def test_importing_the_states_compiles_nothing():
    """The table is read and compiled on the first home page, never at import (as every signature table)."""
    import subprocess
    import sys

    code = ("from chanaudit.crawler import signatures, states\n"
            "assert states.table.cache_info().currsize == 0 and signatures.load.cache_info().currsize == 0\n"
            "from chanaudit.crawler.page import Page, ParsedPage\n"
            "states.classify(ParsedPage(Page('https://firm.ru/', '<p>x</p>')))\n"
            "assert states.table.cache_info().currsize == 1\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
