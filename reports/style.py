"""One house style for every chart: fonts that render Cyrillic, a quiet palette, print sizes.

Notebook-safe: nothing here selects a backend, touches pyplot or changes matplotlib's global settings.
Charts are :class:`matplotlib.figure.Figure` objects with their own Agg canvas, drawn and saved inside
``matplotlib.rc_context(RC)`` (:func:`styled`), so a notebook's backend and rcParams stay as they were.
"""

from __future__ import annotations

import functools
from functools import lru_cache
from pathlib import Path

import matplotlib
import yaml
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from chanaudit.analysis.compare import OTHER_GROUP
from chanaudit.core.numbers import fmt_num

PALETTE = {"email": "#4C72B0", "phone": "#55A868", "chat": "#C44E52", "form": "#8172B2", "portal": "#CCB974",
           "accent": "#1f2d3d", "published": "#D55E00", "muted": "#9aa5b1"}
WIDTH = 7.0  # inches: a journal column and a report page
RC = {
    "font.family": "DejaVu Sans",  # ships with matplotlib; full Cyrillic
    "font.size": 10, "axes.titlesize": 12, "axes.titleweight": "bold", "axes.labelsize": 10,
    "axes.spines.top": False, "axes.spines.right": False, "axes.grid": True, "grid.alpha": 0.3,
    "grid.linestyle": "-", "figure.dpi": 100, "savefig.dpi": 300, "savefig.bbox": "tight",
    "svg.fonttype": "none", "pdf.fonttype": 42,
    # Labels are data (company names, cities, answers): "$5 $10" or "$\\frac{a}{$" is text, never math text.
    "text.parse_math": False,
}


@lru_cache(maxsize=1)
def texts() -> dict:
    return yaml.safe_load((Path(__file__).with_name("labels.yaml")).read_text(encoding="utf-8"))


def text(key: str, lang: str) -> str:
    return texts()[key][lang]


def lang_of(lang: str) -> str:
    return "ru" if lang == "ru" else "en"


def entry(group: str, key, lang: str, default=None) -> str:
    """A label from a group of labels.yaml (``columns``, ``group_vars``, ``statuses``…); unknown keys as they are."""
    found = texts().get(group, {}).get(str(key))
    return found[lang_of(lang)] if found else (str(key) if default is None else default)


def plural(n: int, forms, lang: str) -> str:
    """``forms`` is [one, few, many] (ru) or [one, many, many] (en)."""
    if lang_of(lang) == "ru":
        if n % 10 == 1 and n % 100 != 11:
            return forms[0]
        return forms[1] if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14 else forms[2]
    return forms[0] if n == 1 else forms[1]


def group_var_label(var, lang: str) -> str:
    """city -> Город / City; an unknown grouping variable is shown as it is."""
    return entry("group_vars", var, lang)


def group_labels(table, lang: str, other: str = OTHER_GROUP) -> list[tuple[str, str]]:
    """(group, label) of a group table (``analysis.compare`` columns, optionally ``members``), largest group first
    and the folded "other" group last; each label carries the group's n: «Moscow (n = 100)»."""
    if table is None or not len(table):
        return []
    keys = table["group"].astype(str)
    sizes = table.assign(_g=keys).groupby("_g")["n"].max()
    members = (table.assign(_g=keys).groupby("_g")["members"].max() if "members" in table
               else sizes * 0 + 1)
    folded = {g for g in sizes.index if g == other and int(members[g]) > 1}
    order = sorted(sizes.index, key=lambda g: (g in folded, -int(sizes[g]), g))
    out = []
    for g in order:
        n = int(sizes[g])
        if g in folded:
            m = int(members[g])
            name = f"{text('other_group', lang)} ({m} {plural(m, texts()['group_word'][lang_of(lang)], lang)}, n = {n})"
        else:
            name = f"{g} (n = {n})"
        out.append((g, name))
    return out


def styled(draw):
    """Run a drawing (or saving) function inside the house style, leaving the global rcParams as they were."""

    @functools.wraps(draw)
    def in_style(*args, **kwargs):
        with matplotlib.rc_context(RC):
            return draw(*args, **kwargs)

    return in_style


def new_figure(width: float = WIDTH, height: float = 4.0) -> Figure:
    """A figure of its own (not registered with pyplot) on an Agg canvas, labels and legends kept inside."""
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def new_axes(ax=None, height: float = 4.0):
    if ax is not None:
        return ax.figure, ax
    fig = new_figure(WIDTH, height)
    return fig, fig.subplots()


def decimals(ax, axis: str = "x", lang: str = "ru", digits: int = 1) -> None:
    """Tick labels with a decimal comma in Russian (0,4), a point in English (0.4)."""
    from matplotlib.ticker import FuncFormatter

    formatter = FuncFormatter(lambda value, _pos: fmt_num(value, lang, digits))
    (ax.xaxis if axis == "x" else ax.yaxis).set_major_formatter(formatter)


def pct(ax, axis: str = "x") -> None:
    from matplotlib.ticker import PercentFormatter

    (ax.xaxis if axis == "x" else ax.yaxis).set_major_formatter(PercentFormatter(1.0, decimals=0))
