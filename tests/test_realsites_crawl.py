"""End to end: ../shared/realsites served on 127.0.0.1, audited by the real crawler,
scored against the hand labels with the same floors as the detector gate."""

from __future__ import annotations

import pytest

from chanaudit.core.contract import CHANNELS
from chanaudit.core.tables import read_csv
from chanaudit.crawler.config import AuditConfig
from chanaudit.crawler.runner import run_audit
from chanaudit.demo.server import Site, SiteServer
from tests import quality, realsites
from tests.conftest import write_sites_csv
from tests.test_quality_gate import REALSITE_FLOORS

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
    with capsys.disabled():
        print("\n" + quality.table(metrics, "realsites through the crawler (site level)"))
    below = [ch for ch, m in metrics.items()
             if m["precision"] < REALSITE_FLOORS[ch] or m["recall"] < REALSITE_FLOORS[ch]]
    assert not below, "\n".join(quality.mismatches(truth, found))
    pages = read_csv(tmp_path / "out" / "pages.csv")
    assert set(pages["role"]) <= {"home", "contacts", "support"}
    # the one-click rule on a site whose channels are all one click away (tom-knows-tech)
    tkt = frame[frame["slug"] == "en-tom-knows-tech"].iloc[0]
    assert tkt["email"] == 1 and tkt["form"] == 1
