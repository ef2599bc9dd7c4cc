"""Which sample sizes are compatible with all rounded published percentages at once.

A share x published as p at resolution r (half-up rounding) satisfies
p - r/2 <= x < p + r/2. For each n, a figure is compatible when some whole
count k gives k/n in that interval; n is feasible when every figure is.
``ties="exclude"`` drops exact half-way shares (x = p - r/2), for authors who
round half to even or truncate: the two conventions are reported side by side.
"""

from __future__ import annotations

import math

import pandas as pd

from chanaudit.analysis.studies import Study

_EPS = 1e-12


def compatible_counts(p: float, r: float, n: int, ties: str = "half_up") -> list[int]:
    low, high = p - r / 2, p + r / 2
    k_min = max(0, math.ceil(low * n - _EPS))
    out = []
    for k in range(k_min, n + 1):
        x = k / n
        if x >= high - _EPS:
            break
        if x < low - _EPS or (ties == "exclude" and abs(x - low) < _EPS):
            continue
        out.append(k)
    return out


def feasible_sizes(study: Study, n_min: int = 100, n_max: int = 1000, figure_ids: list[str] | None = None,
                   ties: str = "half_up") -> pd.DataFrame:
    """Columns: n, feasible, then one column per figure with its compatible counts ("27" or "27,28")."""
    figures = [f for f in study.figures if f.published is not None and f.rounding and not f.bound
               and (figure_ids is None or f.id in figure_ids)]
    rows = []
    for n in range(n_min, n_max + 1):
        row = {"n": n}
        ok = True
        for f in figures:
            ks = compatible_counts(float(f.published), float(f.rounding), n, ties)
            row[f.id] = ",".join(map(str, ks))
            ok = ok and bool(ks)
        row["feasible"] = ok
        rows.append(row)
    cols = ["n", "feasible", *[f.id for f in figures]]
    return pd.DataFrame(rows, columns=cols)


def ranges(values: list[int]) -> str:
    """[306, 307, 308, 317] -> "306-308, 317"."""
    out, start, prev = [], None, None
    for v in values:
        if start is None:
            start = prev = v
        elif v == prev + 1:
            prev = v
        else:
            out.append(f"{start}-{prev}" if prev != start else f"{start}")
            start = prev = v
    if start is not None:
        out.append(f"{start}-{prev}" if prev != start else f"{start}")
    return ", ".join(out)
