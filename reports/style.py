"""One house style for every chart: fonts that render Cyrillic, a quiet palette, print sizes."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import yaml  # noqa: E402

PALETTE = {"email": "#4C72B0", "phone": "#55A868", "chat": "#C44E52", "form": "#8172B2", "portal": "#CCB974",
           "accent": "#1f2d3d", "published": "#D55E00", "muted": "#9aa5b1"}
WIDTH = 7.0  # inches: a journal column and a report page
RC = {
    "font.family": "DejaVu Sans",  # ships with matplotlib; full Cyrillic
    "font.size": 10, "axes.titlesize": 12, "axes.titleweight": "bold", "axes.labelsize": 10,
    "axes.spines.top": False, "axes.spines.right": False, "axes.grid": True, "grid.alpha": 0.3,
    "grid.linestyle": "-", "figure.dpi": 100, "savefig.dpi": 300, "savefig.bbox": "tight",
    "svg.fonttype": "none", "pdf.fonttype": 42,
}


@lru_cache(maxsize=1)
def texts() -> dict:
    return yaml.safe_load((Path(__file__).with_name("labels.yaml")).read_text(encoding="utf-8"))


def text(key: str, lang: str) -> str:
    return texts()[key][lang]


def apply() -> None:
    plt.rcParams.update(RC)


def new_axes(ax=None, height: float = 4.0):
    apply()
    if ax is not None:
        return ax.figure, ax
    fig, ax = plt.subplots(figsize=(WIDTH, height))
    return fig, ax


def pct(ax, axis: str = "x") -> None:
    from matplotlib.ticker import PercentFormatter

    (ax.xaxis if axis == "x" else ax.yaxis).set_major_formatter(PercentFormatter(1.0, decimals=0))
