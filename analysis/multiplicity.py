"""Many tests at once: Holm's step-down and Benjamini–Hochberg's step-up adjusted p-values.

Holm (1979) controls the family-wise error rate (the chance of any false rejection) under any
dependence; Benjamini & Hochberg (1995) control the false discovery rate (the expected share of
false rejections among the rejections) for independent or positively dependent tests. The
adjusted p-value is the smallest level at which the test would be rejected by the procedure;
missing p-values (a test that could not run) stay missing and do not count towards the family.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from chanaudit.core.errors import ChanauditError

METHODS = ("holm", "bh")


class UnknownAdjustment(ChanauditError, ValueError):
    """Not a multiplicity adjustment this module knows."""


def adjust(p_values, method: str = "holm") -> np.ndarray:
    """Adjusted p-values in the input's order (NaN stays NaN; the family is the non-missing ones).

    holm: p_(i) * (m - i + 1), running maximum from the smallest, capped at 1;
    bh:   p_(i) * m / i, running minimum from the largest, capped at 1.
    """
    p = np.asarray(p_values, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    m = int(ok.sum())
    if m == 0:
        return out
    values = p[ok]
    order = np.argsort(values, kind="mergesort")
    ranked = values[order]
    i = np.arange(1, m + 1)
    if method == "holm":
        adj = np.maximum.accumulate(ranked * (m - i + 1))
    elif method == "bh":
        adj = np.minimum.accumulate((ranked * m / i)[::-1])[::-1]
    else:
        raise UnknownAdjustment(f"unknown adjustment {method!r}; use one of {', '.join(METHODS)}")
    back = np.empty(m)
    back[order] = np.minimum(adj, 1.0)
    out[ok] = back
    return out


def add_adjusted(table: pd.DataFrame, column: str = "p_val", by: str | list[str] | None = None) -> pd.DataFrame:
    """``table`` with ``p_holm`` and ``p_bh`` beside ``column``; the family is the whole table, or each group
    of ``by`` (say, every grouping variable's tests on the five channels)."""
    out = table.copy()
    if not len(out) or column not in out:
        out["p_holm"] = np.nan
        out["p_bh"] = np.nan
        return out
    if by is None:
        out["p_holm"] = adjust(out[column], "holm")
        out["p_bh"] = adjust(out[column], "bh")
        return out
    out["p_holm"] = np.nan
    out["p_bh"] = np.nan
    for _, idx in out.groupby(by, sort=False).groups.items():
        out.loc[idx, "p_holm"] = adjust(out.loc[idx, column], "holm")
        out.loc[idx, "p_bh"] = adjust(out.loc[idx, column], "bh")
    return out
