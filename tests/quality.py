"""Precision and recall per channel, site level (shared by the detector and crawler gates), with
Wilson 95% lower bounds, and the floors they are held to (tests/gate_floors.json)."""

from __future__ import annotations

import json
from pathlib import Path

from chanaudit.analysis.intervals import wilson
from chanaudit.core.contract import CHANNELS

FLOORS = Path(__file__).parent / "gate_floors.json"
MEASURES = ("precision", "recall", "f1")


def score(truth: dict[str, dict[str, int]], found: dict[str, dict[str, int]]) -> dict[str, dict[str, float]]:
    """truth/found: site -> channel -> 0/1. Returns channel -> tp, fp, fn, precision, recall, f1 and
    the Wilson 95% lower bounds of precision and recall (``precision_low``, ``recall_low``)."""
    out = {}
    for ch in CHANNELS:
        tp = sum(1 for s in truth if truth[s][ch] and found[s][ch])
        fp = sum(1 for s in truth if not truth[s][ch] and found[s][ch])
        fn = sum(1 for s in truth if truth[s][ch] and not found[s][ch])
        precision = tp / (tp + fp) if tp + fp else 1.0
        recall = tp / (tp + fn) if tp + fn else 1.0
        out[ch] = {
            "tp": tp, "fp": fp, "fn": fn, "precision": precision, "recall": recall,
            "f1": 2 * precision * recall / (precision + recall) if precision + recall else 0.0,
            "precision_low": wilson(tp, tp + fp)[0] if tp + fp else 0.0,
            "recall_low": wilson(tp, tp + fn)[0] if tp + fn else 0.0,
        }
    return out


def table(metrics: dict[str, dict[str, float]], title: str) -> str:
    lines = [title, f"{'channel':8} {'tp':>3} {'fp':>3} {'fn':>3} {'precision':>9} {'(low95)':>7} "
                    f"{'recall':>7} {'(low95)':>7} {'F1':>6}"]
    for ch, m in metrics.items():
        lines.append(f"{ch:8} {m['tp']:>3} {m['fp']:>3} {m['fn']:>3} {m['precision']:>9.3f} {m['precision_low']:>7.3f} "
                     f"{m['recall']:>7.3f} {m['recall_low']:>7.3f} {m['f1']:>6.3f}")
    return "\n".join(lines)


def mismatches(truth, found) -> list[str]:
    return [
        f"{s}: {ch} expected {truth[s][ch]} found {found[s][ch]}"
        for s in truth for ch in CHANNELS if truth[s][ch] != found[s][ch]
    ]


def load_floors() -> list[dict]:
    """The floor history, oldest first: each entry the corpus hash it was set on and, per gate
    (``detector``, ``crawler``), channel -> measure -> floor. The last entry is in force."""
    return json.loads(FLOORS.read_text(encoding="utf-8"))["history"]


def floors(gate: str) -> dict[str, dict[str, float]]:
    return load_floors()[-1][gate]


def below(metrics: dict[str, dict[str, float]], gate: str) -> list[str]:
    """The measures under their floor, as readable lines (empty when the gate passes)."""
    return [f"{ch} {measure} {metrics[ch][measure]:.3f} < floor {floor:.3f}"
            for ch, row in floors(gate).items() for measure, floor in row.items()
            if metrics[ch][measure] < floor - 1e-9]


def corpus_note(current: str) -> str:
    entry = load_floors()[-1]
    if entry["corpus"] == current:
        return f"corpus {current} (floors set on this corpus, {entry['set']})"
    return (f"corpus {current}; floors were set on corpus {entry['corpus']} ({entry['set']}): the corpus grew or "
            "changed — re-measure and raise the floors where the numbers allow (they never fall)")
