"""Channel combinations: how many channels a site has, and which exact sets occur."""

from __future__ import annotations

import pandas as pd

from chanaudit.analysis.intervals import proportion_ci
from chanaudit.analysis.prevalence import ok_sites
from chanaudit.core.contract import CHANNELS


def _row(k: int, n: int, method: str, conf: float) -> dict:
    low, high = proportion_ci(k, n, method, conf)
    return {"k": k, "n": n, "estimate": k / n if n else float("nan"), "ci_low": low, "ci_high": high}


def channel_counts(sites: pd.DataFrame, method: str = "wilson", conf: float = 0.95) -> pd.DataFrame:
    """Columns: n_channels (0..5), kind ("exactly"/"at_least"), k, n, estimate, ci_low, ci_high."""
    frame = ok_sites(sites).dropna(subset=list(CHANNELS))
    counts = frame[list(CHANNELS)].sum(axis=1).astype(int)
    n = len(frame)
    rows = []
    for kind in ("exactly", "at_least"):
        for c in range(len(CHANNELS) + 1):
            k = int((counts == c).sum() if kind == "exactly" else (counts >= c).sum())
            rows.append({"n_channels": c, "kind": kind, **_row(k, n, method, conf)})
    return pd.DataFrame(rows)


def combinations(sites: pd.DataFrame, method: str = "wilson", conf: float = 0.95) -> pd.DataFrame:
    """One row per observed exact set of channels: combination ("email+phone", "" for none), size, k, n, ..."""
    frame = ok_sites(sites).dropna(subset=list(CHANNELS))
    n = len(frame)
    keys = frame[list(CHANNELS)].astype(int).apply(lambda r: "+".join(c for c in CHANNELS if r[c]), axis=1)
    rows = [{"combination": combo, "size": len(combo.split("+")) if combo else 0, **_row(int(k), n, method, conf)}
            for combo, k in keys.value_counts().items()]
    out = pd.DataFrame(rows, columns=["combination", "size", "k", "n", "estimate", "ci_low", "ci_high"])
    return out.sort_values(["k", "size"], ascending=[False, False]).reset_index(drop=True)
