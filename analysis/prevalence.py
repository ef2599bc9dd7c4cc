"""Share of sites with each channel, with confidence intervals."""

from __future__ import annotations

import pandas as pd

from chanaudit.analysis.intervals import proportion_ci
from chanaudit.analysis.labels import label
from chanaudit.core.contract import CHANNELS


def ok_sites(sites: pd.DataFrame) -> pd.DataFrame:
    """Rows that enter statistics: status ok (failed sites have no channel flags)."""
    frame = sites[sites["status"].eq("ok")] if "status" in sites else sites
    out = frame.copy()
    for ch in CHANNELS:
        if ch in out:
            out[ch] = pd.to_numeric(out[ch], errors="coerce")
    return out


def prevalence(sites: pd.DataFrame, channels=CHANNELS, method: str = "wilson", conf: float = 0.95) -> pd.DataFrame:
    """Columns: channel, label_en, label_ru, k, n, estimate, ci_low, ci_high, method."""
    frame = ok_sites(sites)
    rows = []
    for ch in channels:
        values = frame[ch].dropna()
        k, n = int(values.sum()), int(values.size)
        low, high = proportion_ci(k, n, method, conf)
        rows.append({"channel": ch, "label_en": label(ch, "en"), "label_ru": label(ch, "ru"), "k": k, "n": n,
                     "estimate": k / n if n else float("nan"), "ci_low": low, "ci_high": high, "method": method})
    return pd.DataFrame(rows)
