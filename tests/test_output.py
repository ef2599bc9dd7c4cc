"""Writing the audit contract from journal records (crawler/output.py), without a crawl:
the records are synthetic, as the spider would have journalled them."""

from __future__ import annotations

from functools import partial

import pytest

from chanaudit.core.contract import SITE_COLUMNS
from chanaudit.core.tables import read_csv
from chanaudit.crawler.output import base_manifest, write_outputs
from chanaudit.crawler.sites import read_sites
from chanaudit.scoring.rank import score_flags
from chanaudit.scoring.weights import default_weights


def record(site_id: int, url: str, status: str = "ok", **flags) -> dict:
    ok = status == "ok"
    channels = {ch: flags.get(ch, 0) if ok else None for ch in ("email", "phone", "chat", "form", "portal")}
    row = {"site_id": site_id, "input": url, "url": url, "final_url": url if ok else "", "status": status,
           "status_detail": "" if ok else "HTTP 500", "http_status": 200 if ok else 500, "pages": 1,
           "rendered": 0, **channels, "channels": sum(channels.values()) if ok else None}
    return {"row": row, "evidence": [], "pages": []}


@pytest.fixture
def audit(tmp_path, sites_csv):
    path = sites_csv([{"url": "https://a.ru", "name": "A"}, {"url": "https://b.ru", "name": "B"},
                      {"url": "https://c.ru", "name": "C"}])
    site_list = read_sites(path)
    records = {1: record(1, "https://a.ru/", email=1, phone=1, portal=1), 2: record(2, "https://b.ru/", "http_error")}

    def write(scorer=None, records=records):
        out = tmp_path / "out"
        out.mkdir(exist_ok=True)
        manifest = write_outputs(site_list, records, out, base_manifest(site_list, {}), scorer=scorer)
        return read_csv(out / "sites.csv"), manifest

    return write


def test_the_scorer_fills_the_score_of_ok_sites(audit):
    frame, _ = audit(scorer=partial(score_flags, weights=default_weights()))
    assert list(frame.columns[: len(SITE_COLUMNS)]) == list(SITE_COLUMNS)
    assert frame.loc[0, "score"] == pytest.approx(0.6)  # hand: email .1 + phone .1 + portal .4
    assert frame["score"].iloc[1:].isna().all()  # an http_error row and a site never crawled
    assert list(frame["status"]) == ["ok", "http_error", "error"]


def test_without_a_scorer_the_score_column_stays_and_is_empty(audit):
    frame, _ = audit()
    assert "score" in frame.columns and frame["score"].isna().all()
    assert frame.loc[0, "channels"] == 3


def test_a_score_left_in_an_old_journal_is_never_passed_on(audit):
    """Journals written before the crawl stopped scoring hold a score: the scorer's replaces it,
    and without a scorer it is dropped, so a column never mixes two weightings."""
    old = record(1, "https://a.ru/", email=1)
    old["row"]["score"] = 0.99
    frame, _ = audit(records={1: old})
    assert frame["score"].isna().all()
    frame, _ = audit(scorer=lambda flags: 0.5, records={1: old})
    assert frame.loc[0, "score"] == 0.5
