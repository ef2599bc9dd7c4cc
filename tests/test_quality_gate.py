"""Detection quality gate: precision/recall per channel on labelled pages.

Real sites: ../shared/realsites, every labelled batch (hand labels); paired fixtures:
tests/fixtures/detectors/**/case.html + case.json (synthetic, ours). The floors live in
tests/gate_floors.json with the corpus hash they were set on; they only go up.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chanaudit.core.contract import CHANNELS, Evidence
from chanaudit.core.contract import site_channels as evidence_channels
from chanaudit.crawler.decoding import decode_html
from chanaudit.crawler.detectors import detect, scriptfiles
from chanaudit.crawler.page import Page, ParsedPage
from tests import quality, realsites

FIXTURES = Path(__file__).parent / "fixtures" / "detectors"


def site_evidence(site: realsites.RealSite) -> list[Evidence]:
    """What the crawler finds on a saved site with ``--render never``: the detectors on every
    saved page (home first), and, while the site shows no chat, the chat rules on the same-site
    script files the crawler would fetch (crawler/spider.py), read from the saved copy (a file
    that was not saved is a 404 to the crawler too)."""
    evidence: list[Evidence] = []
    fetched: set[str] = set()
    limits = scriptfiles.limits()
    for url, path in site.pages():
        html, _encoding, _how = decode_html(path.read_bytes(), None)
        parsed = ParsedPage(Page(url=url, html=html))
        evidence.extend(detect(parsed))
        for script_url in scriptfiles.targets(parsed):
            if any(ev.channel == "chat" for ev in evidence) or len(fetched) >= limits.per_site:
                break
            if script_url in fetched:
                continue
            fetched.add(script_url)
            local = site.local_file(script_url)
            if local is not None and local.stat().st_size <= limits.max_bytes:
                code, _enc, _how = decode_html(local.read_bytes(), "application/javascript; charset=utf-8")
                evidence.extend(scriptfiles.detect(code, url, script_url))
    return evidence


def test_floors_never_fall():
    """Each entry of the floor history keeps or raises every floor of the entry before it."""
    history = quality.load_floors()
    assert history, "tests/gate_floors.json holds no floors"
    for before, after in zip(history, history[1:], strict=False):
        for gate in ("detector", "crawler"):
            for ch in CHANNELS:
                for measure in quality.MEASURES:
                    assert after[gate][ch][measure] >= before[gate][ch][measure], (gate, ch, measure, after["set"])


@realsites.skip_unless_available()
def test_realsites_gate(capsys):
    truth, found = {}, {}
    for site in realsites.load():
        truth[site.slug] = site.labels
        found[site.slug] = evidence_channels(site_evidence(site))
    metrics = quality.score(truth, found)
    corpus = realsites.corpus_hash()
    with capsys.disabled():
        print(f"\n{quality.table(metrics, f'realsites detector gate (site level, {len(truth)} sites)')}\n"
              f"{quality.corpus_note(corpus)}")
    below = quality.below(metrics, "detector")
    assert not below, "\n".join(below + quality.mismatches(truth, found))


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


# --- the corpus loader: every batch, domains from the data, a hash of what was scored ----------
LABELS = "slug,language,email,phone,chat,form,portal,chat_vendor,portal_url,notes\n"


def _corpus(root: Path, batches: dict[str, list[str]], domains: dict[str, str]) -> None:
    for name, slugs in batches.items():
        (root / name).write_text(LABELS + "".join(f"{s},en,1,0,0,1,0,,,\n" for s in slugs), encoding="utf-8")
    (root / "domains.csv").write_text("slug,domain\n" + "".join(f"{s},{d}\n" for s, d in domains.items()),
                                      encoding="utf-8")
    for slug in domains:
        (root / "sites" / slug).mkdir(parents=True, exist_ok=True)
        (root / "sites" / slug / "index.html").write_text(f"<p>{slug}</p>", encoding="utf-8")


def test_every_batch_is_read_with_its_domains(tmp_path, monkeypatch):
    _corpus(tmp_path, {"labels.csv": ["a"], "labels-batch2.csv": ["b"], "labels-batch10.csv": ["c"]},
            {"a": "a.example", "b": "b.example", "c": "c.example"})
    monkeypatch.setattr(realsites, "ROOT", tmp_path)
    sites = realsites.load()
    assert [(s.slug, s.domain, s.batch) for s in sites] == [
        ("a", "a.example", "labels.csv"), ("b", "b.example", "labels-batch2.csv"),
        ("c", "c.example", "labels-batch10.csv")]
    assert sites[0].pages() == [("https://a.example/", tmp_path / "sites" / "a" / "index.html")]
    before = realsites.corpus_hash()
    (tmp_path / "sites" / "b" / "index.html").write_text("<p>changed</p>", encoding="utf-8")
    assert realsites.corpus_hash() != before, "the hash covers the saved pages"


def test_a_site_without_a_domain_or_labelled_twice_is_an_error(tmp_path, monkeypatch):
    monkeypatch.setattr(realsites, "ROOT", tmp_path)
    _corpus(tmp_path, {"labels.csv": ["a", "b"]}, {"a": "a.example"})
    with pytest.raises(ValueError, match=r"labels.csv, line 3: site b has no row in domains.csv"):
        realsites.load()
    _corpus(tmp_path, {"labels.csv": ["a"], "labels-batch2.csv": ["a"]}, {"a": "a.example"})
    with pytest.raises(ValueError, match=r"labels-batch2.csv, line 2: site a is already labelled in labels.csv"):
        realsites.load()


def test_local_file_stays_inside_the_site(tmp_path, monkeypatch):
    monkeypatch.setattr(realsites, "ROOT", tmp_path)
    _corpus(tmp_path, {"labels.csv": ["a"]}, {"a": "a.example"})
    (tmp_path / "sites" / "a" / "js").mkdir()
    (tmp_path / "sites" / "a" / "js" / "chat.js").write_text("x", encoding="utf-8")
    site = realsites.load()[0]
    assert site.local_file("https://a.example/js/chat.js?v=2") == (tmp_path / "sites" / "a" / "js" / "chat.js").resolve()
    assert site.local_file("https://a.example/../a/labels.csv") is None
    assert site.local_file("https://other.example/js/chat.js") is None


def test_wilson_bounds_and_floors():
    metrics = quality.score({"s1": dict.fromkeys(CHANNELS, 1), "s2": dict.fromkeys(CHANNELS, 0)},
                            {"s1": dict.fromkeys(CHANNELS, 1), "s2": {**dict.fromkeys(CHANNELS, 0), "chat": 1}})
    chat = metrics["chat"]
    assert (chat["tp"], chat["fp"], chat["fn"], chat["precision"], chat["recall"]) == (1, 1, 0, 0.5, 1.0)
    assert chat["precision_low"] == pytest.approx(0.0945, abs=1e-4)  # R: binom::binom.wilson(1, 2)$lower
    assert chat["recall_low"] == pytest.approx(0.2065, abs=1e-4)  # R: binom::binom.wilson(1, 1)$lower
    assert quality.below(metrics, "detector") == ["chat precision 0.500 < floor 0.950", "chat f1 0.667 < floor 0.950"]
