"""How stable the ranking is when the weights move.

Weight vectors are drawn from a Dirichlet distribution centred on the base
weights (``concentration`` x base: larger = closer to the base); every draw
re-scores and re-ranks the ok sites. Per site: median rank, 5-95% rank range,
and the share of draws in which it stays in the top N. Overall: Kendall's
tau-b between base and perturbed scores.

Scores are rounded to 10 decimals before ranking, as in :mod:`chanaudit.scoring.rank`: 0.1 + 0.2 and 0.3
are one score, so a tie in ``scores.csv`` is a tie in ``sensitivity.csv`` too.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy.stats import kendalltau, rankdata

from chanaudit.core.contract import CHANNELS

#: Decimals kept before ranking: the same rounding as scoring/rank.py (``score_sites``).
SCORE_DECIMALS = 10


def rank_sensitivity(sites: pd.DataFrame, weights: Mapping[str, float], n_draws: int = 1000,
                     concentration: float = 50.0, top: int = 10, seed: int = 0) -> tuple[pd.DataFrame, dict]:
    ok = sites[sites["status"].eq("ok")] if "status" in sites else sites
    flags = ok[list(CHANNELS)].apply(pd.to_numeric, errors="coerce").fillna(0).to_numpy(float)
    base_w = np.array([weights[ch] for ch in CHANNELS], float)
    base_score = (flags @ base_w).round(SCORE_DECIMALS)
    base_rank = rankdata(-base_score, method="min")
    rng = np.random.default_rng(seed)
    alpha = np.maximum(base_w * concentration, 1e-3)
    draws = rng.dirichlet(alpha, size=n_draws)  # (n_draws, 5)
    scores = (flags @ draws.T).round(SCORE_DECIMALS)  # (sites, n_draws)
    ranks = np.column_stack([rankdata(-scores[:, j], method="min") for j in range(n_draws)]) if len(ok) else \
        np.empty((0, n_draws))
    taus = [kendalltau(base_score, scores[:, j]).statistic for j in range(n_draws)] if len(ok) > 1 else []
    taus = np.array([t for t in taus if np.isfinite(t)])
    summary = pd.DataFrame({
        "site_id": ok["site_id"].to_numpy() if "site_id" in ok else np.arange(1, len(ok) + 1),
        "base_rank": base_rank.astype(int),
        "base_score": base_score,
        "median_rank": np.median(ranks, axis=1) if len(ok) else [],
        "rank_p05": np.percentile(ranks, 5, axis=1) if len(ok) else [],
        "rank_p95": np.percentile(ranks, 95, axis=1) if len(ok) else [],
        "share_top_n": (ranks <= top).mean(axis=1) if len(ok) else [],
    })
    if "name" in ok:
        summary.insert(1, "name", ok["name"].to_numpy())
    summary = summary.sort_values(["base_rank", "site_id"]).reset_index(drop=True)
    stats = {
        "n_draws": n_draws, "concentration": concentration, "top": top, "seed": seed,
        "kendall_tau_mean": float(taus.mean()) if taus.size else float("nan"),
        "kendall_tau_p05": float(np.percentile(taus, 5)) if taus.size else float("nan"),
    }
    return summary, stats
