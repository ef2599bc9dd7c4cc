"""Detection quality gate: precision/recall per channel on labelled pages.

Floors only go up. Real sites: ../shared/realsites (hand labels); paired
fixtures: tests/fixtures/detectors/**/case.html + case.json (synthetic, ours).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chanaudit.core.contract import CHANNELS
from chanaudit.core.contract import site_channels as evidence_channels
from chanaudit.crawler.detectors import detect
from chanaudit.crawler.page import Page
from tests import quality, realsites

REALSITE_FLOORS = {ch: 0.95 for ch in CHANNELS}
FIXTURES = Path(__file__).parent / "fixtures" / "detectors"


def site_channels(pages: list[tuple[str, str]]) -> dict[str, int]:
    evidence = [ev for url, html in pages for ev in detect(Page(url=url, html=html))]
    return evidence_channels(evidence)


@realsites.skip_unless_available()
def test_realsites_gate(capsys):
    truth, found = {}, {}
    for site in realsites.load():
        truth[site.slug] = site.labels
        found[site.slug] = site_channels(
            [(url, path.read_bytes().decode("utf-8", "replace")) for url, path in site.pages()]
        )
    metrics = quality.score(truth, found)
    with capsys.disabled():
        print("\n" + quality.table(metrics, "realsites detector gate (site level)"))
    below = {ch: m for ch, m in metrics.items()
             if m["precision"] < REALSITE_FLOORS[ch] or m["recall"] < REALSITE_FLOORS[ch]}
    assert not below, "\n".join(quality.mismatches(truth, found))


def fixture_cases() -> list[Path]:
    return sorted(FIXTURES.rglob("*.json"))


@pytest.mark.parametrize("case", fixture_cases(), ids=lambda p: str(p.relative_to(FIXTURES)))
def test_paired_fixture(case: Path):
    """case.json: {"url": ..., "expect": {channel: [values...]}}; listed channels must match exactly."""
    spec = json.loads(case.read_text(encoding="utf-8"))
    html = case.with_suffix(".html").read_bytes().decode(spec.get("encoding", "utf-8"))
    evidence = detect(Page(url=spec.get("url", "https://example.ru/"), html=html, region=spec.get("region")))
    for channel, expected in spec["expect"].items():
        got = sorted({ev.value for ev in evidence if ev.channel == channel})
        assert got == sorted(set(expected)), f"{case.name} {channel}: {got} != {expected}"
