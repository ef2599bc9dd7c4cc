"""Detection accuracy of an audit against ground truth (the demo market, labelled sets)."""

from __future__ import annotations

import pandas as pd

from chanaudit.core.contract import CHANNELS


def detection_accuracy(audit: pd.DataFrame, truth: pd.DataFrame, key: str = "slug",
                       channels: tuple[str, ...] = CHANNELS) -> pd.DataFrame:
    """Per channel: tp, fp, fn, tn, precision, recall, f1, n — over sites ok in the audit and labelled in truth.

    Columns: channel, tp, fp, fn, tn, n, precision, recall, f1. A last row
    ``all`` counts sites whose five flags are all right (``exact``).
    """
    merged = audit[audit["status"] == "ok"].merge(truth, on=key, suffixes=("", "_truth"))
    merged = merged.dropna(subset=[f"{ch}_truth" for ch in channels])
    rows = []
    for ch in channels:
        found = merged[ch].astype(int)
        real = merged[f"{ch}_truth"].astype(int)
        tp = int(((found == 1) & (real == 1)).sum())
        fp = int(((found == 1) & (real == 0)).sum())
        fn = int(((found == 0) & (real == 1)).sum())
        tn = int(((found == 0) & (real == 0)).sum())
        precision = tp / (tp + fp) if tp + fp else float("nan")
        recall = tp / (tp + fn) if tp + fn else float("nan")
        f1 = 2 * precision * recall / (precision + recall) if tp else 0.0
        rows.append({"channel": ch, "tp": tp, "fp": fp, "fn": fn, "tn": tn, "n": len(merged),
                     "precision": precision, "recall": recall, "f1": f1})
    exact = int((merged[list(channels)].astype(int).values ==
                 merged[[f"{c}_truth" for c in channels]].astype(int).values).all(axis=1).sum())
    rows.append({"channel": "all", "tp": exact, "fp": 0, "fn": len(merged) - exact, "tn": 0, "n": len(merged),
                 "precision": float("nan"), "recall": exact / len(merged) if len(merged) else float("nan"),
                 "f1": float("nan")})
    return pd.DataFrame(rows)
