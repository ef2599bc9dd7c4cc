"""The review page: every site and finding of an audit in one self-contained HTML file, where an analyst
confirms or rejects findings, sets a channel by hand with a note, and exports the decisions as an overrides
file (:mod:`chanaudit.core.overrides`) that ``--overrides`` feeds back into scores, statistics and charts.

The page works from ``file://`` with nothing from a server or the internet: the data sit in a
``<script type="application/json">`` block (``<``, ``>``, ``&``, U+2028 and U+2029 escaped, so no scraped
text can close the block), the code is one inline script allowed by its SHA-256 in the Content Security
Policy (``default-src 'none'``: no network, no other script, no inline handler), and the script puts data
on the page as text only. Decisions persist in the browser's localStorage under the audit's id
(:func:`chanaudit.core.overrides.audit_id`). The table is virtualised (only the rows in view exist), so
3,000 sites filter and scroll without freezing (docs/review.md has the numbers).
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import os
import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path

import pandas as pd

from chanaudit.analysis.labels import label
from chanaudit.core.contract import CHANNELS, OK, RECORD_KINDS, SITE_COLUMNS
from chanaudit.core.folder import AuditFolder
from chanaudit.core.numbers import is_missing
from chanaudit.core.overrides import (
    audit_id,
    counting_evidence,
    read_overrides,
    site_domain,
)
from chanaudit.reports.style import entry, lang_of, texts
from chanaudit.scoring.weights import default_weights

HERE = Path(__file__).resolve().parent
#: Columns added by later stages or by overrides: not the input's own, so not offered as filters.
_DERIVED = {"overridden", "reviewed", "rank", "rank_dense", "company"}
#: The filter the page opens with when the audit has the column.
GROUP_COLUMNS = ("city", "region", "segment")


@cache
def _asset(name: str) -> str:
    return (HERE / name).read_text(encoding="utf-8")


def sha256_source(text: str) -> str:
    """A CSP hash source for an inline script or style: ``'sha256-<base64>'``."""
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


def content_security_policy(script: str, style: str) -> str:
    """Nothing but the page's own script and style, both by hash; no network, no plugins, no forms."""
    return (f"default-src 'none'; script-src {sha256_source(script)}; style-src {sha256_source(style)}; "
            "img-src data:; base-uri 'none'; form-action 'none'")


_JSON_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
_JSON_SPECIAL = re.compile("[<>&\u2028\u2029]")


def embed_json(data) -> str:
    """JSON safe inside ``<script type="application/json">``: the characters that could end the block or
    break a script (``<``, ``>``, ``&``, U+2028, U+2029) written as ``\\uXXXX`` escapes."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return _JSON_SPECIAL.sub(lambda m: _JSON_ESCAPES[m.group(0)], text)


def _text(value) -> str:
    return "" if is_missing(value) else str(value)


def _int(value) -> int | None:
    number = pd.to_numeric(pd.Series([value]), errors="coerce").iloc[0]
    return None if number != number else int(number)


def passthrough_columns(sites: pd.DataFrame, manifest: Mapping | None = None) -> list[str]:
    """The input's own columns (city, segment, name…): the manifest's list, else every column that is not
    the contract's nor a later stage's."""
    listed = ((manifest or {}).get("input") or {}).get("passthrough")
    if listed:
        return [c for c in listed if c in sites]
    return [c for c in sites.columns if c not in SITE_COLUMNS and c not in _DERIVED]


def _company_names(evidence: pd.DataFrame | None) -> dict[int, str]:
    """site_id -> the company's name from the identity records (JSON-LD, og:site_name, title, in that order)."""
    if evidence is None or not len(evidence):
        return {}
    ev = evidence[evidence["channel"].astype(str).eq("company")]
    rank = {"identity.jsonld": 0, "identity.og_site_name": 1, "identity.title": 2}
    out: dict[int, tuple[int, str]] = {}
    for sid, rule, value in zip(ev["site_id"], ev["rule"].astype(str), ev["value"].astype(str), strict=True):
        sid = _int(sid)
        if sid is None:
            continue
        key = (rank.get(rule, 9), value)
        if sid not in out or key[0] < out[sid][0]:
            out[sid] = key
    return {sid: value for sid, (_, value) in out.items()}


def review_data(sites: pd.DataFrame, evidence: pd.DataFrame | None, *, audit: str, lang: str = "ru",
                weights: Mapping[str, float] | None = None, config: Mapping | None = None,
                manifest: Mapping | None = None, seed: pd.DataFrame | None = None) -> dict:
    """What the page's script reads: the sites (compact rows), their findings, the words of the page in
    ``lang``, the weights of the score and ``seed``: decisions the page starts with (rows of an overrides
    file) when the browser holds none for this audit."""
    lang = lang_of(lang)
    columns = passthrough_columns(sites, manifest)
    names = _company_names(evidence)
    domains = site_domain(sites)
    rows, index = [], {}
    for i, (pos, s) in enumerate(sites.iterrows()):
        sid = _int(s.get("site_id"))
        sid = i + 1 if sid is None else sid
        index[sid] = i
        status = _text(s.get("status")) or OK
        flags = [(_int(s.get(ch)) or 0) for ch in CHANNELS] if status == OK else None
        url = next((_text(s.get(c)) for c in ("final_url", "url", "input") if _text(s.get(c))), "")
        name = _text(s.get("name")) or names.get(sid, "")
        rows.append([sid, domains[pos], name, url, status, entry("statuses", status, lang), _text(s.get("status_detail")),
                     flags, [_text(s.get(c)) for c in columns]])
    found = []
    if evidence is not None and len(evidence):
        counts = counting_evidence(evidence, config)
        counting = {i: ch for i, ch in zip(counts.index, counts["channel"], strict=True)} if counts is not None else {}
        for i, e in evidence.iterrows():
            sid = _int(e.get("site_id"))
            if sid not in index:
                continue
            counted = _text(e.get("counted")).strip().lower() not in ("0", "0.0", "false", "no")
            found.append([index[sid], _text(e.get("channel")), _text(e.get("value")), _text(e.get("page_url")),
                          _text(e.get("page_role")), _text(e.get("rule")), _text(e.get("snippet")), int(counted),
                          counting.get(i, "")])
    words = texts()
    group = next((c for c in GROUP_COLUMNS if c in columns), columns[0] if columns else "")
    return {
        "audit": audit, "lang": lang, "channels": list(CHANNELS),
        "channel_labels": {ch: label(ch, lang) for ch in CHANNELS},
        "record_labels": {k: words["record_kinds"][k][lang] for k in RECORD_KINDS},
        "weights": dict(weights or default_weights()), "columns": columns, "group_column": group,
        "ui": {k: v[lang] for k, v in words["review"].items()}, "export_name": AuditFolder.csv_name(AuditFolder.OVERRIDES),
        "sites": rows, "evidence": found, "seed": _seed_rows(seed),
    }


def _seed_rows(seed: pd.DataFrame | None) -> list[list]:
    """[site_id, channel, value, finding, note, reviewer, time] of each decision of an overrides file."""
    if seed is None:
        return []
    return [[int(d.site_id), d.channel, d.value if d.action == "set" else d.action, d.finding, d.note, d.reviewer,
             d.time] for d in seed.itertuples()]


def review_page(sites: pd.DataFrame, evidence: pd.DataFrame | None, *, audit: str, lang: str = "ru",
                weights: Mapping[str, float] | None = None, config: Mapping | None = None,
                manifest: Mapping | None = None, seed: pd.DataFrame | None = None) -> str:
    """The page as one HTML string (see :func:`review_data` for the arguments)."""
    lang = lang_of(lang)
    script, style = _asset("review_page.js"), _asset("review_page.css")
    ui = texts()["review"]
    page = re.sub(r"\{\{t:(\w+)\}\}", lambda m: html.escape(ui[m.group(1)][lang], quote=True), _asset("review_page.html"))
    data = review_data(sites, evidence, audit=audit, lang=lang, weights=weights, config=config, manifest=manifest,
                       seed=seed)
    before, _, after = page.partition("{{data}}")  # the data go in last: nothing in them is read as a placeholder
    before = (before.replace("{{lang}}", lang).replace("{{csp}}", html.escape(content_security_policy(script, style), quote=False))
              .replace("{{style}}", style))
    return before + embed_json(data) + after.replace("{{script}}", script)


def write_review(folder: AuditFolder | str | os.PathLike, out: str | os.PathLike | None = None, lang: str = "ru",
                 overrides: str | os.PathLike | None = None) -> Path:
    """Write the review page of the audit ``folder`` to ``out`` (default ``DIR/report/review.html``).

    ``overrides`` (a file of decisions, checked against the audit) is what the page starts with in a browser
    that holds no decisions on this audit yet: a review handed from one analyst to another."""
    from chanaudit.scoring import used_weights

    folder = AuditFolder.of(folder).check()
    sites = folder.read_sites()
    evidence = folder.read(AuditFolder.EVIDENCE) if folder.has(AuditFolder.EVIDENCE) else None
    manifest = folder.manifest()
    seed = None
    if overrides is not None:
        read = read_overrides(overrides, sites, evidence, audit_id(folder), manifest.get("config"))
        seed = pd.DataFrame([d.__dict__ for d in read.decisions]) if read.decisions else None
    path = Path(out) if out is not None else folder.report_dir / AuditFolder.REVIEW_HTML
    path.parent.mkdir(parents=True, exist_ok=True)
    page = review_page(sites, evidence, audit=audit_id(folder), lang=lang, weights=used_weights(folder),
                       config=manifest.get("config"), manifest=manifest, seed=seed)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(page, encoding="utf-8")
    os.replace(tmp, path)
    return path

