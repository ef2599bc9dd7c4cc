"""One company against the market, on the demo market (SYNTHETIC websites served on 127.0.0.1 and audited by
the real crawler): percentile, peers' shares, local peers, the table and the one-page chart; and the
prospects of the same crawl, whose ИНН/ОГРН come from the pages' requisites."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from typer.testing import CliRunner

from chanaudit.analysis.benchmark import BenchmarkError, benchmark, percentile
from chanaudit.cli import app
from chanaudit.core.contract import CHANNELS
from chanaudit.core.folder import AuditFolder
from chanaudit.core.tables import read_csv
from chanaudit.crawler.detectors.identity import valid_inn, valid_ogrn
from chanaudit.scoring.rank import score_sites
from chanaudit.scoring.weights import default_weights

N_SITES, SEED = 60, 2016


@pytest.fixture(scope="module")
def demo_audit(tmp_path_factory):
    from chanaudit import scoring
    from chanaudit.crawler.config import AuditConfig
    from chanaudit.crawler.runner import run_audit
    from chanaudit.demo.market import generate_market
    from chanaudit.demo.run import serve_market
    from chanaudit.demo.server import SiteServer

    root = tmp_path_factory.mktemp("demo")
    market = generate_market(root / "market", n_sites=N_SITES, seed=SEED)
    companies = pd.read_csv(market.companies_csv, encoding="utf-8", dtype=str, keep_default_na=False)
    config = AuditConfig(render="never", allow_private=True, delay=0, timeout=3, retries=0, concurrency=16)
    with SiteServer(serve_market(market), hang_seconds=5) as server:
        frame = companies.copy()
        frame.insert(0, "url", frame["slug"].map({s.name: s.url for s in server.sites.values()}))
        sites_csv = AuditFolder(root / "input").write(AuditFolder.SITES, frame)
        run_audit(sites_csv, root / "audit", config, scorer=scoring.site_scorer())
    return AuditFolder(root / "audit"), market


def test_benchmark_against_the_demo_market(demo_audit):
    from chanaudit.demo.run import benchmark_domain

    audit, _ = demo_audit
    sites = audit.read_sites()
    scored = score_sites(sites, default_weights())
    domain = benchmark_domain(scored)
    result = benchmark(scored, domain, audit.read(AuditFolder.EVIDENCE))
    ok = scored[scored["status"] == "ok"]
    me = ok[ok["domain"] == domain].iloc[0]
    peers = ok[ok["domain"] != domain]
    s = result.summary
    # the demo's pick: a company of the largest city, in the middle of the market
    assert me["city"] == ok["city"].value_counts().index[0]
    assert 25 <= s["percentile"] <= 75
    # percentile by hand: peers below, ties counted half
    below, tied = int((peers["score"] < me["score"] - 1e-9).sum()), int((abs(peers["score"] - me["score"]) < 1e-9).sum())
    assert s["percentile"] == pytest.approx(100 * (below + tied / 2) / len(peers))
    assert (s["n"], s["peers"], s["rank"]) == (len(ok), len(ok) - 1, int(me["rank"]))
    table = result.table.set_index("metric")
    for ch in CHANNELS:
        assert table.loc[ch, "company"] == me[ch]
        assert table.loc[ch, "market_k"] == peers[ch].sum() and table.loc[ch, "market_n"] == len(peers)
        assert table.loc[ch, "market_ci_low"] <= table.loc[ch, "market"] <= table.loc[ch, "market_ci_high"]
    local = peers[peers["city"] == me["city"]]
    assert s["local_by"] == "city" and s["local"] == me["city"] and s["local_peers"] == len(local)
    assert table.loc["portal", "local_k"] == local["portal"].sum()
    assert table.loc["score", "market"] == pytest.approx(peers["score"].mean())


def test_benchmark_command_writes_table_and_chart(demo_audit, tmp_path):
    audit, _ = demo_audit
    domain = str(audit.read_sites().query("status == 'ok'").iloc[0]["domain"])
    res = CliRunner().invoke(app, ["benchmark", f"https://www.{domain}/contacts", "--against", str(audit),
                                   "--out", str(tmp_path), "--lang", "en"])
    assert res.exit_code == 0, res.output
    assert "percentile" in res.output and "Client portal" in res.output
    table = read_csv(tmp_path / f"benchmark-{domain}.csv")
    assert table["metric"].tolist() == [*CHANNELS, "channels", "score"]
    charts = sorted(p.name for p in tmp_path.glob(f"benchmark-{domain}-en.*"))
    assert charts == [f"benchmark-{domain}-en.{x}" for x in ("pdf", "png", "svg")]
    assert all((tmp_path / c).stat().st_size > 5000 for c in charts)


def test_benchmark_errors(demo_audit):
    audit, _ = demo_audit
    scored = score_sites(audit.read_sites(), default_weights())
    some = str(scored.query("status == 'ok'").iloc[0]["domain"])
    with pytest.raises(BenchmarkError, match=f"did you mean {some}"):
        benchmark(scored, some.replace(".", "x.", 1))
    failed = scored[scored["status"] != "ok"]
    if len(failed):
        with pytest.raises(BenchmarkError, match="was not audited"):
            benchmark(scored, str(failed.iloc[0]["domain"]))
    res = CliRunner().invoke(app, ["benchmark", "nowhere-at-all.example", "--against", str(audit)])
    assert res.exit_code == 2 and "error: nowhere-at-all.example: no site with this domain" in res.output


def test_percentile_by_hand():
    peers = pd.Series([0.1, 0.2, 0.2, 0.5])
    assert percentile(0.2, peers) == pytest.approx(100 * (1 + 2 / 2) / 4)  # 50
    assert percentile(1.0, peers) == 100 and percentile(0.0, peers) == 0
    assert math.isnan(percentile(0.3, pd.Series(dtype=float)))


def test_prospects_of_the_demo_market_carry_the_requisites(demo_audit):
    from chanaudit.reports.prospects import write_prospects

    audit, market = demo_audit
    table = write_prospects(audit, lang="ru").table.set_index("domain")
    truth = market.truth.set_index("slug")
    sites = audit.read_sites().set_index("slug")
    with_requisites = [slug for slug in truth.index if "decoy requisites" in str(truth.loc[slug, "notes"])
                       and sites.loc[slug, "status"] == "ok" and sites.loc[slug, "language"] == "ru"]
    assert len(with_requisites) >= 5
    for slug in with_requisites:  # every Russian site showing requisites gives its ИНН, check digits valid
        inn = table.loc[sites.loc[slug, "domain"], "inn"]
        assert inn and all(valid_inn(v) for v in inn.split("; ")), slug
    ogrn = [v for cell in table["ogrn"] if cell for v in cell.split("; ")]
    assert ogrn and all(valid_ogrn(v) for v in ogrn)
    assert table["company"].astype(bool).all()  # the input's names
    ru = table[table["phones"].str.startswith("+7")]
    assert ru["region"].astype(bool).mean() > 0.5  # most Russian landlines name their region
