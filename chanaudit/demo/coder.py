"""A SYNTHETIC "human coder" for the demo's validation sample: the market's truth with known errors.

``synthetic_coding(sheet, seen, flip_share, seed)`` fills the blind coding sheet of
:func:`chanaudit.analysis.validation.draw_sample` with what an auditor sees on each sampled site
(``seen``: the market's truth by domain, following redirects, :func:`chanaudit.demo.waves.seen_truth`),
then flips round(flip_share x cells) of its site x channel cells (1 <-> 0), chosen by the seed, so
that the agreement and the corrected shares are not trivially perfect. The labels say they are
synthetic in every row; the flipped cells are returned (and written by the demo) so the errors are
known. Not a real validation: a real one needs a person looking at each site.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import pandas as pd

from chanaudit.core.contract import CHANNELS

ERROR_COLUMNS = ["sample_id", "domain", "channel", "seen", "coded"]


@dataclass
class Coding:
    labels: pd.DataFrame  # the coding sheet filled in: domain, url, ..., channel columns 1/0, notes
    errors: pd.DataFrame  # the flipped cells: ERROR_COLUMNS
    cells: int  # cells coded (sites x channels with a truth)


def synthetic_coding(sheet: pd.DataFrame, seen: pd.DataFrame, flip_share: float, seed: int,
                     channels=CHANNELS) -> Coding:
    """The sheet (``domain`` column) coded from ``seen`` (channels by domain; a site without a truth stays
    blank), with round(flip_share x cells) cells flipped."""
    labels = sheet.copy()
    cells = []
    for row, domain in zip(labels.index, labels["domain"], strict=True):
        for ch in channels:
            value = seen[ch].get(domain) if domain in seen.index else None
            if value is None or pd.isna(value):
                labels.at[row, ch] = ""
                continue
            labels.at[row, ch] = str(int(value))
            cells.append((row, ch))
    rng = random.Random(f"{seed}/coder")
    flipped = sorted(rng.sample(cells, round(flip_share * len(cells))), key=lambda c: (c[0], channels.index(c[1])))
    errors = []
    for row, ch in flipped:
        before = int(labels.at[row, ch])
        labels.at[row, ch] = str(1 - before)
        errors.append({"sample_id": labels.at[row, "sample_id"], "domain": labels.at[row, "domain"], "channel": ch,
                       "seen": before, "coded": 1 - before})
    labels["notes"] = "SYNTHETIC coder: the demo market's ground truth with known errors, not a person"
    return Coding(labels, pd.DataFrame(errors, columns=ERROR_COLUMNS), len(cells))
