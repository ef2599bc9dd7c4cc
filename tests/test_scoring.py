"""Scoring: weights, scores, ties, winners, sensitivity (expected values by hand)."""

from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

from chanaudit.cli import app
from chanaudit.core.tables import read_csv, write_csv
from chanaudit.scoring.rank import score_flags, score_sites, top_n
from chanaudit.scoring.sensitivity import rank_sensitivity
from chanaudit.scoring.weights import (
    InvalidWeights,
    default_weights,
    load_weights,
    parse_weights,
    validate,
)


def sites_frame() -> pd.DataFrame:
    """SYNTHETIC audit: five ok sites, one failed."""
    rows = [
        # name, email, phone, chat, form, portal
        ("all", 1, 1, 1, 1, 1),      # hand: 1.0
        ("portal", 1, 1, 0, 0, 1),   # hand: 0.1+0.1+0.4 = 0.6
        ("chatform", 1, 1, 1, 1, 0),  # hand: 0.1+0.1+0.2+0.2 = 0.6 (tie with "portal")
        ("contacts", 1, 1, 0, 0, 0),  # hand: 0.2
        ("nothing", 0, 0, 0, 0, 0),   # hand: 0.0
    ]
    frame = pd.DataFrame(rows, columns=["name", "email", "phone", "chat", "form", "portal"])
    frame.insert(0, "site_id", range(1, 6))
    frame["status"] = "ok"
    failed = {"site_id": 6, "name": "down", "status": "timeout"}
    return pd.concat([frame, pd.DataFrame([failed])], ignore_index=True)


def test_defaults_and_score_flags():
    assert default_weights() == {"email": 0.1, "phone": 0.1, "chat": 0.2, "form": 0.2, "portal": 0.4}
    assert score_flags({"email": 1, "phone": 1, "portal": 1}, default_weights()) == 0.6  # hand: .1+.1+.4


def test_competition_ranking_with_ties():
    scored = score_sites(sites_frame(), default_weights()).set_index("name")
    assert scored.loc["all", "score"] == 1.0
    assert scored.loc["portal", "rank"] == scored.loc["chatform", "rank"] == 2  # tie shares rank 2
    assert scored.loc["contacts", "rank"] == 4  # "1224": the next rank skips
    assert scored.loc["contacts", "rank_dense"] == 3
    assert pd.isna(scored.loc["down", "score"]) and pd.isna(scored.loc["down", "rank"])


def test_top_n_keeps_ties_at_the_cut():
    scored = score_sites(sites_frame(), default_weights())
    assert list(top_n(scored, 2)["name"]) == ["all", "portal", "chatform"]
    assert list(top_n(scored, 2, include_ties=False)["name"]) == ["all", "portal"]


@pytest.mark.parametrize("weights,message", [
    ({"email": 0.5}, "missing weight"),
    ({**dict.fromkeys(["email", "phone", "chat", "form"], 0.2), "portal": 0.2, "fax": 0.1}, "unknown channel"),
    ({"email": -0.1, "phone": 0.3, "chat": 0.2, "form": 0.2, "portal": 0.4}, ">= 0"),
    ({"email": 0.2, "phone": 0.2, "chat": 0.2, "form": 0.2, "portal": 0.4}, "sum to 1.2"),
])
def test_invalid_weights(weights, message):
    with pytest.raises(InvalidWeights, match=message):
        validate(weights)


def test_normalise_and_parse():
    w = validate({"email": 1, "phone": 1, "chat": 2, "form": 2, "portal": 4}, normalise=True)
    assert w == pytest.approx(default_weights())  # hand: each / 10
    assert parse_weights(["portal=0.3", "email=0.2"])["portal"] == 0.3
    with pytest.raises(InvalidWeights, match="channel=value"):
        parse_weights(["portal"])


def test_weights_file(tmp_path):
    path = tmp_path / "w.toml"
    path.write_text("[weights]\nemail=0.2\nphone=0.2\nchat=0.2\nform=0.2\nportal=0.2\n", encoding="utf-8")
    assert load_weights(path)["portal"] == 0.2
    path.write_text("weights = 1", encoding="utf-8")
    with pytest.raises(InvalidWeights, match="no \\[weights\\] table"):
        load_weights(path)


def test_sensitivity_deterministic_and_dominant_site():
    a, sa = rank_sensitivity(sites_frame(), default_weights(), n_draws=200, seed=1, top=1)
    b, sb = rank_sensitivity(sites_frame(), default_weights(), n_draws=200, seed=1, top=1)
    pd.testing.assert_frame_equal(a, b)
    best = a.set_index("name").loc["all"]
    assert best["share_top_n"] == 1.0  # all five channels beats any weighting
    assert a.set_index("name").loc["nothing", "share_top_n"] == 0.0
    assert sa["n_draws"] == 200


def test_sensitivity_tau_is_one_when_weights_barely_move():
    no_ties = sites_frame().query("name != 'chatform'")  # scores 1.0, 0.6, 0.2, 0.0: no ties to break
    _, stats = rank_sensitivity(no_ties, default_weights(), n_draws=50, concentration=1e7, seed=0)
    assert stats["kendall_tau_mean"] == pytest.approx(1.0)


def test_sensitivity_tau_below_one_when_ties_break():
    # the 0.6/0.6 tie is broken by any perturbation: tau-b < 1 (hand: one of 10 pairs tied in base only)
    _, stats = rank_sensitivity(sites_frame(), default_weights(), n_draws=50, concentration=1e7, seed=0)
    assert stats["kendall_tau_mean"] < 1.0


def test_score_command(tmp_path):
    write_csv(sites_frame(), tmp_path / "sites.csv")
    result = CliRunner().invoke(app, ["score", str(tmp_path), "--top", "2", "--draws", "50"])
    assert result.exit_code == 0, result.output
    assert "Kendall tau" in result.output
    assert list(read_csv(tmp_path / "top.csv")["name"]) == ["all", "portal", "chatform"]
    bad = CliRunner().invoke(app, ["score", str(tmp_path), "--weight", "portal=2"])
    assert bad.exit_code == 2 and "sum to" in bad.output
    missing = CliRunner().invoke(app, ["score", str(tmp_path / "nope")])
    assert missing.exit_code == 2 and "no such file" in missing.output


def test_sensitivity_base_ranks_keep_float_ties_like_scores_csv():
    # weights where 0.1 + 0.2 != 0.3 in binary floating point: {email, phone} and {chat} tie exactly
    weights = {"email": 0.1, "phone": 0.2, "chat": 0.3, "form": 0.15, "portal": 0.25}
    rows = [(1, 1, 0, 0, 0), (0, 0, 1, 0, 0), (1, 0, 0, 1, 1), (0, 0, 0, 0, 0), (1, 1, 1, 1, 1)]
    frame = pd.DataFrame(rows, columns=["email", "phone", "chat", "form", "portal"])
    frame.insert(0, "site_id", range(1, 6))
    frame["status"] = "ok"
    # reference: exact rational scores (fractions.Fraction of the decimal weights), competition ranking by hand
    from fractions import Fraction
    exact = [sum(Fraction(str(weights[c])) * f for c, f in zip(weights, r, strict=True)) for r in rows]
    expected = {i + 1: 1 + sum(other > mine for other in exact) for i, mine in enumerate(exact)}
    assert expected == {1: 3, 2: 3, 3: 2, 4: 5, 5: 1}  # hand: 0.3, 0.3, 0.5, 0, 1
    summary, _ = rank_sensitivity(frame, weights, n_draws=20, seed=0)
    assert dict(zip(summary["site_id"], summary["base_rank"], strict=True)) == expected
    scored = score_sites(frame, weights)  # scores.csv ranks the same way
    assert dict(zip(scored["site_id"], scored["rank"], strict=True)) == expected


def test_scoring_stage_writes_tables_and_the_weights_used(tmp_path):
    from chanaudit import scoring
    from chanaudit.core.errors import InvalidOption
    from chanaudit.core.folder import AuditFolder, NotAnAuditFolder

    write_csv(sites_frame(), tmp_path / "sites.csv")
    portal_only = {"email": 0.0, "phone": 0.0, "chat": 0.0, "form": 0.0, "portal": 1.0}
    result = scoring.run(tmp_path, portal_only, top=2, draws=20)
    assert result.weights == portal_only
    folder = AuditFolder(tmp_path)
    assert list(folder.read(folder.TOP)["name"]) == ["all", "portal"]  # hand: portal 1.0 each, the rest 0
    assert folder.read(folder.SCORES).set_index("name").loc["chatform", "score"] == 0.0
    assert len(folder.read(folder.SENSITIVITY)) == 5  # the five ok sites
    recorded = folder.read_json(folder.SCORING)
    assert recorded["weights"] == portal_only and recorded["n_draws"] == 20 and recorded["top"] == 2
    assert scoring.used_weights(tmp_path) == portal_only
    assert scoring.run(folder).weights == default_weights()  # None: the study's defaults
    assert scoring.used_weights(folder) == default_weights()
    with pytest.raises(InvalidOption, match="draws must be at least 1"):
        scoring.run(folder, draws=0)
    with pytest.raises(InvalidWeights, match="sum to"):
        scoring.run(folder, {**portal_only, "email": 1.0})
    with pytest.raises(NotAnAuditFolder, match="no such file"):
        scoring.run(tmp_path / "nope")
    assert scoring.used_weights(tmp_path / "nope") is None
