"""Whole crawls against local servers (127.0.0.1, port 0): statuses, scope, contract.

Each crawl runs in a child process, as in production (crawler.runner).
"""

from __future__ import annotations

import json
from functools import partial

import pytest

from chanaudit.core.tables import read_csv
from chanaudit.crawler.config import AuditConfig
from chanaudit.crawler.runner import run_audit
from chanaudit.demo.server import Site, SiteServer
from chanaudit.scoring.rank import score_flags
from chanaudit.scoring.weights import default_weights
from tests.conftest import FIXTURES, write_sites_csv

pytestmark = pytest.mark.slow

BASIC = FIXTURES / "sites" / "basic"
CP1251_PAGE = (
    "<html><head><title>Компания</title></head><body><p>Телефон: +7 (812) 555-12-34</p>"
    "<p>Почта: <a href='mailto:office@kompaniya.ru'>office@kompaniya.ru</a></p></body></html>"
)


def fast_config(**kw) -> AuditConfig:
    base = dict(render="never", allow_private=True, delay=0, timeout=3, retries=0, concurrency=16)
    base.update(kw)
    return AuditConfig(**base)


@pytest.fixture(scope="module")
def fault_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("faults")
    sites = [
        Site("basic", root=BASIC),
        Site("timeout", fault="timeout"),
        Site("reset", fault="reset"),
        Site("http500", fault="http_500"),
        Site("http404", fault="http_404"),
        Site("loop", fault="redirect_loop"),
        Site("bomb", fault="gzip_bomb"),
        Site("huge", fault="huge"),
        Site("binary", fault="binary"),
        Site("robots", root=BASIC, fault="robots_deny"),
        Site("refused", fault="refused"),
        Site("dns", fault="dns"),
        Site("tls", fault="tls"),
        Site("cp1251", routes={"/": ("text/html", CP1251_PAGE.encode("cp1251"))}),
        Site("koi8", routes={"/": ("text/html; charset=koi8-r", CP1251_PAGE.encode("koi8-r"))}),
    ]
    with SiteServer(sites, hang_seconds=30) as server:
        rows = [{"site": server.url(s.name), "name": s.name, "city": "Москва"} for s in sites]
        rows.insert(3, {"site": "not a url", "name": "bad", "city": ""})
        csv_path = write_sites_csv(tmp / "in.csv", rows)
        result = run_audit(csv_path, tmp / "out", fast_config(max_bytes=2 * 1024 * 1024),
                           scorer=partial(score_flags, weights=default_weights()))
        fetched = list(server.log)
    return result, read_csv(tmp / "out" / "sites.csv"), tmp / "out", fetched


def row(frame, name):
    return frame[frame["name"] == name].iloc[0]


@pytest.mark.parametrize("name,status", [
    ("basic", "ok"), ("timeout", "timeout"), ("reset", "connect_error"), ("http500", "http_error"),
    ("http404", "http_error"), ("loop", "http_error"), ("bomb", "too_large"), ("huge", "too_large"),
    ("binary", "not_html"), ("robots", "robots_blocked"), ("refused", "connect_error"),
    ("dns", "dns_error"), ("tls", "tls_error"), ("cp1251", "ok"), ("koi8", "ok"), ("bad", "invalid_input"),
])
def test_status_per_fault(fault_run, name, status):
    _, frame, _, _ = fault_run
    got = row(frame, name)
    assert got["status"] == status, got["status_detail"]


def test_one_row_per_input_row_in_order(fault_run):
    result, frame, out, _ = fault_run
    assert list(frame["site_id"]) == list(range(1, 17))
    assert list(frame["name"])[:4] == ["basic", "timeout", "reset", "bad"]
    assert result.manifest["sites"] == 16 and sum(result.manifest["counts"].values()) == 16
    assert row(frame, "http500")["http_status"] == 500
    assert "in.csv:5" in row(frame, "bad")["status_detail"]  # file and line of the bad cell


def test_channels_empty_unless_ok(fault_run):
    _, frame, _, _ = fault_run
    failed = frame[frame["status"] != "ok"]
    assert failed[["email", "phone", "chat", "form", "portal", "score"]].isna().all().all()


def test_one_click_scope(fault_run):
    """basic: phone on home, email+form on contacts, portal in support; chat only on
    out-of-scope pages (about, blog); boss@ only two clicks deep."""
    _, frame, out, fetched = fault_run
    basic = row(frame, "basic")
    assert (basic["email"], basic["phone"], basic["form"], basic["portal"], basic["chat"]) == (1, 1, 1, 1, 0)
    assert basic["channels"] == 4 and basic["score"] == pytest.approx(0.8)  # hand: .1+.1+.2+.4
    paths = {p for site, p in fetched if site == "basic"}
    assert {"/", "/kontakty/", "/podderzhka/"} <= paths
    assert not paths & {"/about/", "/about/team/", "/blog/post.html"}
    evidence = read_csv(out / "evidence.csv")
    values = set(evidence[evidence["site_id"] == basic["site_id"]]["value"])
    assert "boss@test-service.ru" not in values
    roles = set(evidence[evidence["site_id"] == basic["site_id"]]["page_role"])
    assert roles == {"home", "contacts", "support"}


def test_every_flag_has_evidence(fault_run):
    _, frame, out, _ = fault_run
    evidence = read_csv(out / "evidence.csv")
    for _, site in frame[frame["status"] == "ok"].iterrows():
        found = evidence[(evidence["site_id"] == site["site_id"]) & (evidence["counted"])]
        for ch in ("email", "phone", "chat", "form", "portal"):
            assert bool(site[ch]) == (ch in set(found["channel"])), (site["name"], ch)


def test_charsets_decoded(fault_run):
    _, frame, out, _ = fault_run
    evidence = read_csv(out / "evidence.csv")
    for name in ("cp1251", "koi8"):
        site = row(frame, name)
        assert (site["email"], site["phone"]) == (1, 1)
        found = evidence[evidence["site_id"] == site["site_id"]]
        assert "+78125551234" in set(found["value"])
        assert "office@kompaniya.ru" in set(found["value"])


def test_pages_and_manifest(fault_run):
    result, frame, out, _ = fault_run
    pages = read_csv(out / "pages.csv")
    assert set(pages.columns) >= {"site_id", "url", "role", "depth", "http_status", "bytes", "content_type",
                                  "rendered", "elapsed_ms", "error"}
    assert set(pages["depth"]) <= {0, 1}
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["input"]["rows"] == 16 and len(manifest["input"]["sha256"]) == 64
    assert manifest["counts"]["ok"] == 3 and manifest["state"] == "complete"


def test_private_address_refused_by_default(tmp_path):
    with SiteServer([Site("basic", root=BASIC)]) as server:
        csv_path = write_sites_csv(tmp_path / "in.csv", [{"url": server.url("basic")}])
        run_audit(csv_path, tmp_path / "out", fast_config(allow_private=False))
        served = server.requests
    frame = read_csv(tmp_path / "out" / "sites.csv")
    assert frame.loc[0, "status"] == "blocked_address"
    assert "--allow-private" in frame.loc[0, "status_detail"]
    assert served == 0  # not even robots.txt was asked for


def test_refuses_to_overwrite_a_run(tmp_path):
    from chanaudit.crawler.runner import AuditError

    with SiteServer([Site("basic", root=BASIC)]) as server:
        csv_path = write_sites_csv(tmp_path / "in.csv", [{"url": server.url("basic")}])
        run_audit(csv_path, tmp_path / "out", fast_config())
        with pytest.raises(AuditError, match="--resume"):
            run_audit(csv_path, tmp_path / "out", fast_config())
