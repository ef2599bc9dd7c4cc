"""Two or more audits of the same companies: pairing by domain, McNemar, Newcombe, Cochran's Q.

A site of one audit is paired with the site of another audit that has the same registrable domain
(``www.firm.ru`` and ``firm.ru/contacts`` are one company; an IP literal keeps its port). Only pairs
audited (status ``ok``) in both waves enter the statistics; every other site is listed in the
unpaired table with the reason.

For one channel, the paired 2x2 table of a site's flag before (rows) and after (columns) is::

                 after 1   after 0
    before 1        a      dropped
    before 0     adopted      d

* ``diff`` = after - before = (adopted - dropped) / n, with Newcombe's (1998) square-and-add
  interval for paired data (his method 10: Wilson limits of the two shares combined with the
  continuity-corrected correlation phi);
* ``p_val``: McNemar's exact test, two-sided, conditional on the discordant pairs
  (adopted ~ Binomial(adopted + dropped, 1/2) when nothing changes on average), or its mid-p
  version (Fagerland, Lydersen & Laake 2013), which is closer to the nominal level;
* more than two waves: Cochran's (1950) Q over the sites audited in every wave.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import binom, chi2

from chanaudit.analysis.intervals import wilson
from chanaudit.analysis.multiplicity import add_adjusted
from chanaudit.core.contract import CHANNELS, OK
from chanaudit.core.errors import ChanauditError
from chanaudit.crawler.urls import InvalidSiteInput, normalize_site_url, site_key

COMPARE_COLUMNS = ["channel", "n_pairs", "before", "after", "adopted", "dropped", "diff", "ci_low", "ci_high",
                   "p_val", "test", "p_holm", "p_bh"]
UNPAIRED_COLUMNS = ["wave", "folder", "site_id", "domain", "url", "status", "reason"]
COCHRAN_COLUMNS = ["channel", "n_sites", "n_waves", "statistic", "dof", "p_val", "test", "p_holm", "p_bh"]
WAVES_COLUMNS = ["channel", "wave", "folder", "k", "n", "estimate", "ci_low", "ci_high"]
#: Columns tried, in order, for a site's domain (an explicit ``domain`` column first).
KEY_COLUMNS = ("domain", "final_url", "url", "input")


class PairingError(ChanauditError, ValueError):
    """Audits that cannot be compared: fewer than two, a missing key column, no pair at all."""


# --- the statistics ------------------------------------------------------------------------------------------

def mcnemar_exact(adopted: int, dropped: int, mid_p: bool = False) -> float:
    """Two-sided McNemar exact conditional p-value: 2 * P(X <= min) for X ~ Bin(adopted + dropped, 1/2),
    capped at 1; ``mid_p`` subtracts P(X = min) (Fagerland et al. 2013, eq. 6). No discordant pair: 1."""
    m = int(adopted) + int(dropped)
    low = min(int(adopted), int(dropped))
    if m == 0:
        return 1.0
    p = 2 * float(binom.cdf(low, m, 0.5))
    if mid_p:
        p -= float(binom.pmf(low, m, 0.5))
    return min(1.0, p)


def newcombe_paired(n11: int, n12: int, n21: int, n22: int, conf: float = 0.95) -> tuple[float, float, float]:
    """(p1 - p2, low, high) for paired shares p1 = (n11 + n12)/N (rows) and p2 = (n11 + n21)/N (columns):
    Newcombe's (1998) method 10, the square-and-add interval with the corrected correlation

        phi = (A - N/2) / sqrt(n1+ n2+ n+1 n+2) if A > N/2;  0 if 0 <= A <= N/2;  A / sqrt(...) if A < 0,

    where A = n11 n22 - n12 n21 (phi = 0 when a margin is empty)."""
    n = n11 + n12 + n21 + n22
    if n == 0:
        return math.nan, math.nan, math.nan
    r1, r2, c1, c2 = n11 + n12, n21 + n22, n11 + n21, n12 + n22
    p1, p2 = r1 / n, c1 / n
    l1, u1 = wilson(r1, n, conf)
    l2, u2 = wilson(c1, n, conf)
    if min(r1, r2, c1, c2) == 0:
        phi = 0.0
    else:
        a = n11 * n22 - n12 * n21
        root = math.sqrt(r1 * r2 * c1 * c2)
        phi = (a - n / 2) / root if a > n / 2 else (0.0 if a >= 0 else a / root)
    d = p1 - p2
    dl = math.sqrt(max(0.0, (p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2))
    du = math.sqrt(max(0.0, (u1 - p1) ** 2 - 2 * phi * (u1 - p1) * (p2 - l2) + (p2 - l2) ** 2))
    return d, max(-1.0, d - dl), min(1.0, d + du)


def cochrans_q(flags: np.ndarray) -> tuple[float, int, float]:
    """(Q, dof, p) of Cochran's Q for an (n sites x k waves) 0/1 array:

        Q = (k - 1) * (k * sum_j C_j^2 - T^2) / (k * T - sum_i R_i^2),  chi-square with k - 1 dof,

    with C_j the column (wave) totals, R_i the row (site) totals and T the grand total. When no site
    changes between waves (the denominator is 0) the conditional test is degenerate: Q = 0, p = 1."""
    x = np.asarray(flags, dtype=float)
    k = x.shape[1]
    cols, rows = x.sum(axis=0), x.sum(axis=1)
    total = rows.sum()
    denom = k * total - (rows ** 2).sum()
    if denom == 0:
        return 0.0, k - 1, 1.0
    q = (k - 1) * (k * (cols ** 2).sum() - total ** 2) / denom
    return float(q), k - 1, float(chi2.sf(q, k - 1))


# --- pairing --------------------------------------------------------------------------------------------------

def domain_of(value) -> str:
    """``https://www.Firm.ru/contacts`` -> ``firm.ru`` (an IP literal keeps its port); "" when not a site."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return ""
    text = str(value).strip()
    if not text:
        return ""
    try:
        return site_key(normalize_site_url(text))
    except (InvalidSiteInput, ValueError):
        return ""


def site_domains(sites: pd.DataFrame, key: str | None = None) -> pd.Series:
    """The pairing key of every row: ``key`` when given, else the first of domain, final_url, url, input
    that yields a domain."""
    if key is not None:
        if key not in sites:
            raise PairingError(f"no column {key!r} to pair by (columns: {', '.join(map(str, sites.columns))})")
        return sites[key].map(domain_of)
    out = pd.Series("", index=sites.index, dtype=object)
    for col in KEY_COLUMNS:
        if col in sites:
            missing = out == ""
            out[missing] = sites.loc[missing, col].map(domain_of)
    return out


def _wave_rows(sites: pd.DataFrame, wave: int, folder: str, key: str | None) -> tuple[pd.DataFrame, list[dict]]:
    """(ok rows keyed by domain, unpaired records) of one wave: rows without a domain, not ok, or a
    repeated domain (the first ok row of a domain is kept) are set aside with the reason."""
    frame = sites.copy()
    frame["_domain"] = site_domains(frame, key).to_numpy()
    status = frame["status"].astype("string").fillna("") if "status" in frame else pd.Series(OK, index=frame.index)
    frame["_ok"] = status.eq(OK).fillna(False).to_numpy(dtype=bool)  # plain bools (pandas 2.1: object array)
    lost = []

    def record(row, reason):
        lost.append({"wave": wave, "folder": folder, "site_id": row.get("site_id"), "domain": row["_domain"],
                     "url": row.get("url") if "url" in row else row.get("input"), "status": row.get("status"),
                     "reason": reason})

    for _, row in frame[frame["_domain"] == ""].iterrows():
        record(row, "no domain")
    keyed = frame[frame["_domain"] != ""]
    ok = keyed[keyed["_ok"]]
    dup = ok["_domain"].duplicated(keep="first")
    for _, row in ok[dup].iterrows():
        record(row, f"duplicate domain in wave {wave}")
    ok = ok[~dup]
    not_ok = keyed[~keyed["_ok"]]
    repeated = not_ok["_domain"].isin(set(ok["_domain"])) | not_ok["_domain"].duplicated(keep="first")
    for _, row in not_ok[repeated].iterrows():
        record(row, f"duplicate domain in wave {wave}")
    failed = not_ok[~repeated]
    for ch in CHANNELS:
        if ch in ok:
            ok[ch] = pd.to_numeric(ok[ch], errors="coerce")
    return ok.set_index("_domain"), lost + [{"_failed": row} for _, row in failed.iterrows()]


def pair_waves(waves: Sequence[pd.DataFrame], folders: Sequence[str] | None = None,
               key: str | None = None) -> tuple[list[pd.DataFrame], pd.DataFrame]:
    """(ok rows of each wave restricted to the domains ok in every wave, in one order; unpaired table).

    The unpaired table (``wave, folder, site_id, domain, url, status, reason``) lists every input row
    that is not in a pair: ``no domain``, ``duplicate domain in wave i``, ``not ok in wave i`` (audited
    in a wave but failed there) and ``only in wave i`` / ``missing from wave j`` (not in the other
    audit at all)."""
    if len(waves) < 2:
        raise PairingError("give at least two audits to compare")
    folders = list(folders or [f"wave {i + 1}" for i in range(len(waves))])
    keyed, lost, failed_by_wave = [], [], []
    for i, sites in enumerate(waves, start=1):
        ok, records = _wave_rows(sites, i, folders[i - 1], key)
        keyed.append(ok)
        lost += [r for r in records if "_failed" not in r]
        failed_by_wave.append([r["_failed"] for r in records if "_failed" in r])
    ok_sets = [set(k.index) for k in keyed]
    seen_sets = [s | {row["_domain"] for row in f} for s, f in zip(ok_sets, failed_by_wave, strict=True)]
    common = set.intersection(*ok_sets)
    for i, (ok, failed) in enumerate(zip(keyed, failed_by_wave, strict=True), start=1):
        others = [j for j in range(1, len(waves) + 1) if j != i]
        for dom, row in ok.iterrows():
            if dom in common:
                continue
            absent = [j for j in others if dom not in seen_sets[j - 1]]
            not_ok = [j for j in others if dom in seen_sets[j - 1] and dom not in ok_sets[j - 1]]
            lost.append({"wave": i, "folder": folders[i - 1], "site_id": row.get("site_id"), "domain": dom,
                         "url": row.get("url") if "url" in row else row.get("input"), "status": row.get("status"),
                         "reason": _reason(i, absent, not_ok, len(waves))})
        for row in failed:
            lost.append({"wave": i, "folder": folders[i - 1], "site_id": row.get("site_id"),
                         "domain": row["_domain"], "url": row.get("url") if "url" in row else row.get("input"),
                         "status": row.get("status"), "reason": f"not ok in wave {i}"})
    order = sorted(common)
    paired = [k.loc[order] for k in keyed]
    unpaired = pd.DataFrame(lost, columns=UNPAIRED_COLUMNS)
    unpaired = unpaired.sort_values(["wave", "domain"], kind="mergesort").reset_index(drop=True)
    return paired, unpaired


def _reason(wave: int, absent: list[int], not_ok: list[int], n_waves: int) -> str:
    if n_waves == 2 and absent:
        return f"only in wave {wave}"
    if absent:
        return "missing from wave " + ", ".join(map(str, absent))
    return "not ok in wave " + ", ".join(map(str, not_ok))


# --- the tables -----------------------------------------------------------------------------------------------

def compare_pairs(before: pd.DataFrame, after: pd.DataFrame, channels=CHANNELS, conf: float = 0.95,
                  mid_p: bool = False) -> pd.DataFrame:
    """One row per channel over the pairs with the flag known in both waves: the columns of
    :data:`COMPARE_COLUMNS` (``p_holm`` and ``p_bh`` adjust across the channels)."""
    rows = []
    for ch in channels:
        b = pd.to_numeric(before[ch], errors="coerce") if ch in before else pd.Series(np.nan, index=before.index)
        a = pd.to_numeric(after[ch], errors="coerce").reindex(b.index) if ch in after else b * np.nan
        known = b.notna() & a.notna()
        b, a = b[known].astype(int), a[known].astype(int)
        n = int(known.sum())
        both = int(((b == 1) & (a == 1)).sum())
        adopted = int(((b == 0) & (a == 1)).sum())
        dropped = int(((b == 1) & (a == 0)).sum())
        neither = n - both - adopted - dropped
        diff, low, high = newcombe_paired(both, adopted, dropped, neither, conf)
        rows.append({"channel": ch, "n_pairs": n, "before": (both + dropped) / n if n else math.nan,
                     "after": (both + adopted) / n if n else math.nan, "adopted": adopted, "dropped": dropped,
                     "diff": diff, "ci_low": low, "ci_high": high,
                     "p_val": mcnemar_exact(adopted, dropped, mid_p) if n else math.nan,
                     "test": ("mcnemar_midp" if mid_p else "mcnemar_exact") if n else "none"})
    return add_adjusted(pd.DataFrame(rows), "p_val").reindex(columns=COMPARE_COLUMNS)


def cochran_waves(paired: Sequence[pd.DataFrame], folders: Sequence[str], channels=CHANNELS,
                  conf: float = 0.95) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(cochran, waves): Cochran's Q per channel over the sites ok in every wave, and the share of each
    wave on those same sites (Wilson interval)."""
    tests, shares = [], []
    for ch in channels:
        cols = [pd.to_numeric(w[ch], errors="coerce") if ch in w else pd.Series(np.nan, index=w.index)
                for w in paired]
        flags = pd.concat(cols, axis=1)
        flags = flags[flags.notna().all(axis=1)].astype(int).to_numpy()
        n = len(flags)
        if n:
            q, dof, p = cochrans_q(flags)
        else:
            q, dof, p = math.nan, len(paired) - 1, math.nan
        tests.append({"channel": ch, "n_sites": n, "n_waves": len(paired), "statistic": q, "dof": dof,
                      "p_val": p, "test": "cochran_q" if n else "none"})
        for j, folder in enumerate(folders):
            k = int(flags[:, j].sum()) if n else 0
            low, high = wilson(k, n) if n else (math.nan, math.nan)
            shares.append({"channel": ch, "wave": j + 1, "folder": folder, "k": k, "n": n,
                           "estimate": k / n if n else math.nan, "ci_low": low, "ci_high": high})
    cochran = add_adjusted(pd.DataFrame(tests), "p_val").reindex(columns=COCHRAN_COLUMNS)
    return cochran, pd.DataFrame(shares, columns=WAVES_COLUMNS)


@dataclass
class Comparison:
    """The tables of a comparison; ``cochran`` and ``waves`` only for three waves or more."""
    compare: pd.DataFrame
    unpaired: pd.DataFrame
    cochran: pd.DataFrame | None = None
    waves: pd.DataFrame | None = None
    folders: list[str] = field(default_factory=list)
    written: list[Path] = field(default_factory=list)


def compare_waves(waves: Sequence[pd.DataFrame], folders: Sequence[str] | None = None, channels=CHANNELS,
                  conf: float = 0.95, mid_p: bool = False, key: str | None = None) -> Comparison:
    """First wave against the last (``compare``), the unpaired sites, and with three waves or more
    Cochran's Q over the sites ok in every wave. With more than two waves the first-vs-last table is
    computed on the pairs ok in those two waves (more pairs than the sites ok everywhere)."""
    folders = list(folders or [f"wave {i + 1}" for i in range(len(waves))])
    paired, unpaired = pair_waves(waves, folders, key)
    cochran = shares = None
    if len(waves) > 2:
        cochran, shares = cochran_waves(paired, folders, channels, conf)
        ends, _ = pair_waves([waves[0], waves[-1]], [folders[0], folders[-1]], key)
    else:
        ends = paired
    if not len(ends[0]):
        raise PairingError("no site is audited (status ok) with the same domain in "
                           f"{folders[0]} and {folders[-1]}: nothing to compare")
    return Comparison(compare_pairs(ends[0], ends[-1], channels, conf, mid_p), unpaired, cochran, shares, folders)


def compare_audits(folders: Sequence[str | Path], out: str | Path, conf: float = 0.95, mid_p: bool = False,
                   key: str | None = None, overrides: Sequence[str | Path | None] | None = None) -> Comparison:
    """Read the audit folders (oldest first), compare them and write ``compare.csv``, ``unpaired.csv`` and,
    for three waves or more, ``cochran.csv`` and ``waves.csv`` into ``out``.

    ``overrides`` gives, in the order of the folders, each audit's file of human decisions (None or ``-``: none
    for that audit); every table then has a column ``overridden``: the values the reviews changed among the
    sites paired (per channel, both waves)."""
    from chanaudit.core.errors import InvalidOption
    from chanaudit.core.folder import AuditFolder
    from chanaudit.core.overrides import apply_to_folder

    audits = [AuditFolder(f) for f in folders]
    if len(audits) < 2:
        raise PairingError("give at least two audit folders to compare (oldest first)")
    files = [None if f in (None, "", "-") else f for f in (overrides or [])]
    if overrides and len(files) != len(audits):
        raise InvalidOption(f"--overrides: {len(files)} files for {len(audits)} audits; give one per audit, in the "
                            "order of the audits ('-' for an audit without)")
    waves, changed = [], []
    for i, audit in enumerate(audits):
        if files and files[i] is not None:
            applied = apply_to_folder(audit, files[i], "compare")
            waves.append(applied.sites)
            changed.append(applied.decisions[applied.decisions["changed"] == 1])
        else:
            waves.append(audit.read_sites())
            changed.append(pd.DataFrame(columns=["site_id", "channel"]))
    result = compare_waves(waves, [str(a) for a in audits], conf=conf, mid_p=mid_p, key=key)
    if any(f is not None for f in files):
        result = _annotate(result, waves, changed, key)
    target = AuditFolder(out)
    result.written.append(target.write(AuditFolder.COMPARE, result.compare))
    result.written.append(target.write(AuditFolder.UNPAIRED, result.unpaired))
    if result.cochran is not None:
        result.written.append(target.write(AuditFolder.COCHRAN, result.cochran))
        result.written.append(target.write(AuditFolder.WAVES, result.waves))
    return result


def _annotate(result: Comparison, waves: Sequence[pd.DataFrame], changed: Sequence[pd.DataFrame],
              key: str | None) -> Comparison:
    """Every table of ``result`` with ``overridden``: the channel values changed by review among the sites in the
    comparison (those paired in ``compare``; per channel where the table has one)."""
    per: dict[str, int] = dict.fromkeys(CHANNELS, 0)
    paired_domains = set.intersection(*[set(site_domains(w, key)[w["status"].astype(str).eq(OK)])
                                        if "status" in w else set(site_domains(w, key)) for w in waves])
    for sites, decided in zip(waves, changed, strict=True):
        domains = dict(zip(sites["site_id"], site_domains(sites, key), strict=True))
        for sid, ch in zip(decided["site_id"], decided["channel"], strict=True):
            if domains.get(sid) in paired_domains:
                per[ch] = per.get(ch, 0) + 1
    total = sum(per.values())

    def mark(table: pd.DataFrame | None) -> pd.DataFrame | None:
        if table is None:
            return None
        table = table.copy()
        table["overridden"] = table["channel"].map(per).fillna(total).astype(int) if "channel" in table else total
        return table

    result.compare, result.unpaired = mark(result.compare), mark(result.unpaired)
    result.cochran, result.waves = mark(result.cochran), mark(result.waves)
    return result
