"""``chanaudit prospects AUDIT --out prospects.xlsx``: one row per audited company, ready for a CRM import.

A vendor's list, built from the audit's files, computing no statistics: the company's name (the input's
``name`` column, else schema.org Organization, ``og:site_name``, the page title: the identity records), its
domain, the emails and phones found (phones in E.164), the ИНН and ОГРН found on its pages (check digits
verified), the region of its phone numbers (phonenumbers' offline geocoder), the channels present and
missing, the score and the rank in the whole audit. Written as XLSX (frozen header, filters, column widths,
a second sheet saying what each column holds) and as CSV beside it (Excel-safe: a cell starting with
``= + - @`` gets a ``'``, so phones read ``'+7…`` there; the XLSX keeps them as plain text).
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from chanaudit.analysis.labels import label
from chanaudit.analysis.paired import site_domains
from chanaudit.analysis.stage import audit_sites
from chanaudit.core.contract import CHANNELS, OK
from chanaudit.core.errors import InvalidOption, UnknownColumn
from chanaudit.core.folder import AuditFolder
from chanaudit.core.numbers import is_missing
from chanaudit.core.tables import write_xlsx
from chanaudit.crawler.detectors.identity import valid_inn, valid_ogrn
from chanaudit.crawler.detectors.phone import region_of
from chanaudit.reports.style import lang_of
from chanaudit.scoring import used_weights
from chanaudit.scoring.rank import score_sites
from chanaudit.scoring.weights import default_weights

#: The columns of prospects.csv / .xlsx (stable names for a CRM's import mapping).
PROSPECT_COLUMNS = ["rank", "company", "company_source", "domain", "url", "emails", "phones", "inn", "ogrn", "region",
                    "city", "channels_present", "channels_missing", "channels", "score", "site_id"]
#: What each column holds, for the workbook's second sheet.
COLUMN_NOTES = {
    "rank": ("Место по баллу среди всех проверенных сайтов аудита (1 — лучший, равные делят место)",
             "Rank by score among every audited site (1 = best; ties share a rank)"),
    "company": ("Название: столбец name входного списка, иначе schema.org Organization, og:site_name, заголовок страницы",
                "Name: the input's name column, else schema.org Organization, og:site_name, the page title"),
    "company_source": ("Откуда название: input, jsonld, og_site_name, title", "Where the name comes from"),
    "domain": ("Домен сайта", "The site's domain"),
    "url": ("Адрес главной страницы после перенаправлений", "The home page after redirects"),
    "emails": ("Адреса эл. почты со страниц сайта, через «; »", "Email addresses from the site's pages, '; '-separated"),
    "phones": ("Телефоны в формате E.164, через «; »", "Phone numbers in E.164, '; '-separated"),
    "inn": ("ИНН со страниц сайта, контрольные цифры проверены", "ИНН (taxpayer number) from the pages, check digits verified"),
    "ogrn": ("ОГРН/ОГРНИП со страниц сайта, контрольная цифра проверена", "ОГРН/ОГРНИП from the pages, check digit verified"),
    "region": ("Регион по телефонам (офлайн-геокодер phonenumbers)", "Region of the phone numbers (phonenumbers' offline geocoder)"),
    "city": ("Город из входного списка", "City from the input list"),
    "channels_present": ("Каналы поддержки, найденные на сайте", "Support channels found on the site"),
    "channels_missing": ("Каналы, которых нет", "Channels the site lacks"),
    "channels": ("Число найденных каналов", "Number of channels found"),
    "score": ("Взвешенный балл (веса — как в chanaudit score)", "Weighted score (the weights of chanaudit score)"),
    "site_id": ("Номер сайта в аудите (site_id)", "The site's number in the audit (site_id)"),
    "overridden": ("С --overrides: сколько каналов сайта изменила проверка",
                   "With --overrides: how many of the site's channels the review changed"),
}
_NAME_RULES = {"identity.jsonld": "jsonld", "identity.og_site_name": "og_site_name", "identity.title": "title"}


@dataclass
class Prospects:
    table: pd.DataFrame
    written: list[Path] = field(default_factory=list)
    audited: int = 0


def _values(evidence: pd.DataFrame, channel: str) -> dict[int, list[str]]:
    """site_id -> the distinct values of one kind of record, visible findings first, then by frequency."""
    rows = evidence[evidence["channel"].astype(str).eq(channel)]
    if "decision" in rows:
        rows = rows[rows["decision"].astype(str) != "rejected"]
    out: dict[int, list[str]] = {}
    for sid, part in rows.groupby(pd.to_numeric(rows["site_id"], errors="coerce")):
        counted = ~part["counted"].astype(str).str.lower().isin({"false", "0", "0.0"}) if "counted" in part else None
        values = part["value"].astype(str).str.strip()
        freq = Counter(values)
        first = {v: i for i, v in reversed(list(enumerate(values)))}
        seen = {v: bool(counted[values == v].any()) if counted is not None else True for v in freq}
        out[int(sid)] = sorted(freq, key=lambda v: (not seen[v], -freq[v], first[v]))
    return out


def _names(evidence: pd.DataFrame) -> dict[int, tuple[str, str]]:
    """site_id -> (name, source) from the identity records: JSON-LD before og:site_name before the title."""
    rows = evidence[evidence["channel"].astype(str).eq("company")]
    out: dict[int, tuple[int, str, str]] = {}
    order = list(_NAME_RULES)
    for sid, rule, value in zip(pd.to_numeric(rows["site_id"], errors="coerce"), rows["rule"].astype(str),
                                rows["value"].astype(str), strict=True):
        if sid != sid or rule not in _NAME_RULES:
            continue
        rank = order.index(rule)
        if int(sid) not in out or rank < out[int(sid)][0]:
            out[int(sid)] = (rank, value.strip(), _NAME_RULES[rule])
    return {sid: (name, source) for sid, (_, name, source) in out.items()}


def build_prospects(scored: pd.DataFrame, evidence: pd.DataFrame | None, lang: str = "ru", missing=(),
                    min_channels: int = 0, cities=()) -> pd.DataFrame:
    """One row per audited company of ``scored`` (sites with ``score`` and ``rank``), best score first, keeping
    those that lack every channel of ``missing``, have at least ``min_channels`` channels and are in one of
    ``cities`` (the ``city`` column, or the phone region when the audit has no such column; case ignored)."""
    lang = lang_of(lang)
    missing = [str(m).strip().lower() for m in missing]
    unknown = [m for m in missing if m not in CHANNELS]
    if unknown:
        raise InvalidOption(f"--missing {', '.join(unknown)}: not a channel ({', '.join(CHANNELS)})")
    if min_channels < 0 or min_channels > len(CHANNELS):
        raise InvalidOption(f"--min-channels must be between 0 and {len(CHANNELS)}, not {min_channels}")
    evidence = evidence if evidence is not None else pd.DataFrame(columns=["site_id", "channel", "value", "rule"])
    emails, phones = _values(evidence, "email"), _values(evidence, "phone")
    inns, ogrns, names = _values(evidence, "inn"), _values(evidence, "ogrn"), _names(evidence)
    audited = scored[scored["status"].astype(str).eq(OK)] if "status" in scored else scored
    domains = site_domains(audited)
    regions_cache: dict[str, str] = {}
    rows = []
    for index, s in audited.iterrows():
        sid = int(s["site_id"])
        flags = {ch: int(pd.to_numeric(pd.Series([s[ch]]), errors="coerce").fillna(0).iloc[0]) for ch in CHANNELS}
        own = "" if is_missing(s.get("name")) else str(s.get("name")).strip()
        name, source = (own, "input") if own else names.get(sid, ("", ""))
        numbers = phones.get(sid, [])
        for n in numbers:
            if n not in regions_cache:
                regions_cache[n] = region_of(n, lang)
        regions = list(dict.fromkeys(regions_cache[n] for n in numbers if regions_cache[n]))
        url = next((str(s[c]) for c in ("final_url", "url", "input") if c in s and not is_missing(s[c]) and str(s[c])), "")
        rows.append({
            "rank": s.get("rank"), "company": name, "company_source": source, "domain": domains[index], "url": url,
            "emails": "; ".join(emails.get(sid, [])), "phones": "; ".join(numbers),
            "inn": "; ".join(v for v in inns.get(sid, []) if valid_inn(v)),
            "ogrn": "; ".join(v for v in ogrns.get(sid, []) if valid_ogrn(v)),
            "region": "; ".join(regions), "city": "" if is_missing(s.get("city")) else str(s.get("city")),
            "channels_present": ", ".join(label(ch, lang) for ch in CHANNELS if flags[ch]),
            "channels_missing": ", ".join(label(ch, lang) for ch in CHANNELS if not flags[ch]),
            "channels": sum(flags.values()), "score": s.get("score"), "site_id": sid,
            "_flags": flags, "overridden": s.get("overridden"),
        })
    reviewed = "overridden" in audited
    table = pd.DataFrame(rows, columns=[*PROSPECT_COLUMNS, "_flags", "overridden"])
    if not reviewed:
        table = table.drop(columns="overridden")
    keep = pd.Series(True, index=table.index)
    for ch in missing:
        keep &= table["_flags"].map(lambda f, ch=ch: f[ch] == 0)
    keep &= table["channels"] >= min_channels
    if cities:
        wanted = {str(c).strip().casefold() for c in cities}
        if "city" in scored:
            keep &= table["city"].str.strip().str.casefold().isin(wanted)
        elif table["region"].astype(bool).any():
            keep &= table["region"].map(lambda r: any(w in r.casefold() for w in wanted))
        else:
            raise UnknownColumn("--city: the audit has no city column and no phone regions")
    table = table[keep].drop(columns="_flags")
    table = table.sort_values(["score", "rank", "domain"], ascending=[False, True, True], kind="mergesort")
    return table.reset_index(drop=True)


def write_prospects(audit: AuditFolder | str | os.PathLike, out: str | os.PathLike | None = None, lang: str = "ru",
                    missing=(), min_channels: int = 0, cities=(),
                    overrides: str | os.PathLike | None = None) -> Prospects:
    """Build the prospects of the audit folder ``audit`` (see :func:`build_prospects`) and write ``out`` (an
    ``.xlsx``, default ``AUDIT/prospects.xlsx``) and the CSV beside it. ``overrides`` applies review decisions
    first (rejected findings leave the contacts too)."""
    folder = AuditFolder.of(audit).check()
    if lang not in ("ru", "en"):
        raise InvalidOption(f"lang must be ru or en, not {lang!r}")
    sites, evidence, _ = audit_sites(folder, overrides, "prospects")
    scored = score_sites(sites, used_weights(folder) or default_weights())
    table = build_prospects(scored, evidence, lang, missing, min_channels, cities)
    xlsx = Path(out) if out is not None else folder.path / f"{AuditFolder.PROSPECTS}.xlsx"
    if xlsx.suffix.lower() != ".xlsx":
        xlsx = xlsx.with_suffix(".xlsx")
    csv = AuditFolder(xlsx.parent).write(xlsx.stem, table)
    notes = pd.DataFrame([{"column": c, "ru": COLUMN_NOTES[c][0], "en": COLUMN_NOTES[c][1]} for c in table.columns])
    write_xlsx({"prospects": table, "columns": notes}, xlsx)
    audited = int(scored["status"].astype(str).eq(OK).sum()) if "status" in scored else len(scored)
    return Prospects(table, [xlsx, csv], audited)
