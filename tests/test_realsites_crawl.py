"""End to end: ../shared/realsites (every labelled batch) served on 127.0.0.1, audited by the real
crawler, scored against the hand labels with the floors of tests/gate_floors.json ("crawler")."""

from __future__ import annotations

import pytest

from chanaudit.core.contract import CHANNELS
from chanaudit.core.tables import read_csv
from chanaudit.crawler.config import AuditConfig
from chanaudit.crawler.detectors import scriptfiles
from chanaudit.crawler.runner import run_audit
from chanaudit.demo.server import Site, SiteServer
from tests import quality, realsites
from tests.conftest import requires_chromium, write_sites_csv

pytestmark = [pytest.mark.slow, realsites.skip_unless_available()]


def test_realsites_through_the_crawler(tmp_path, capsys):
    sites = realsites.load()
    served = [Site(s.slug, root=s.directory) for s in sites]
    with SiteServer(served) as server:
        # each saved copy is audited as its public domain (same-site and region rules)
        rows = [{"url": server.url(s.slug), "domain": s.domain, "slug": s.slug, "language": s.language}
                for s in sites]
        csv_path = write_sites_csv(tmp_path / "realsites.csv", rows)
        run_audit(csv_path, tmp_path / "out", AuditConfig(render="never", allow_private=True, delay=0, timeout=10))
    frame = read_csv(tmp_path / "out" / "sites.csv")
    assert (frame["status"] == "ok").all(), frame[frame["status"] != "ok"][["slug", "status_detail"]]
    truth = {s.slug: s.labels for s in sites}
    found = {r["slug"]: {ch: int(r[ch]) for ch in CHANNELS} for _, r in frame.iterrows()}
    metrics = quality.score(truth, found)
    pages = read_csv(tmp_path / "out" / "pages.csv")
    scripts = pages[pages["role"] == "script"]
    with capsys.disabled():
        print(f"\n{quality.table(metrics, f'realsites through the crawler (site level, {len(truth)} sites)')}\n"
              f"{quality.corpus_note(realsites.corpus_hash())}\n"
              f"same-site script files read: {len(scripts)}, {int(scripts['bytes'].sum())} bytes")
    below = quality.below(metrics, "crawler")
    assert not below, "\n".join(below + quality.mismatches(truth, found))
    assert set(pages["role"]) <= {"home", "contacts", "support", "script"}
    # script files are bounded per site and in bytes, and never counted as pages
    limits = scriptfiles.limits()
    per_site = scripts.groupby("site_id").size()
    assert per_site.empty or per_site.max() <= limits.per_site
    assert (scripts["bytes"].fillna(0) <= limits.max_bytes).all()
    fetched = pages[(pages["role"] != "script") & (pages["rendered"] == 0) & pages["error"].isna()]
    assert frame.set_index("site_id")["pages"].sum() == len(fetched)
    # the loader kept in a same-site file (bams: /js/livechat.js) is read, and its evidence is the home page's
    evidence = read_csv(tmp_path / "out" / "evidence.csv")
    bams = frame[frame["slug"] == "en-bams-website-builder"].iloc[0]
    via_file = evidence[(evidence["site_id"] == bams["site_id"]) & (evidence["method"] == "script_file")]
    assert list(via_file["value"]) == ["livechat"] and list(via_file["page_role"]) == ["home"]
    assert "/js/livechat.js" in via_file["detail"].iloc[0]
    # the one-click rule on a site whose channels are all one click away (tom-knows-tech)
    tkt = frame[frame["slug"] == "en-tom-knows-tech"].iloc[0]
    assert tkt["email"] == 1 and tkt["form"] == 1


@pytest.mark.browser
@requires_chromium
def test_realsites_rendered_through_the_crawler(tmp_path, capsys):
    """The same sites with --render auto: the rendered pages' rules (attempted requests, corners by
    computed style) held to the same floors. Third-party scripts off: the saved pages name real hosts,
    and no test asks them (benchmarks/gate_render.py measures them on, offline)."""
    sites = realsites.load()
    with SiteServer([Site(s.slug, root=s.directory) for s in sites]) as server:
        rows = [{"url": server.url(s.slug), "domain": s.domain, "slug": s.slug} for s in sites]
        result = run_audit(write_sites_csv(tmp_path / "realsites.csv", rows), tmp_path / "out", AuditConfig(
            render="auto", third_party_scripts=False, allow_private=True, delay=0, timeout=10))
    frame = read_csv(tmp_path / "out" / "sites.csv")
    assert (frame["status"] == "ok").all(), frame[frame["status"] != "ok"][["slug", "status_detail"]]
    assert result.manifest["pages_rendered"] >= 10 and result.manifest["rendering"]["render_errors"] == 0
    truth = {s.slug: s.labels for s in sites}
    found = {r["slug"]: {ch: int(r[ch]) for ch in CHANNELS} for _, r in frame.iterrows()}
    metrics = quality.score(truth, found)
    pages = read_csv(tmp_path / "out" / "pages.csv")
    rendered = pages[pages["rendered"] == 1]
    assert (rendered["requests"] >= 0).all() and rendered["requests"].max() > 0  # every rendered page counted
    title = f"realsites through the crawler, --render auto ({len(truth)} sites, {len(rendered)} pages rendered)"
    with capsys.disabled():
        print(f"\n{quality.table(metrics, title)}")
    below = quality.below(metrics, "crawler")
    assert not below, "\n".join(below + quality.mismatches(truth, found))
