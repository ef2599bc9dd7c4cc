"""Validation of an audit against a human-coded sample.

``draw_sample`` draws a stratified random sample of the audited sites (proportional allocation by
the largest remainder, optionally at least m sites per stratum, seeded) and returns a blind coding
sheet — the site and empty channel columns, never the detector's answer — and a key with each
site's stratum and inclusion probability.

``validate`` joins the coder's 1/0 labels to the audit by domain and gives, per channel (labels as
the truth, the detector as the test):

* precision tp/(tp+fp), recall (sensitivity) tp/(tp+fn) and specificity tn/(tn+fp), each with a
  Wilson interval;
* Cohen's (1960) kappa with the large-sample standard error of Fleiss, Cohen & Everitt (1969) and a
  Wald interval, and PABAK = 2 po - 1 (Byrt, Bishop & Carlin 1993), the kappa a table with balanced
  margins would have — kappa is low when a channel is nearly everywhere (email) even with few errors;
* the channel's share in the whole audit corrected for misclassification (Rogan & Gladen 1978):
  (p_raw + sp - 1) / (se + sp - 1), clipped to [0, 1], with Lang & Reiczigel's (2014) adjusted Wald
  interval, which adds the uncertainty of se and sp estimated from the sample. Their method assumes the
  validation sample independent of the prevalence sample; here it is a small part of the audit, which
  the interval ignores. The sample is stratified with proportional allocation, so it is about
  self-weighting; se and sp are computed unweighted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import norm

from chanaudit.analysis.intervals import wilson
from chanaudit.analysis.paired import domain_of, site_domains
from chanaudit.analysis.prevalence import ok_sites
from chanaudit.core.contract import CHANNELS
from chanaudit.core.errors import ChanauditError

VALIDATION_COLUMNS = ["channel", "n", "tp", "fp", "fn", "tn", "precision", "precision_ci_low", "precision_ci_high",
                      "recall", "recall_ci_low", "recall_ci_high", "kappa", "kappa_ci_low", "kappa_ci_high", "pabak",
                      "specificity", "specificity_ci_low", "specificity_ci_high"]
CORRECTED_COLUMNS = ["channel", "k", "n", "raw", "raw_ci_low", "raw_ci_high", "sensitivity", "specificity",
                     "n_sensitivity", "n_specificity", "corrected", "ci_low", "ci_high", "method"]
KEY_COLUMNS = ["sample_id", "site_id", "domain", "stratum", "stratum_size", "stratum_sample", "inclusion_prob",
               "weight", "seed"]
TRUE_VALUES = {"1", "1.0", "yes", "да", "true"}
FALSE_VALUES = {"0", "0.0", "no", "нет", "false"}


class SampleError(ChanauditError, ValueError):
    """A sample that cannot be drawn: more sites asked for than audited, a missing stratum column."""


class LabelsError(ChanauditError, ValueError):
    """A labels file that cannot be used; the message names the file and line of every problem."""


# --- statistics -----------------------------------------------------------------------------------------------

def cohen_kappa(tp: int, fp: int, fn: int, tn: int, conf: float = 0.95) -> tuple[float, float, float, float]:
    """(kappa, se, ci_low, ci_high) for a 2 x 2 agreement table. The standard error is the large-sample
    one of Fleiss, Cohen & Everitt (1969):

        var = [sum_i p_ii (1 - (p_i. + p_.i)(1 - k))^2 + (1 - k)^2 sum_{i!=j} p_ij (p_.i + p_j.)^2
               - (k - pe (1 - k))^2] / (n (1 - pe)^2).

    NaN when both raters put every site in one class (pe = 1)."""
    n = tp + fp + fn + tn
    if n == 0:
        return (math.nan,) * 4
    p = np.array([[tp, fp], [fn, tn]], dtype=float) / n  # rows: detector 1/0; columns: coder 1/0
    rows, cols = p.sum(axis=1), p.sum(axis=0)
    po, pe = float(np.trace(p)), float(rows @ cols)
    if pe >= 1:
        return (math.nan,) * 4
    k = (po - pe) / (1 - pe)
    diag = sum(p[i, i] * (1 - (rows[i] + cols[i]) * (1 - k)) ** 2 for i in range(2))
    off = (1 - k) ** 2 * sum(p[i, j] * (cols[i] + rows[j]) ** 2 for i in range(2) for j in range(2) if i != j)
    var = (diag + off - (k - pe * (1 - k)) ** 2) / (n * (1 - pe) ** 2)
    se = math.sqrt(max(var, 0.0))
    z = float(norm.ppf(1 - (1 - conf) / 2))
    return k, se, max(-1.0, k - z * se), min(1.0, k + z * se)


def rogan_gladen(k: int, n: int, tp: int, n_sens: int, tn: int, n_spec: int,
                 conf: float = 0.95) -> tuple[float, float, float]:
    """(corrected share, low, high): Rogan–Gladen's estimate (p + sp - 1)/(se + sp - 1) clipped to [0, 1]
    with Lang & Reiczigel's (2014) interval: add z^2/2 positives and z^2/2 negatives to the prevalence
    sample and one of each to the sensitivity and specificity samples, take the delta-method standard
    error of the adjusted estimate, shift the centre by
    2 z^2 (p' se'(1 - se')/n_se' - (1 - p') sp'(1 - sp')/n_sp') and clip to [0, 1].
    NaN when se + sp <= 1 (the test is no better than chance) or a sample is empty."""
    if min(n, n_sens, n_spec) <= 0:
        return (math.nan,) * 3
    p, se, sp = k / n, tp / n_sens, tn / n_spec
    if se + sp <= 1:
        return (math.nan,) * 3
    est = min(1.0, max(0.0, (p + sp - 1) / (se + sp - 1)))
    z = float(norm.ppf(1 - (1 - conf) / 2))
    n_, p_ = n + z * z, (k + z * z / 2) / (n + z * z)
    ns_, se_ = n_sens + 2, (tp + 1) / (n_sens + 2)
    nc_, sp_ = n_spec + 2, (tn + 1) / (n_spec + 2)
    youden = se_ + sp_ - 1
    est_ = (p_ + sp_ - 1) / youden
    sd = math.sqrt(p_ * (1 - p_) / n_ + se_ * (1 - se_) / ns_ * est_ ** 2
                   + sp_ * (1 - sp_) / nc_ * (1 - est_) ** 2) / abs(youden)
    shift = 2 * z * z * (est_ * se_ * (1 - se_) / ns_ - (1 - est_) * sp_ * (1 - sp_) / nc_)
    low = min(1.0, max(0.0, est_ + shift - z * sd))
    high = min(1.0, max(0.0, est_ + shift + z * sd))
    return est, low, high


def _ratio(a: int, b: int, conf: float) -> tuple[float, float, float]:
    if b == 0:
        return math.nan, math.nan, math.nan
    low, high = wilson(a, b, conf)
    return a / b, low, high


def agreement(found: pd.Series, truth: pd.Series, conf: float = 0.95) -> dict:
    """The counts and statistics of :data:`VALIDATION_COLUMNS` (without ``channel``) for two 0/1 series."""
    f, t = found.astype(int), truth.astype(int)
    tp, fp = int(((f == 1) & (t == 1)).sum()), int(((f == 1) & (t == 0)).sum())
    fn, tn = int(((f == 0) & (t == 1)).sum()), int(((f == 0) & (t == 0)).sum())
    n = tp + fp + fn + tn
    precision = _ratio(tp, tp + fp, conf)
    recall = _ratio(tp, tp + fn, conf)
    specificity = _ratio(tn, tn + fp, conf)
    kappa, _, k_low, k_high = cohen_kappa(tp, fp, fn, tn, conf)
    return {"n": n, "tp": tp, "fp": fp, "fn": fn, "tn": tn,
            "precision": precision[0], "precision_ci_low": precision[1], "precision_ci_high": precision[2],
            "recall": recall[0], "recall_ci_low": recall[1], "recall_ci_high": recall[2],
            "kappa": kappa, "kappa_ci_low": k_low, "kappa_ci_high": k_high,
            "pabak": 2 * (tp + tn) / n - 1 if n else math.nan,
            "specificity": specificity[0], "specificity_ci_low": specificity[1],
            "specificity_ci_high": specificity[2]}


# --- the sample -----------------------------------------------------------------------------------------------

def allocate(sizes: pd.Series, n: int, min_per_stratum: int = 0) -> pd.Series:
    """Sample size per stratum: proportional to the stratum sizes, rounded by the largest remainder
    (Hamilton), at least ``min_per_stratum`` (or the whole stratum when smaller), never more than the
    stratum. The sizes sum to ``n``."""
    sizes = sizes.astype(int)
    total = int(sizes.sum())
    if n > total:
        raise SampleError(f"--n {n}: only {total} audited sites to sample from")
    floor = sizes.clip(upper=min_per_stratum)
    if floor.sum() > n:
        raise SampleError(f"--min-per-stratum {min_per_stratum} x {len(sizes)} strata needs {int(floor.sum())} "
                          f"sites, more than --n {n}")
    fixed = pd.Series(False, index=sizes.index)
    alloc = floor.copy()
    while True:
        free = ~fixed
        left = n - int(alloc[fixed].sum())
        quota = sizes[free] / sizes[free].sum() * left if sizes[free].sum() else sizes[free] * 0.0
        base = np.floor(quota).astype(int)
        extra = left - int(base.sum())
        order = (quota - base).sort_values(ascending=False, kind="mergesort").index[:extra]
        base[order] += 1
        low = free & (base.reindex(sizes.index, fill_value=0) < floor)
        high = free & (base.reindex(sizes.index, fill_value=0) > sizes)
        if not (low.any() or high.any()):
            alloc[free] = base
            return alloc.astype(int)
        alloc[low] = floor[low]
        alloc[high] = sizes[high]
        fixed |= low | high


@dataclass
class Sample:
    sheet: pd.DataFrame  # the blind coding sheet
    key: pd.DataFrame  # sample_id -> site_id, stratum, inclusion probability
    allocation: pd.DataFrame  # stratum, stratum_size, stratum_sample
    written: list[Path] = field(default_factory=list)


def draw_sample(sites: pd.DataFrame, n: int, by: list[str] | None = None, seed: int = 0,
                min_per_stratum: int = 0, channels=CHANNELS) -> Sample:
    """A stratified random sample of the audited (status ok) sites, strata = the combinations of ``by``
    (missing values are a stratum of their own). Sites are ordered by domain within a stratum before the
    seeded draw, so the same audit and seed give the same sample; the sheet lists the sample in random
    order under a ``sample_id``."""
    frame = ok_sites(sites).copy()
    by = list(by or [])
    for col in by:
        if col not in frame:
            raise SampleError(f"no column {col!r} to stratify by (columns: {', '.join(map(str, frame.columns))})")
    frame["_domain"] = site_domains(frame).to_numpy()
    frame["_stratum"] = (frame[by].astype("string").fillna("(missing)").agg(" / ".join, axis=1)
                         if by else pd.Series("all", index=frame.index))
    frame = frame.sort_values(["_stratum", "_domain", *(["site_id"] if "site_id" in frame else [])],
                              kind="mergesort")
    sizes = frame.groupby("_stratum").size()
    alloc = allocate(sizes, n, min_per_stratum)
    rng = np.random.default_rng(seed)
    chosen = []
    for stratum in sizes.index:
        part = frame[frame["_stratum"] == stratum]
        take = int(alloc[stratum])
        if take:
            chosen.append(part.iloc[np.sort(rng.choice(len(part), take, replace=False))])
    picked = pd.concat(chosen) if chosen else frame.iloc[0:0]
    picked = picked.iloc[rng.permutation(len(picked))].reset_index(drop=True)
    picked["sample_id"] = np.arange(1, len(picked) + 1)
    url = picked["final_url"].where(picked["final_url"].notna(), picked.get("url")) if "final_url" in picked \
        else picked.get("url", picked.get("input"))
    sheet = pd.DataFrame({"sample_id": picked["sample_id"], "domain": picked["_domain"], "url": url})
    if "name" in picked:
        sheet["name"] = picked["name"]
    for col in by:
        sheet[col] = picked[col]
    for ch in channels:
        sheet[ch] = ""  # for the coder: 1 or 0; the detector's answer is not on the sheet
    sheet["notes"] = ""
    size_of, take_of = picked["_stratum"].map(sizes), picked["_stratum"].map(alloc)
    key = pd.DataFrame({"sample_id": picked["sample_id"], "site_id": picked.get("site_id"),
                        "domain": picked["_domain"], "stratum": picked["_stratum"], "stratum_size": size_of,
                        "stratum_sample": take_of, "inclusion_prob": take_of / size_of,
                        "weight": size_of / take_of, "seed": seed}, columns=KEY_COLUMNS)
    allocation = pd.DataFrame({"stratum": sizes.index, "stratum_size": sizes.to_numpy(),
                               "stratum_sample": alloc.reindex(sizes.index).to_numpy()})
    return Sample(sheet, key, allocation)


def sample_audit(audit: str | Path, out: str | Path, n: int, by: list[str] | None = None, seed: int = 0,
                 min_per_stratum: int = 0) -> Sample:
    """Draw the sample from an audit folder and write ``coding_sheet.csv``, ``coding_sheet.xlsx`` and
    ``sample_key.csv`` into ``out``."""
    from chanaudit.core.folder import AuditFolder

    sample = draw_sample(AuditFolder(audit).read_sites(), n, by, seed, min_per_stratum)
    target = AuditFolder(out)
    sample.written.append(target.write(AuditFolder.CODING_SHEET, sample.sheet))
    xlsx = target.path / f"{AuditFolder.CODING_SHEET}.xlsx"
    _write_xlsx(sample.sheet, xlsx)
    sample.written.append(xlsx)
    sample.written.append(target.write(AuditFolder.SAMPLE_KEY, sample.key))
    return sample


def _write_xlsx(frame: pd.DataFrame, path: Path) -> None:
    """The coding sheet for a spreadsheet; text cells starting with = + - @ are written as text."""
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "coding"
    sheet.append([str(c) for c in frame.columns])
    for row in frame.itertuples(index=False):
        cells = []
        for value in row:
            if value is None or (isinstance(value, float) and math.isnan(value)):
                cells.append(None)
            elif isinstance(value, str | int | float) and not isinstance(value, bool):
                cells.append(value if not isinstance(value, np.generic) else value.item())
            else:
                cells.append(str(value))
        sheet.append(cells)
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            if isinstance(cell.value, str) and cell.value[:1] in ("=", "+", "-", "@"):
                cell.data_type = "s"
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)


# --- the labels -----------------------------------------------------------------------------------------------

def read_labels(path: str | Path, channels=CHANNELS) -> pd.DataFrame:
    """The coder's labels (CSV or XLSX): a ``domain`` or ``url`` column and 1/0 channel columns (blank: not
    coded). Returns ``line, domain`` and the channels present as nullable 0/1; :class:`LabelsError` names the
    file and line of every bad cell, unknown site key and repeated site."""
    from chanaudit.core.tables import read_table

    read = read_table(path)
    frame = read.frame
    cols = {str(c).strip().lower(): c for c in frame.columns}
    keycol = cols.get("domain") or cols.get("url")
    if keycol is None:
        raise LabelsError(f"{path}: no 'domain' or 'url' column (columns: {', '.join(map(str, frame.columns))})")
    present = [ch for ch in channels if ch in cols]
    if not present:
        raise LabelsError(f"{path}: no channel column ({', '.join(channels)})")
    problems, out, seen = [], [], {}
    for (_, row), line in zip(frame.iterrows(), read.lines, strict=True):
        domain = domain_of(row[keycol])
        if not domain:
            problems.append(f"{path}:{line}: {keycol} {str(row[keycol])!r} is not a site")
            continue
        if domain in seen:
            problems.append(f"{path}:{line}: {domain} again (first on line {seen[domain]})")
            continue
        seen[domain] = line
        rec = {"line": line, "domain": domain}
        for ch in present:
            cell = str(row[cols[ch]]).strip().lower()
            if cell in TRUE_VALUES:
                rec[ch] = 1
            elif cell in FALSE_VALUES:
                rec[ch] = 0
            elif cell in ("", "nan"):
                rec[ch] = pd.NA
            else:
                problems.append(f"{path}:{line}: {ch} = {row[cols[ch]]!r}: not 1, 0 or empty")
        out.append(rec)
    if problems:
        more = f"\n... and {len(problems) - 20} more" if len(problems) > 20 else ""
        raise LabelsError("\n".join(problems[:20]) + more)
    labels = pd.DataFrame(out, columns=["line", "domain", *present])
    for ch in present:
        labels[ch] = labels[ch].astype("Int64")
    return labels


@dataclass
class Validation:
    validation: pd.DataFrame
    corrected: pd.DataFrame
    matched: int
    written: list[Path] = field(default_factory=list)


def validate(sites: pd.DataFrame, labels: pd.DataFrame, conf: float = 0.95, source: str = "labels",
             channels=CHANNELS) -> Validation:
    """Agreement of the audit with the labels (:data:`VALIDATION_COLUMNS`) and the audit's shares corrected
    for misclassification (:data:`CORRECTED_COLUMNS`). Every labelled site must be audited (status ok) in
    ``sites``: :class:`LabelsError` names the lines that are not."""
    audited = ok_sites(sites).copy()
    audited["_domain"] = site_domains(audited).to_numpy()
    audited = audited[audited["_domain"] != ""].drop_duplicates("_domain").set_index("_domain")
    missing = labels[~labels["domain"].isin(audited.index)]
    if len(missing):
        lines = [f"{source}:{r.line}: {r.domain} is not an audited (status ok) site of the audit"
                 for r in missing.itertuples()]
        raise LabelsError("\n".join(lines[:20]) + (f"\n... and {len(lines) - 20} more" if len(lines) > 20 else ""))
    rows, corrected = [], []
    present = [ch for ch in channels if ch in labels]
    for ch in present:
        truth = labels.set_index("domain")[ch]
        truth = truth[truth.notna()]
        found = pd.to_numeric(audited.loc[truth.index, ch], errors="coerce")
        known = found.notna()
        stats = agreement(found[known], truth[known], conf)
        rows.append({"channel": ch, **stats})
        all_flags = pd.to_numeric(audited[ch], errors="coerce").dropna()
        k, n = int(all_flags.sum()), int(len(all_flags))
        raw_low, raw_high = wilson(k, n, conf) if n else (math.nan, math.nan)
        est, low, high = rogan_gladen(k, n, stats["tp"], stats["tp"] + stats["fn"], stats["tn"],
                                      stats["tn"] + stats["fp"], conf)
        corrected.append({"channel": ch, "k": k, "n": n, "raw": k / n if n else math.nan, "raw_ci_low": raw_low,
                          "raw_ci_high": raw_high, "sensitivity": stats["recall"],
                          "specificity": stats["specificity"], "n_sensitivity": stats["tp"] + stats["fn"],
                          "n_specificity": stats["tn"] + stats["fp"], "corrected": est, "ci_low": low,
                          "ci_high": high, "method": "rogan_gladen_lang_reiczigel"})
    return Validation(pd.DataFrame(rows, columns=VALIDATION_COLUMNS),
                      pd.DataFrame(corrected, columns=CORRECTED_COLUMNS), len(labels))


def is_overrides_file(path: str | Path) -> bool:
    """True for a file of review decisions (columns ``channel`` and ``value``, :mod:`chanaudit.core.overrides`)
    rather than a coding sheet (one column per channel)."""
    from chanaudit.core.tables import read_table

    columns = {str(c).strip().lower() for c in read_table(path).frame.columns}
    return {"channel", "value"} <= columns and not set(CHANNELS) & columns


def labels_from_overrides(audit: str | Path, path: str | Path, channels=CHANNELS) -> pd.DataFrame:
    """The labels of :func:`read_labels` from review decisions: per reviewed site, the value of each channel
    after the decisions (a confirmed or rejected finding, a channel set by hand); channels nobody decided on
    are not coded (NA). The line is the file line of the site's first decision."""
    from chanaudit.core.folder import AuditFolder
    from chanaudit.core.overrides import apply_to_folder

    folder = AuditFolder(audit)
    applied = apply_to_folder(folder, path, "validate", write=False)
    sites = applied.sites
    domain = dict(zip(sites["site_id"].astype(int), site_domains(sites), strict=True))
    lines = {d.site_id: d.line for d in reversed(applied.overrides.decisions)}
    rows: dict[int, dict] = {}
    for r in applied.decisions.itertuples():
        rec = rows.setdefault(int(r.site_id), {"line": lines[int(r.site_id)], "domain": domain[int(r.site_id)]})
        rec[r.channel] = int(r.value)
    labels = pd.DataFrame(sorted(rows.values(), key=lambda rec: rec["line"]), columns=["line", "domain", *channels])
    for ch in channels:
        labels[ch] = labels[ch].astype("Int64")
    return labels


def validate_audit(audit: str | Path, labels_path: str | Path, out: str | Path, conf: float = 0.95) -> Validation:
    """Read the audit folder and the labels file, validate, and write ``validation.csv`` and
    ``prevalence_corrected.csv`` into ``out``. The labels are a coding sheet (:func:`read_labels`) or a file of
    review decisions (an overrides file, :func:`labels_from_overrides`): the reviewer's answer is the truth."""
    from chanaudit.core.folder import AuditFolder

    sites = AuditFolder(audit).read_sites()
    labels = (labels_from_overrides(audit, labels_path) if is_overrides_file(labels_path)
              else read_labels(labels_path))
    result = validate(sites, labels, conf, source=str(labels_path))
    target = AuditFolder(out)
    result.written.append(target.write(AuditFolder.VALIDATION, result.validation))
    result.written.append(target.write(AuditFolder.PREVALENCE_CORRECTED, result.corrected))
    return result
