"""Score and rank sites: weighted sum of channel flags, competition ranking with ties."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from chanaudit.core.contract import CHANNELS


def score_flags(flags: Mapping[str, int | None], weights: Mapping[str, float]) -> float:
    """Sum of the weights of the channels present (dependency-light: the crawler uses it)."""
    return round(float(sum(weights[ch] for ch in CHANNELS if flags.get(ch))), 10)


def score_sites(sites: pd.DataFrame, weights: Mapping[str, float]) -> pd.DataFrame:
    """Add ``score`` (NaN unless status is ok), ``rank`` (competition "1224", best = 1) and ``rank_dense``."""
    out = sites.copy()
    ok = out["status"].eq("ok") if "status" in out else pd.Series(True, index=out.index)
    flags = out[list(CHANNELS)].apply(pd.to_numeric, errors="coerce").fillna(0)
    score = sum(flags[ch] * weights[ch] for ch in CHANNELS).round(10)
    out["score"] = score.where(ok)
    out["channels"] = flags.sum(axis=1).where(ok)
    out["rank"] = out["score"].rank(method="min", ascending=False).astype("Int64")
    out["rank_dense"] = out["score"].rank(method="dense", ascending=False).astype("Int64")
    return out


def top_n(scored: pd.DataFrame, n: int = 10, include_ties: bool = True) -> pd.DataFrame:
    """The winners: the N best ok sites, plus every site tied with the N-th when ``include_ties``."""
    ok = scored.dropna(subset=["score"]).sort_values(["rank", "site_id"] if "site_id" in scored else ["rank"])
    if ok.empty:
        return ok
    cut = ok.iloc[min(n, len(ok)) - 1]["rank"]
    winners = ok[ok["rank"] <= cut] if include_ties else ok.head(n)
    keep = [c for c in ("site_id", "name", "domain", "slug", "url", "final_url", "score", "rank", "rank_dense", "channels",
                        *CHANNELS, "overridden") if c in winners]
    return winners[keep].reset_index(drop=True)
