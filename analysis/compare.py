"""Comparisons between groups (city, segment): per-group shares and independence tests.

The test of a channel against the groups is Pearson's chi-square on the r x 2 table when every expected
count is at least 5; otherwise an exact test: Fisher's for a 2 x 2 table, and for more groups the
Fisher–Freeman–Halton test (Freeman & Halton 1951), whose p-value is the probability, under
independence with both margins fixed, of the tables no more probable than the one observed. It is
computed by enumerating every table when there are at most :data:`EXACT_LIMIT` of them, else from
:data:`MC_DRAWS` tables drawn at random (seeded, so the same input gives the same p-value) as
(1 + #{drawn tables no more probable}) / (draws + 1) — R's ``fisher.test(simulate.p.value = TRUE)``.
Holm and Benjamini–Hochberg adjusted p-values (``p_holm``, ``p_bh``) are given across the channels.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import gammaln
from scipy.stats import chi2_contingency, fisher_exact, norm

from chanaudit.analysis.intervals import newcombe_difference, proportion_ci
from chanaudit.analysis.multiplicity import add_adjusted
from chanaudit.analysis.prevalence import ok_sites
from chanaudit.core.contract import CHANNELS
from chanaudit.core.errors import UnknownColumn


def check_group_column(sites: pd.DataFrame, group_col: str, source: str = "") -> None:
    """Raise :class:`UnknownColumn` unless ``sites`` has ``group_col`` (``source`` names the file)."""
    if group_col not in sites:
        where = f"{source}: " if source else ""
        raise UnknownColumn(f"{where}no column {group_col!r} to group by (columns: {', '.join(map(str, sites.columns))})")

#: Enumerate the r x 2 tables exactly up to this many; above, draw :data:`MC_DRAWS` of them.
EXACT_LIMIT = 1_000_000
MC_DRAWS = 20_000
MC_SEED = 20160101


def _log_choose(n, k):
    return gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1)


def _count_tables(sizes, total: int) -> float:
    """How many r x 2 tables have row sums ``sizes`` and first-column sum ``total``."""
    ways = np.zeros(total + 1)
    ways[0] = 1.0
    for n_i in sizes:
        step = np.zeros(total + 1)
        for x in range(min(int(n_i), total) + 1):
            step[x:] += ways[: total + 1 - x]
        ways = step
    return float(ways[total])


def freeman_halton_rx2(table, limit: int = EXACT_LIMIT, draws: int = MC_DRAWS,
                       seed: int = MC_SEED) -> tuple[float, str]:
    """(p_val, method) of the Fisher–Freeman–Halton test for an r x 2 table of counts; method is
    ``exact`` (every table enumerated) or ``monte_carlo``."""
    t = np.asarray(table, dtype=int)
    sizes = t.sum(axis=1)
    ones = t[:, 1] if t[:, 1].sum() <= t[:, 0].sum() else t[:, 0]  # the smaller column: fewer states
    total = int(ones.sum())
    observed = float(_log_choose(sizes, ones).sum())
    tolerance = 1e-7  # relative, as R: tables within it of the observed probability count as equal
    if _count_tables(sizes, total) <= limit:
        rest = np.concatenate([np.cumsum(sizes[::-1])[::-1][1:], [0]])
        partial, logp = np.zeros(1, dtype=int), np.zeros(1)
        for n_i, after in zip(sizes, rest, strict=True):
            xs = np.arange(min(n_i, total) + 1)
            s = partial[:, None] + xs[None, :]
            lp = logp[:, None] + _log_choose(n_i, xs)[None, :]
            keep = (s <= total) & (s + after >= total)
            partial, logp = s[keep], lp[keep]
        logp -= float(_log_choose(sizes.sum(), total))
        observed -= float(_log_choose(sizes.sum(), total))
        probs = np.exp(logp)
        return float(min(1.0, probs[logp <= observed + tolerance].sum())), "exact"
    rng = np.random.default_rng(seed)
    drawn = rng.multivariate_hypergeometric(sizes, total, size=draws)
    logp = _log_choose(sizes[None, :], drawn).sum(axis=1)
    hits = int((logp <= observed + tolerance).sum())
    return (1 + hits) / (draws + 1), "monte_carlo"


def independence_test(table) -> dict:
    """test, statistic, dof, p_val, n for an r x 2 table of counts (rows: groups; columns: 0, 1).

    chi2: every expected count >= 5; fisher: a 2 x 2 table otherwise (statistic: the odds ratio);
    fisher_freeman_halton (exact) or fisher_freeman_halton_mc (Monte Carlo) for larger sparse tables
    (statistic: Pearson's X^2, shown for reference; the p-value is the exact test's)."""
    t = np.asarray(table, dtype=int)
    chi2, p, dof, expected = chi2_contingency(t, correction=False)
    n = int(t.sum())
    if not (expected < 5).any():
        return {"test": "chi2", "statistic": chi2, "dof": dof, "p_val": p, "n": n}
    if t.shape == (2, 2):
        stat, p = fisher_exact(t)
        return {"test": "fisher", "statistic": stat, "dof": 1, "p_val": p, "n": n}
    p, how = freeman_halton_rx2(t)
    return {"test": "fisher_freeman_halton" if how == "exact" else "fisher_freeman_halton_mc",
            "statistic": chi2, "dof": dof, "p_val": p, "n": n}


def group_keys(values: pd.Series) -> pd.Series:
    """Group labels as stripped text, "" for a missing or blank value — the same under pandas 2 and 3
    (``astype(str)`` turns a missing value into the group "nan" under pandas 2)."""
    return values.astype("string").str.strip().fillna("").astype(object)


def compare_groups(sites: pd.DataFrame, group_col: str, channels, method: str = "wilson", conf: float = 0.95,
                   min_n: int = 1) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(table, tests). table: group_var, group, channel, k, n, estimate, ci_low, ci_high;
    tests: channel, test (see :func:`independence_test`), statistic, dof, p_val, n, p_holm, p_bh (adjusted
    across the channels)."""
    check_group_column(sites, group_col)
    frame = ok_sites(sites)
    frame = frame[group_keys(frame[group_col]) != ""]
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
        tests.append({"channel": ch, **independence_test(table.values)})
    return pd.DataFrame(rows), add_adjusted(pd.DataFrame(tests), "p_val")


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
    values = group_keys(ok_sites(sites)[group_col])
    sizes = values[values != ""].value_counts()
    small = sorted(str(g) for g in sizes[sizes < min_n].index)
    if len(small) < 2 or len(small) == len(sizes):  # one small group, or nothing large left to compare with
        return sites, []
    out = sites.copy()
    keys = group_keys(out[group_col])
    out[group_col] = out[group_col].where(~(keys.isin(small) & (keys != "")), other)
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
