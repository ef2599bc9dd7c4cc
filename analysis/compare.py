"""Comparisons between groups (city, segment): per-group shares and independence tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import chi2_contingency, fisher_exact, norm

from chanaudit.analysis.intervals import newcombe_difference, proportion_ci
from chanaudit.analysis.prevalence import ok_sites
from chanaudit.core.contract import CHANNELS
from chanaudit.core.errors import UnknownColumn


def check_group_column(sites: pd.DataFrame, group_col: str, source: str = "") -> None:
    """Raise :class:`UnknownColumn` unless ``sites`` has ``group_col`` (``source`` names the file)."""
    if group_col not in sites:
        where = f"{source}: " if source else ""
        raise UnknownColumn(f"{where}no column {group_col!r} to group by (columns: {', '.join(map(str, sites.columns))})")


def compare_groups(sites: pd.DataFrame, group_col: str, channels, method: str = "wilson", conf: float = 0.95,
                   min_n: int = 1) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(table, tests). table: group_var, group, channel, k, n, estimate, ci_low, ci_high;
    tests: channel, test ("chi2" or "fisher" for a 2x2 with an expected count < 5), statistic, dof, p_val, n."""
    check_group_column(sites, group_col)
    frame = ok_sites(sites)
    frame = frame[frame[group_col].astype(str).str.strip() != ""]
    rows, tests = [], []
    for ch in channels:
        sub = frame.dropna(subset=[ch])
        for group, part in sub.groupby(group_col, sort=True):
            k, n = int(part[ch].sum()), len(part)
            if n < min_n:
                continue
            low, high = proportion_ci(k, n, method, conf)
            rows.append({"group_var": group_col, "group": group, "channel": ch, "k": k, "n": n,
                         "estimate": k / n, "ci_low": low, "ci_high": high})
        table = pd.crosstab(sub[group_col], sub[ch].astype(int)).reindex(columns=[0, 1], fill_value=0)
        table = table[table.sum(axis=1) > 0]
        if table.shape[0] < 2 or (table.sum(axis=0) == 0).any():
            tests.append({"channel": ch, "test": "none", "statistic": np.nan, "dof": np.nan, "p_val": np.nan,
                          "n": int(table.values.sum())})
            continue
        chi2, p, dof, expected = chi2_contingency(table.values, correction=False)
        if table.shape == (2, 2) and (expected < 5).any():
            stat, p = fisher_exact(table.values)
            tests.append({"channel": ch, "test": "fisher", "statistic": stat, "dof": 1, "p_val": p,
                          "n": int(table.values.sum())})
        else:
            tests.append({"channel": ch, "test": "chi2", "statistic": chi2, "dof": dof, "p_val": p,
                          "n": int(table.values.sum())})
    return pd.DataFrame(rows), pd.DataFrame(tests)


def two_proportion(k1: int, n1: int, k2: int, n2: int, conf: float = 0.95) -> dict:
    """Difference p1 - p2 with Newcombe's hybrid score interval and the pooled z test."""
    diff, low, high = newcombe_difference(k1, n1, k2, n2, conf)
    pooled = (k1 + k2) / (n1 + n2)
    se = np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    z = diff / se if se > 0 else np.nan
    return {"diff": diff, "ci_low": low, "ci_high": high, "z": z,
            "p_val": float(2 * norm.sf(abs(z))) if np.isfinite(z) else np.nan}


#: The group that small groups are folded into (translated in reports: «другие» / "other").
OTHER_GROUP = "other"


def fold_small_groups(sites: pd.DataFrame, group_col: str, min_n: int = 10, other: str = OTHER_GROUP):
    """(sites, folded): a copy of ``sites`` where every value of ``group_col`` held by fewer than ``min_n``
    audited (status ok) sites is replaced by ``other``, and the sorted list of the values replaced.

    A recoding of the input, not a statistic: the shares and tests of the folded groups are then computed by
    :func:`compare_groups` like any other group. Nothing is folded when only one group is
    small, or when every group is (one "other" group would leave nothing to compare).
    """
    check_group_column(sites, group_col)
    values = ok_sites(sites)[group_col].astype(str).str.strip()
    sizes = values[values != ""].value_counts()
    small = sorted(str(g) for g in sizes[sizes < min_n].index)
    if len(small) < 2 or len(small) == len(sizes):  # one small group, or nothing large left to compare with
        return sites, []
    out = sites.copy()
    keys = out[group_col].astype(str).str.strip()
    out[group_col] = out[group_col].where(~keys.isin(small), other)
    return out, small


def grouped_comparison(sites: pd.DataFrame, group_col: str, channels=CHANNELS, method: str = "wilson",
                       conf: float = 0.95, min_n: int = 10) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`compare_groups` after folding groups smaller than ``min_n`` into one
    ``other`` group. The table gains ``members`` (how many input groups a row stands for) and ``min_n``."""
    folded_sites, folded = fold_small_groups(sites, group_col, min_n)
    table, tests = compare_groups(folded_sites, group_col, list(channels), method, conf)
    if len(table):
        table["members"] = [len(folded) if folded and str(g) == OTHER_GROUP else 1 for g in table["group"]]
        table["min_n"] = min_n
    return table, tests
