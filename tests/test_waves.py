"""The SYNTHETIC demo market's second wave ("2026"): the same companies with known change.

The generator's bookkeeping (transitions.csv) is checked against an independent recount from the two
waves' truth.csv and market.json, and wave 2's truth against the same independent labeller as wave 1's
(tests/test_market.py): every 1 visible on the one-click pages, every 0 absent.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

from chanaudit.core.contract import CHANNELS
from chanaudit.demo.market import (
    MARKER,
    generate_market,
    load_vocabulary,
    plan_market,
    state_serving,
)
from chanaudit.demo.waves import TRANSITIONS, generate_second_wave, seen_truth
from tests.test_market import assert_truth_seen, digest

N, SEED = 320, 2016
SPEC = load_vocabulary()["waves"]


@pytest.fixture(scope="module")
def waves(tmp_path_factory):
    root = tmp_path_factory.mktemp("waves")
    return generate_market(root / "2016", N, SEED), generate_second_wave(root / "2026", N, SEED)


def read_truth(market) -> pd.DataFrame:
    return pd.read_csv(market.truth_csv, encoding="utf-8", keep_default_na=False, na_values=[""]).set_index("slug")


def test_same_companies_same_bytes_and_wave_1_untouched(waves, tmp_path):
    first, second = waves
    assert second.companies_csv.read_bytes() == first.companies_csv.read_bytes()  # the 2016 list, audited again
    again = generate_second_wave(tmp_path / "again", N, SEED)
    assert digest(again.root) == digest(second.root)
    assert digest(generate_market(tmp_path / "w1", N, SEED).root) == digest(first.root)
    meta = json.loads((second.root / "market.json").read_text(encoding="utf-8"))
    assert meta["synthetic"] is True and meta["wave"] == 2 and meta["year"] == 2026 and len(meta["sites"]) == N
    for entry in [*meta["sites"], *meta["new_domains"]]:
        index = second.root / "sites" / entry["slug"] / "index.html"
        if index.exists() and entry.get("layout"):
            assert MARKER in index.read_text(encoding=("cp1251" if entry["encoding"] == "cp1251" else "utf-8"))


def test_failures_and_states_of_2016_stay_as_they_were(waves):
    first, second = waves
    for a, b in zip(first.sites, second.sites, strict=True):
        assert (a["slug"], a["domain"], a["name"], a["city"]) == (b["slug"], b["domain"], b["name"], b["city"])
        if a["fault"]:
            assert b["fault"] == a["fault"] and b["state"] is None
        elif a["state"]:
            assert b["state"] == a["state"] and b.get("moved_to") == a.get("moved_to")
            assert b.get("reply") == a.get("reply")  # the same provider's page


def test_closures_and_moves_are_dealt_from_the_working_sites(waves):
    first, second = waves
    healthy = [i for i, s in enumerate(first.sites) if not s["fault"] and not s["state"]]
    changed = {i: second.sites[i]["state"] for i in healthy if second.sites[i]["state"]}
    counts = pd.Series(changed).value_counts().to_dict()
    expected = {state: round(share * len(healthy)) for state, share in SPEC["closures"].items()}
    expected["moved"] = round(SPEC["moved"] * len(healthy))
    assert counts == {k: v for k, v in expected.items() if v} and all(expected.values())
    truth = read_truth(second)
    extra = {e["slug"]: e for e in second.extra_sites}
    for i, state in changed.items():
        site, row = second.sites[i], truth.loc[second.sites[i]["slug"]]
        if state == "moved":  # the company's new site, another domain, served under its own name
            new = extra[site["moved_to"]]
            assert new["company"] == site["slug"] and new["domain"] == site["new_domain"] != site["domain"]
            assert state_serving(site, None) == {"redirect_to": new["slug"]}
            assert row[list(CHANNELS)].notna().all() and f"moved to a new domain {new['domain']}" in row["notes"]
            if row["email"]:
                assert all(e.endswith("@" + new["domain"]) for e in new["values"]["email"])
            assert_truth_seen(second, new, row)
        else:
            assert row[list(CHANNELS)].isna().all() and row["notes"].endswith("closed by 2026")
            assert site["reply"]["variant"] in {v["id"] for v in load_vocabulary()["states"][state]}
    assert len(extra) == expected["moved"]


def test_the_truth_of_2026_is_what_the_pages_show(waves):
    _, second = waves
    truth = read_truth(second)
    working = [s for s in second.sites if not s["fault"] and not s["state"]]
    assert len(working) > 250
    for s in working:
        assert_truth_seen(second, s, truth.loc[s["slug"]])


def test_transitions_are_the_quotas_of_waves_yaml(waves):
    first, second = waves
    table = pd.read_csv(second.root / TRANSITIONS).set_index("channel")
    plan = plan_market(N, SEED)
    before, after = read_truth(first), read_truth(second)
    continuing = [s["slug"] for i, s in enumerate(second.sites)
                  if i in plan.profiles and (not s["state"] or s["state"] == "moved")]
    for ch in CHANNELS:
        b, a = before.loc[continuing, ch].astype(int), after.loc[continuing, ch].astype(int)
        row = table.loc[ch]
        assert (row["adoption"], row["drop"]) == (SPEC["transitions"][ch]["adoption"], SPEC["transitions"][ch]["drop"])
        assert row["eligible_adopt"] == (b == 0).sum() and row["eligible_drop"] == (b == 1).sum()
        assert row["dealt_adopted"] == ((b == 0) & (a == 1)).sum() == round(row["adoption"] * row["eligible_adopt"])
        assert row["dealt_dropped"] == ((b == 1) & (a == 0)).sum() == round(row["drop"] * row["eligible_drop"])
    # the change the demo's audits should find: chat and portal up, email and phone nearly still
    assert table.loc["chat", "diff"] > 0.1 and table.loc["portal", "diff"] > 0.08
    assert abs(table.loc["email", "diff"]) < 0.03 and abs(table.loc["phone", "diff"]) < 0.03


def test_transitions_count_the_pairs_an_audit_can_form(waves):
    """A site redirecting to another company is audited there: recounted here from the files alone, following
    market.json's moved_to to the truth row of the site the redirect leads to."""
    first, second = waves
    table = pd.read_csv(second.root / TRANSITIONS).set_index("channel")

    def seen(market):
        truth = read_truth(market)
        out = truth[list(CHANNELS)].copy()
        for s in market.sites:
            target = s.get("moved_to")
            while s["state"] == "moved" and out.loc[s["slug"]].isna().all() and target in truth.index:
                out.loc[s["slug"]] = truth.loc[target, list(CHANNELS)]
                target = next((t.get("moved_to") for t in market.sites if t["slug"] == target), None)
        return out

    b, a = seen(first), seen(second)
    pairs = b.dropna().index.intersection(a.dropna().index)
    pd.testing.assert_frame_equal(seen_truth(second).astype(float), a.astype(float))
    assert len(pairs) == table["n_pairs"].iloc[0]
    redirected = [s["slug"] for s in first.sites if s["state"] == "moved"]
    assert set(redirected) <= set(pairs)  # they count: the crawler audits the target site
    for ch in CHANNELS:
        x, y = b.loc[pairs, ch].astype(int), a.loc[pairs, ch].astype(int)
        assert table.loc[ch, "adopted"] == ((x == 0) & (y == 1)).sum()
        assert table.loc[ch, "dropped"] == ((x == 1) & (y == 0)).sum()
        assert table.loc[ch, "before"] == pytest.approx(x.mean()) and table.loc[ch, "after"] == pytest.approx(y.mean())


def test_a_spec_of_no_change_changes_nothing(tmp_path):
    still = {**SPEC, "transitions": {ch: {"adoption": 0, "drop": 0} for ch in CHANNELS},
             "closures": {"parked": 0}, "moved": 0}
    first, second = generate_market(tmp_path / "a", 60, 5), generate_second_wave(tmp_path / "b", 60, 5, spec=still)
    assert read_truth(first)[list(CHANNELS)].equals(read_truth(second)[list(CHANNELS)])
    table = second.transitions
    assert (table[["adopted", "dropped", "diff"]] == 0).all().all() and not second.extra_sites
