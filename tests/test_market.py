"""The SYNTHETIC demo market: deterministic, calibrated, varied, with honest ground truth."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from crawler.evidence import CHANNELS
from crawler.testing.market import JOINT, TARGETS, generate_market


def digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def market(tmp_path_factory):
    return generate_market(tmp_path_factory.mktemp("m1"), 320, 2016)


def test_deterministic(market, tmp_path):
    again = generate_market(tmp_path, 320, 2016)
    assert digest(market.root) == digest(again.root)
    other = generate_market(tmp_path / "other", 320, 7)
    assert digest(other.root) != digest(market.root)


def test_calibrated_to_the_2016_figures(market):
    truth = market.truth.dropna(subset=["email"])
    n = len(truth)
    for ch in CHANNELS:
        assert abs(truth[ch].mean() - TARGETS[ch]) < 0.015, ch
    size = truth[list(CHANNELS)].sum(axis=1)
    assert abs(((truth.phone == 1) & (truth.email == 1)).mean() - JOINT["phone_and_email"]) < 0.015
    assert abs((size == 4).mean() - JOINT["exactly_4"]) < 0.015
    assert abs((size == 5).mean() - JOINT["all_5"]) < 0.015
    assert 300 <= n < 320  # a few faulty sites


def test_every_healthy_site_has_a_home_page_and_faults_vary(market):
    faults = [s["fault"] for s in market.sites if s["fault"]]
    assert len(set(faults)) >= 5
    for s in market.sites:
        if not s["fault"]:
            assert (market.root / "sites" / s["slug"] / "index.html").exists()


def test_cp1251_sites_declare_and_decode(market):
    cp = [s for s in market.sites if s["encoding"] == "cp1251" and not s["fault"]]
    assert cp
    raw = (market.root / "sites" / cp[0]["slug"] / "index.html").read_bytes()
    assert b'charset="windows-1251"' in raw
    assert "SYNTHETIC" in raw.decode("cp1251")
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")


def test_cloudflare_addresses_round_trip(market):
    import re

    found = 0
    for page in (market.root / "sites").rglob("*.html"):
        for hexed in re.findall(r'data-cfemail="([0-9a-f]+)"', page.read_bytes().decode("utf-8", "ignore")):
            data = bytes.fromhex(hexed)
            address = bytes(b ^ data[0] for b in data[1:]).decode()  # independent decoding: key = first byte
            assert "@" in address and address.endswith((".ru", ".com"))
            found += 1
    assert found > 0


def test_two_click_pages_are_not_linked_from_home(market):
    for s in market.sites[:40]:
        home = market.root / "sites" / s["slug"] / "index.html"
        if home.exists() and not s["fault"]:
            html = home.read_bytes().decode(s["encoding"])
            assert "/team/" not in html
            assert "DeepPage99" not in html


def test_truth_notes_name_the_decoys(market):
    notes = " ".join(market.truth["notes"].fillna(""))
    for decoy in ("search form", "commented-out chat", "ИНН", "WhatsApp", "two clicks deep", "run time only"):
        assert decoy in notes
