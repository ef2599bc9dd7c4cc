"""Human decisions on an audit's findings: the overrides file and how it changes a sites table
(docs/review.md).

An overrides file (CSV or XLSX; the review page exports ``overrides.csv``) holds one decision a row:

``site_id`` and/or ``domain``
    the site: ``site_id`` of sites.csv, or its domain (``www.`` and scheme ignored; a domain matching two
    sites is an error, say ``site_id`` then). With both, they must name the same site.
``channel``
    email, phone, chat, form or portal.
``value``
    ``1`` or ``0`` (also yes/no, да/нет, true/false) sets the channel by hand; ``confirm`` keeps the
    detector's answer and records that a person checked it; ``reject`` rejects the finding named in
    ``finding`` (or, with ``finding`` empty, every finding of the channel).
``finding`` (optional)
    the ``value`` of a finding in evidence.csv (``info@firm.ru``, ``+74951234567``, ``jivo``).
``note``, ``reviewer``, ``time`` (optional)
    kept with the decision.
``audit`` (optional)
    the :func:`audit_id` the file was exported for: a row of another audit is an error.

Per site and channel: a ``1``/``0`` row wins (the last one in the file); else rejected findings are taken
away and, when no counted finding is left, the channel becomes 0; ``confirm`` changes nothing. Rows repeat
a decision? The later line wins. A file with any bad row (unknown site or channel, a site that was not
audited, a finding the site does not have, another audit's row, a bad value) is refused whole: the error
names every bad line (``overrides.csv:7: ...``) and nothing is applied — a review of the wrong audit must
not half-change published figures.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import pandas as pd

from chanaudit.core.contract import CHANNELS, OK
from chanaudit.core.errors import ChanauditError
from chanaudit.core.folder import AuditFolder
from chanaudit.core.tables import read_table, unneutralise

#: Columns of an overrides file, in the order the review page exports them.
OVERRIDE_COLUMNS: tuple[str, ...] = ("site_id", "domain", "channel", "value", "finding", "note", "reviewer", "time",
                                     "audit")
#: Columns of ``overrides_applied.csv``: one row per site and channel a decision is about.
APPLIED_COLUMNS: tuple[str, ...] = ("site_id", "domain", "channel", "detected", "value", "changed", "action",
                                    "findings_rejected", "findings_confirmed", "note", "reviewer", "time", "source")
#: Columns added to every evidence row in ``evidence_reviewed.csv``.
DECISION_COLUMNS: tuple[str, ...] = ("decision", "decision_note", "reviewer", "decided_at")
SET_VALUES = {"1": 1, "1.0": 1, "yes": 1, "да": 1, "true": 1, "0": 0, "0.0": 0, "no": 0, "нет": 0, "false": 0}
ACTIONS = ("confirm", "reject")
MAX_SHOWN = 20
#: Evidence ``method`` and ``rule`` of the row that records a channel set by hand.
MANUAL_METHOD, MANUAL_RULE = "review", "review.manual"

Scorer = Callable[[Mapping[str, int]], float]


class OverridesError(ChanauditError, ValueError):
    """An overrides file that cannot be applied; the message names the file and line of every bad row."""


@dataclass(frozen=True)
class Decision:
    """One row of an overrides file, resolved to a site."""

    line: int
    site_id: int
    domain: str
    channel: str
    action: str  # "set", "confirm" or "reject"
    value: int | None  # 1/0 for "set"
    finding: str  # "" for the channel as a whole
    note: str = ""
    reviewer: str = ""
    time: str = ""


@dataclass
class Overrides:
    """An overrides file read and checked against an audit."""

    path: Path
    sha256: str
    rows: int
    decisions: list[Decision] = field(default_factory=list)


# --- keys -------------------------------------------------------------------------------------------------------

def host_key(value) -> str:
    """``https://www.Firm.ru/contacts`` -> ``firm.ru`` (IDN as punycode; an IP address keeps its port);
    "" when the value holds no host."""
    import idna

    if value is None or (isinstance(value, float) and value != value) or value is pd.NA:
        return ""
    text = str(value).strip()
    if not text:
        return ""
    try:
        parts = urlsplit(text if "://" in text else f"//{text.lstrip('/')}")
        host = (parts.hostname or "").rstrip(".").lower()
        port = parts.port
    except ValueError:
        return ""
    if not host:
        return ""
    if host.replace(".", "").isdigit() or ":" in host:
        return f"{host}:{port}" if port else host
    host = host.removeprefix("www.")
    try:
        host = idna.encode(host, uts46=True).decode("ascii")
    except idna.IDNAError:
        return ""
    return host


#: Columns a site's keys come from, the first that gives one being the site's domain.
KEY_COLUMNS = ("domain", "final_url", "url", "input")


def site_keys(sites: pd.DataFrame) -> pd.Series:
    """Every key of each site (its domain from ``domain``, ``final_url``, ``url`` and ``input``), first the
    one that names the site (a list per row)."""
    cols = [c for c in KEY_COLUMNS if c in sites]
    keys = []
    for row in sites[cols].itertuples(index=False):
        seen: list[str] = []
        for value in row:
            key = host_key(value)
            if key and key not in seen:
                seen.append(key)
        keys.append(seen)
    return pd.Series(keys, index=sites.index, dtype=object)


def site_domain(sites: pd.DataFrame) -> pd.Series:
    """The domain that names each site ("" when none): what the review page exports beside ``site_id``."""
    return site_keys(sites).map(lambda keys: keys[0] if keys else "")


def audit_id(folder: AuditFolder | str | os.PathLike) -> str:
    """A short id of one audit run: the input's checksum and the start time of the manifest (the same site
    list audited twice gives two ids), or the checksum of sites.csv when there is no manifest."""
    folder = AuditFolder.of(folder)
    manifest = folder.manifest()
    if (manifest.get("input") or {}).get("sha256"):
        return audit_id_of(manifest)
    return hashlib.sha256(folder.check().sites.read_bytes()).hexdigest()[:16]


def audit_id_of(manifest: Mapping | None, sites: pd.DataFrame | None = None) -> str:
    """:func:`audit_id` from a manifest, or (without the input's checksum) from the sites table's content."""
    checksum = ((manifest or {}).get("input") or {}).get("sha256")
    if checksum:
        seed = f"{checksum}|{(manifest or {}).get('started', '')}".encode()
    else:
        seed = (sites if sites is not None else pd.DataFrame()).to_csv(index=False).encode()
    return hashlib.sha256(seed).hexdigest()[:16]


# --- reading ----------------------------------------------------------------------------------------------------

def _cell(row: Mapping[str, str], name: str) -> str:
    return str(unneutralise(row.get(name, "") or "")).strip()


def read_overrides(path: str | os.PathLike, sites: pd.DataFrame, evidence: pd.DataFrame | None = None,
                   audit: str | None = None, config: Mapping | None = None) -> Overrides:
    """Read an overrides file and resolve every row to a site of ``sites`` (and, for a named finding, to a
    finding of the channel in ``evidence``, hidden ones included; messenger links are chat findings under a
    ``messenger_as_chat`` ``config``). :class:`OverridesError` lists every bad line; a good file gives its
    decisions in file order."""
    path = Path(path)
    read = read_table(path)
    frame = read.frame
    names = {str(c).strip().lower(): c for c in frame.columns}
    frame = frame.rename(columns={c: n for n, c in names.items()})
    if "channel" not in frame or "value" not in frame or not ({"site_id", "domain"} & set(frame.columns)):
        raise OverridesError(f"{path}: an overrides file needs the columns site_id or domain, channel and value "
                             f"(columns: {', '.join(map(str, read.frame.columns)) or 'none'})")
    by_id = {str(s).strip(): i for i, s in zip(sites.index, sites["site_id"], strict=True)}
    keys = site_keys(sites)
    by_domain: dict[str, list] = {}
    for i, ks in keys.items():
        for k in ks:
            by_domain.setdefault(k, []).append(i)
    ok = sites["status"].astype(str).eq(OK) if "status" in sites else pd.Series(True, index=sites.index)
    findings = _findings(counting_evidence(evidence, {**(config or {}), "count_hidden": True}))
    problems, decisions = [], []
    for (_, row), line in zip(frame.iterrows(), read.lines, strict=True):
        where = f"{path}:{line}"
        if line in read.broken:
            problems.append(f"{where}: {read.broken[line]}")
            continue
        cells = {k: _cell(row, k) for k in OVERRIDE_COLUMNS}
        if audit and cells["audit"] and cells["audit"] != audit:
            problems.append(f"{where}: exported for audit {cells['audit']}, not this one ({audit}); remove the "
                            "audit column to apply it anyway")
            continue
        index, why = _site(cells, by_id, by_domain, sites)
        if index is None:
            problems.append(f"{where}: {why}")
            continue
        site_id = int(sites.at[index, "site_id"])
        if not ok[index]:
            problems.append(f"{where}: site {site_id} was not audited (status {sites.at[index, 'status']}): "
                            "it has no channels to review")
            continue
        channel = cells["channel"].lower()
        if channel not in CHANNELS:
            problems.append(f"{where}: channel {cells['channel']!r} is not one of {', '.join(CHANNELS)}")
            continue
        raw = cells["value"].lower()
        if raw in SET_VALUES:
            action, value = "set", SET_VALUES[raw]
        elif raw in ACTIONS:
            action, value = raw, None
        else:
            problems.append(f"{where}: value {cells['value']!r} is not 1, 0, confirm or reject")
            continue
        finding = cells["finding"]
        if finding and action != "set" and finding.lower() not in findings.get((site_id, channel), {}):
            have = sorted(findings.get((site_id, channel), {}).values())
            problems.append(f"{where}: site {site_id} has no {channel} finding {finding!r}"
                            + (f" (it has: {', '.join(have[:5])})" if have else " (it has none)"))
            continue
        decisions.append(Decision(line, site_id, keys[index][0] if keys[index] else "", channel, action, value,
                                  finding.lower() if action != "set" else "", cells["note"], cells["reviewer"],
                                  cells["time"]))
    if problems:
        more = f"\n... and {len(problems) - MAX_SHOWN} more" if len(problems) > MAX_SHOWN else ""
        raise OverridesError(f"{path}: {len(problems)} of {len(frame)} rows cannot be applied, nothing was "
                             "applied:\n" + "\n".join(problems[:MAX_SHOWN]) + more)
    return Overrides(path, hashlib.sha256(path.read_bytes()).hexdigest(), len(frame), decisions)


def _site(cells: dict[str, str], by_id: dict[str, object], by_domain: dict[str, list], sites: pd.DataFrame):
    """(row index, "") of the site a row names, or (None, why)."""
    sid, domain = cells["site_id"], cells["domain"]
    if not sid and not domain:
        return None, "no site_id and no domain"
    index = None
    if sid:
        key = sid[:-2] if sid.endswith(".0") else sid
        if key not in by_id:
            return None, f"no site with site_id {sid!r} in the audit"
        index = by_id[key]
    if domain:
        key = host_key(domain)
        found = by_domain.get(key, [])
        if index is not None:
            if key and found and index not in found:
                return None, f"site_id {sid} is {sites.at[index, 'input']!r}, not the domain {domain!r}"
            return index, ""
        if not key or not found:
            return None, f"no site with the domain {domain!r} in the audit"
        if len(set(found)) > 1:
            ids = ", ".join(str(sites.at[i, "site_id"]) for i in sorted(set(found)))
            return None, f"the domain {domain!r} names several sites ({ids}): give site_id"
        index = found[0]
    return index, ""


def _findings(evidence: pd.DataFrame | None) -> dict[tuple[int, str], dict[str, str]]:
    """(site_id, channel) -> {lower-case finding value: value} of the evidence rows."""
    out: dict[tuple[int, str], dict[str, str]] = {}
    if evidence is None or not len(evidence):
        return out
    for sid, ch, value in zip(pd.to_numeric(evidence["site_id"], errors="coerce"), evidence["channel"].astype(str),
                              evidence["value"].astype(str), strict=True):
        if sid == sid:
            out.setdefault((int(sid), ch), {})[value.strip().lower()] = value
    return out


# --- applying -----------------------------------------------------------------------------------------------------

@dataclass
class Applied:
    """An audit with the decisions applied."""

    sites: pd.DataFrame  # channel flags after the decisions; ``channels`` and ``score`` recomputed; ``overridden``
    evidence: pd.DataFrame | None  # every finding with the decision on it, plus a row per channel set by hand
    decisions: pd.DataFrame  # :data:`APPLIED_COLUMNS`
    overrides: Overrides

    @property
    def changed(self) -> int:
        """Channel values the decisions changed."""
        return int(self.decisions["changed"].sum()) if len(self.decisions) else 0

    def by_channel(self) -> dict[str, int]:
        """Values changed per channel."""
        changed = self.decisions[self.decisions["changed"] == 1] if len(self.decisions) else self.decisions
        counts = changed["channel"].value_counts() if len(changed) else {}
        return {ch: int(counts.get(ch, 0)) for ch in CHANNELS}

    def summary(self) -> dict:
        """What the manifest and ``scoring.json`` record."""
        actions = self.decisions["action"].value_counts() if len(self.decisions) else {}
        return {"file": str(self.overrides.path), "sha256": self.overrides.sha256, "rows": self.overrides.rows,
                "reviewed": len(self.decisions), "changed": self.changed,
                "sites_changed": int(self.decisions.loc[self.decisions["changed"] == 1, "site_id"].nunique())
                if len(self.decisions) else 0,
                "by_channel": self.by_channel(),
                "actions": {k: int(actions.get(k, 0)) for k in ("set", "confirm", "reject")}}

    def annotate(self, table: pd.DataFrame) -> pd.DataFrame:
        """``table`` with a column ``overridden``: values changed by the decisions in its channel (a table with
        a ``channel`` column) or in all (any other table)."""
        out = table.copy()
        per = self.by_channel()
        if "channel" in out:
            out["overridden"] = out["channel"].map(lambda ch: per.get(str(ch), self.changed)).astype(int)
        else:
            out["overridden"] = self.changed
        return out


def counting_evidence(evidence: pd.DataFrame | None, config: Mapping | None = None) -> pd.DataFrame | None:
    """The evidence rows that set a channel under the audit's ``config`` (the manifest's): counted findings of
    the five channels, messenger links as chat with ``messenger_as_chat``, hidden ones with ``count_hidden``."""
    if evidence is None:
        return None
    config = config or {}
    ev = evidence.copy()
    ev["channel"] = ev["channel"].astype(str)
    if config.get("messenger_as_chat"):
        ev.loc[ev["channel"] == "messenger", "channel"] = "chat"
    if "counted" in ev and not config.get("count_hidden"):
        counted = ~ev["counted"].astype(str).str.strip().str.lower().isin({"0", "0.0", "false", "no"})
        ev = ev[counted]
    return ev[ev["channel"].isin(CHANNELS)]


def apply_overrides(sites: pd.DataFrame, evidence: pd.DataFrame | None, overrides: Overrides,
                    config: Mapping | None = None, scorer: Scorer | None = None) -> Applied:
    """The sites with ``overrides`` applied (see the module's rules). ``config`` is the audit's (which
    findings counted); ``scorer`` recomputes the score of a changed site (without one its score is blanked)."""
    out = sites.copy()
    counting = counting_evidence(evidence, config)
    found = _findings(counting)
    last: dict[tuple[int, str, str, str], Decision] = {}
    for d in overrides.decisions:  # the later line wins
        last[(d.site_id, d.channel, "set" if d.action == "set" else "finding", d.finding)] = d
    grouped: dict[tuple[int, str], list[Decision]] = {}
    for d in sorted(last.values(), key=lambda d: d.line):
        grouped.setdefault((d.site_id, d.channel), []).append(d)
    row_of = {int(s): i for i, s in zip(out.index, out["site_id"], strict=True)}
    records, marks = [], {}
    for (sid, ch), items in grouped.items():
        index = row_of[sid]
        detected = _flag(out.at[index, ch])
        sets = [d for d in items if d.action == "set"]
        rejected = {d.finding for d in items if d.action == "reject" and d.finding}
        reject_all = any(d.action == "reject" and not d.finding for d in items)
        confirmed = {d.finding for d in items if d.action == "confirm" and d.finding}
        left = set(found.get((sid, ch), {})) - rejected
        if sets:
            value, action = sets[-1].value, "set"
        elif reject_all or rejected:
            value, action = (0 if reject_all or not left else detected), "reject"
        else:
            value, action = detected, "confirm"
        latest = items[-1]
        records.append({"site_id": sid, "domain": latest.domain, "channel": ch, "detected": detected, "value": value,
                        "changed": int(value != detected), "action": action,
                        "findings_rejected": "; ".join(sorted(found.get((sid, ch), {}).keys()) if reject_all
                                                       else sorted(rejected)),
                        "findings_confirmed": "; ".join(sorted(confirmed)), "note": latest.note,
                        "reviewer": latest.reviewer, "time": latest.time,
                        "source": f"{overrides.path.name}:{latest.line}"})
        marks[(sid, ch)] = (action, value, reject_all, rejected, confirmed, latest)
        out.at[index, ch] = value
    decisions = pd.DataFrame(records, columns=list(APPLIED_COLUMNS))
    changed = decisions[decisions["changed"] == 1].groupby("site_id").size() if len(decisions) else pd.Series()
    ids = out["site_id"].astype(int)
    out["overridden"] = ids.map(changed).fillna(0).astype(int)
    out["reviewed"] = ids.map(decisions.groupby("site_id").size() if len(decisions) else pd.Series()).fillna(0) \
        .astype(int)
    audited = out["status"].astype(str).eq(OK) if "status" in out else pd.Series(True, index=out.index)
    flags = out[list(CHANNELS)].apply(pd.to_numeric, errors="coerce")
    if "channels" in out:
        out["channels"] = flags.sum(axis=1).where(audited)
    if "score" in out:
        touched = out["overridden"] > 0
        if scorer is not None:
            new = [round(scorer({c: int(flags.at[i, c]) for c in CHANNELS}), 4) for i in out.index[touched]]
            out.loc[touched, "score"] = pd.Series(new, index=out.index[touched], dtype=float)
        else:
            out.loc[touched, "score"] = float("nan")
    return Applied(out, _reviewed_evidence(evidence, marks), decisions, overrides)


def _flag(value) -> int:
    number = pd.to_numeric(pd.Series([value]), errors="coerce").iloc[0]
    return int(number) if number == number else 0


def _reviewed_evidence(evidence: pd.DataFrame | None, marks: dict) -> pd.DataFrame | None:
    """Every finding with the decision on it (``rejected``, ``confirmed`` or empty), and one row per channel
    set by hand (method ``review``, rule ``review.manual``, value 1 or 0, the note as the snippet)."""
    if evidence is None:
        return None
    ev = evidence.copy()
    for col in DECISION_COLUMNS:
        ev[col] = ""
    keys = list(zip(pd.to_numeric(ev["site_id"], errors="coerce"), ev["channel"].astype(str),
                    ev["value"].astype(str).str.strip().str.lower(), strict=True))
    for i, (sid, ch, value) in zip(ev.index, keys, strict=True):
        mark = marks.get((int(sid), ch)) if sid == sid else None
        if mark is None:
            continue
        action, _, reject_all, rejected, confirmed, latest = mark
        decision = ("rejected" if reject_all or value in rejected else
                    "confirmed" if value in confirmed or action == "confirm" else "")
        if decision:
            ev.loc[i, list(DECISION_COLUMNS)] = [decision, latest.note, latest.reviewer, latest.time]
    manual = [{"site_id": sid, "channel": ch, "value": str(value), "page_url": "", "page_role": "",
               "method": MANUAL_METHOD, "rule": MANUAL_RULE, "snippet": latest.note, "detail": "",
               "counted": value == 1, "decision": f"set {value}", "decision_note": latest.note,
               "reviewer": latest.reviewer, "decided_at": latest.time}
              for (sid, ch), (action, value, _, _, _, latest) in marks.items() if action == "set"]
    return pd.concat([ev, pd.DataFrame(manual, columns=ev.columns)], ignore_index=True) if manual else ev


# --- an audit folder ----------------------------------------------------------------------------------------------

def apply_to_folder(folder: AuditFolder | str | os.PathLike, path: str | os.PathLike, stage: str,
                    scorer: Scorer | None = None, write: bool = True) -> Applied:
    """Read ``path`` against the audit ``folder`` and apply it. With ``write``, ``overrides_applied.csv`` and
    ``evidence_reviewed.csv`` are written to the folder and ``manifest.json`` records the file, what it changed
    and the ``stage`` that applied it."""
    folder = AuditFolder.of(folder).check()
    sites = folder.read_sites()
    evidence = folder.read(AuditFolder.EVIDENCE) if folder.has(AuditFolder.EVIDENCE) else None
    config = folder.manifest().get("config")
    overrides = read_overrides(path, sites, evidence, audit_id(folder), config)
    applied = apply_overrides(sites, evidence, overrides, config, scorer)
    if write:
        folder.write(AuditFolder.OVERRIDES_APPLIED, applied.decisions)
        if applied.evidence is not None:
            folder.write(AuditFolder.EVIDENCE_REVIEWED, applied.evidence)
        record(folder, applied, stage)
    return applied


def record(folder: AuditFolder, applied: Applied, stage: str) -> None:
    """Note in ``manifest.json`` which overrides the stages applied (a new file starts the list of stages)."""
    manifest = folder.manifest()
    summary = applied.summary()
    before = manifest.get("overrides") or {}
    stages = list(before.get("stages", [])) if before.get("sha256") == summary["sha256"] else []
    if stage not in stages:
        stages.append(stage)
    manifest["overrides"] = {**summary, "stages": stages, "applied": datetime.now(UTC).isoformat(timespec="seconds")}
    folder.write_json(AuditFolder.MANIFEST, manifest)
