"""One company against the market: its channels and score beside the audited peers (``chanaudit benchmark``).

The peers are the other audited (status ``ok``) sites of the audit. For the company:

* ``rank``: its competition rank by score among all audited sites (1 = best, ties share a rank);
* ``percentile``: the mid-rank percentile of its score among the peers, 100 x (below + equal / 2) / n —
  the share of peers it beats, ties counted half (so a score in the middle of a tie sits at the tie's
  middle; a company with the market's best score and no tie is at 100);
* per channel: whether it has it, and the share of peers that do, with a Wilson interval; the same among
  the **local peers**: the peers in the company's city (the audit's ``city`` column, else ``region``) or,
  when the audit has neither, with a phone number in the same region (phonenumbers' offline geocoder).

The tables are tidy (:data:`BENCHMARK_COLUMNS`); the chart is drawn by :mod:`chanaudit.reports.charts`.
"""

from __future__ import annotations

import difflib
import math
from collections import Counter
from dataclasses import dataclass, field

import pandas as pd

from chanaudit.analysis.intervals import wilson
from chanaudit.analysis.labels import label
from chanaudit.analysis.paired import domain_of, site_domains
from chanaudit.core.contract import CHANNELS, OK
from chanaudit.core.errors import ChanauditError
from chanaudit.crawler.detectors.phone import region_of

BENCHMARK_COLUMNS = ["metric", "label_en", "label_ru", "company", "market", "market_k", "market_n", "market_ci_low",
                     "market_ci_high", "local", "local_k", "local_n", "local_ci_low", "local_ci_high"]
#: Input columns that say where a company is, tried in order.
PLACE_COLUMNS = ("city", "region")


class BenchmarkError(ChanauditError, ValueError):
    """A company that cannot be benchmarked: not in the audit, or not audited."""


def site_regions(evidence: pd.DataFrame | None, lang: str = "en") -> dict[int, str]:
    """site_id -> the region most of the site's phone numbers are in (the first such number's on a tie); a site
    whose numbers name no region (mobiles, toll-free) has none."""
    if evidence is None or not len(evidence):
        return {}
    phones = evidence[evidence["channel"].astype(str).eq("phone")]
    if "decision" in phones:
        phones = phones[phones["decision"].astype(str) != "rejected"]
    out: dict[int, str] = {}
    cache: dict[str, str] = {}
    for sid, values in phones.groupby(pd.to_numeric(phones["site_id"], errors="coerce"))["value"]:
        names = []
        for v in values.astype(str):
            if v not in cache:
                cache[v] = region_of(v, lang)
            if cache[v]:
                names.append(cache[v])
        if names:
            counts = Counter(names)
            out[int(sid)] = max(names, key=lambda n: (counts[n], -names.index(n)))
    return out


def percentile(score: float, peers: pd.Series) -> float:
    """Mid-rank percentile of ``score`` among ``peers``: 100 x (below + equal / 2) / n; NaN without peers."""
    peers = pd.to_numeric(peers, errors="coerce").dropna().round(10)
    if not len(peers):
        return math.nan
    score = round(float(score), 10)
    below, equal = int((peers < score).sum()), int((peers == score).sum())
    return 100.0 * (below + equal / 2) / len(peers)


@dataclass
class Benchmark:
    """A company against the market: the tidy table, a summary and the market's scores (for the chart)."""

    table: pd.DataFrame
    summary: dict
    scores: pd.Series = field(default_factory=lambda: pd.Series(dtype=float))
    local_scores: pd.Series = field(default_factory=lambda: pd.Series(dtype=float))


def find_company(sites: pd.DataFrame, domain: str) -> int:
    """The row index of the site whose domain is ``domain`` (``www.``, scheme and path ignored)."""
    wanted = domain_of(domain)
    if not wanted:
        raise BenchmarkError(f"{domain!r} is not a domain")
    domains = site_domains(sites)
    hits = list(domains[domains == wanted].index)
    if not hits:
        near = difflib.get_close_matches(wanted, sorted(set(domains) - {""}), n=3, cutoff=0.6)
        hint = f"; did you mean {', '.join(near)}?" if near else ""
        raise BenchmarkError(f"{domain}: no site with this domain among the {len(sites)} sites of the audit{hint}")
    ok = [i for i in hits if str(sites.at[i, "status"]) == OK] if "status" in sites else hits
    if not ok:
        raise BenchmarkError(f"{domain} was not audited (status {sites.at[hits[0], 'status']}): it has no channels "
                             "to compare")
    return ok[0]


def benchmark(scored: pd.DataFrame, domain: str, evidence: pd.DataFrame | None = None, conf: float = 0.95,
              place: str | None = None) -> Benchmark:
    """The company of ``domain`` against the other audited sites of ``scored`` (sites with ``score`` and
    ``rank``: :func:`chanaudit.scoring.rank.score_sites`). ``place`` names the column of the local peers (default:
    ``city``, else ``region``, else the phone region from ``evidence``)."""
    index = find_company(scored, domain)
    company = scored.loc[index]
    audited = scored[scored["status"].astype(str).eq(OK)] if "status" in scored else scored
    peers = audited.drop(index)
    local, where, how = _local(scored, audited, peers, index, evidence, place)
    rows = []
    for ch in CHANNELS:
        rows.append(_row(ch, label(ch, "en"), label(ch, "ru"), _flag(company[ch]), peers[ch], local[ch], conf))
    rows.append(_mean_row("channels", "Channels", "Каналов", _flag(company.get("channels")), peers, local, "channels"))
    rows.append(_mean_row("score", "Score", "Балл", float(company["score"]), peers, local, "score"))
    table = pd.DataFrame(rows, columns=BENCHMARK_COLUMNS)
    name = next((str(company[c]) for c in ("name", "company") if c in company and _present(company[c])), "")
    summary = {"domain": domain_of(domain), "site_id": int(company["site_id"]) if "site_id" in company else None,
               "name": name, "url": next((str(company[c]) for c in ("final_url", "url", "input")
                                          if c in company and _present(company[c])), ""),
               "score": float(company["score"]), "rank": int(company["rank"]), "n": int(len(audited)),
               "peers": int(len(peers)), "percentile": percentile(company["score"], peers["score"]),
               "local_by": how, "local": where, "local_peers": int(len(local)),
               "local_percentile": percentile(company["score"], local["score"]) if len(local) else math.nan,
               "local_rank": int((pd.to_numeric(local["score"], errors="coerce") > float(company["score"])).sum()) + 1
               if len(local) else None}
    return Benchmark(table, summary, pd.to_numeric(peers["score"], errors="coerce").dropna(),
                     pd.to_numeric(local["score"], errors="coerce").dropna())


def _present(value) -> bool:
    return not (value is None or value is pd.NA or (isinstance(value, float) and value != value)) and str(value) != ""


def _flag(value) -> float:
    number = pd.to_numeric(pd.Series([value]), errors="coerce").iloc[0]
    return float(number) if number == number else math.nan


def _local(scored, audited, peers, index, evidence, place):
    """(local peers, the place, how it was found): the same value of the place column, else the phone region."""
    columns = [place] if place else [c for c in PLACE_COLUMNS if c in scored]
    for col in columns:
        if col not in scored:
            from chanaudit.core.errors import UnknownColumn

            raise UnknownColumn(f"no column {col!r} to find local peers by (columns: {', '.join(map(str, scored.columns))})")
        value = scored.at[index, col]
        if _present(value):
            key = str(value).strip().casefold()
            same = peers[col].astype(str).str.strip().str.casefold() == key
            return peers[same], str(value), col
    regions = site_regions(evidence, "en")
    sid = int(scored.at[index, "site_id"]) if "site_id" in scored else None
    region = regions.get(sid, "") if sid is not None else ""
    if not region:
        return peers.iloc[0:0], "", ""
    same = peers["site_id"].map(lambda s: regions.get(int(s), "") == region)
    return peers[same.astype(bool)], region, "phone_region"


def _row(metric, en, ru, has, peer_flags, local_flags, conf) -> dict:
    out = {"metric": metric, "label_en": en, "label_ru": ru, "company": has}
    for prefix, flags in (("market", peer_flags), ("local", local_flags)):
        values = pd.to_numeric(flags, errors="coerce").dropna()
        k, n = int(values.sum()), int(len(values))
        low, high = wilson(k, n, conf) if n else (math.nan, math.nan)
        out.update({prefix: k / n if n else math.nan, f"{prefix}_k": k, f"{prefix}_n": n, f"{prefix}_ci_low": low,
                    f"{prefix}_ci_high": high})
    return out


def _mean_row(metric, en, ru, value, peers, local, col) -> dict:
    """The peers' mean (no interval: a description of the market, not an estimate of a share)."""
    out = {"metric": metric, "label_en": en, "label_ru": ru, "company": value}
    for prefix, frame in (("market", peers), ("local", local)):
        values = pd.to_numeric(frame[col], errors="coerce").dropna() if col in frame else pd.Series(dtype=float)
        out.update({prefix: float(values.mean()) if len(values) else math.nan, f"{prefix}_k": math.nan,
                    f"{prefix}_n": int(len(values)), f"{prefix}_ci_low": math.nan, f"{prefix}_ci_high": math.nan})
    return out
