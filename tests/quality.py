"""Precision and recall per channel, site level (shared by the detector and crawler gates)."""

from __future__ import annotations

from chanaudit.core.contract import CHANNELS


def score(truth: dict[str, dict[str, int]], found: dict[str, dict[str, int]]) -> dict[str, dict[str, float]]:
    """truth/found: site -> channel -> 0/1. Returns channel -> tp, fp, fn, precision, recall."""
    out = {}
    for ch in CHANNELS:
        tp = sum(1 for s in truth if truth[s][ch] and found[s][ch])
        fp = sum(1 for s in truth if not truth[s][ch] and found[s][ch])
        fn = sum(1 for s in truth if truth[s][ch] and not found[s][ch])
        out[ch] = {
            "tp": tp, "fp": fp, "fn": fn,
            "precision": tp / (tp + fp) if tp + fp else 1.0,
            "recall": tp / (tp + fn) if tp + fn else 1.0,
        }
    return out


def table(metrics: dict[str, dict[str, float]], title: str) -> str:
    lines = [title, f"{'channel':8} {'tp':>3} {'fp':>3} {'fn':>3} {'precision':>9} {'recall':>7}"]
    for ch, m in metrics.items():
        lines.append(f"{ch:8} {m['tp']:>3} {m['fp']:>3} {m['fn']:>3} {m['precision']:>9.3f} {m['recall']:>7.3f}")
    return "\n".join(lines)


def mismatches(truth, found) -> list[str]:
    return [
        f"{s}: {ch} expected {truth[s][ch]} found {found[s][ch]}"
        for s in truth for ch in CHANNELS if truth[s][ch] != found[s][ch]
    ]
