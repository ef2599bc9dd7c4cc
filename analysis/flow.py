"""The flow of the sample, in the style of a CONSORT/PRISMA diagram: input rows -> valid addresses -> sites
that answered -> working company websites, audited, with the number excluded at each step and why.

Every share of an audit is computed over the last box (status ``ok``), so this table is the base of every
table; :func:`base_lines` says it in words for the CLI. The groups of statuses come from the contract:
``invalid_input``; the statuses of a site that could not be fetched (:data:`UNREACHABLE`); those of a site
that answered but is no working company website (:data:`NOT_A_COMPANY_SITE`).
"""

from __future__ import annotations

import pandas as pd

from chanaudit.analysis.labels import flow_label, status_label
from chanaudit.core.contract import NOT_A_COMPANY_SITE, OK, STATUSES, UNREACHABLE

#: The boxes, top to bottom; the statuses that leave each box for the next.
STEPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("input", ("invalid_input",)),
    ("valid", UNREACHABLE),
    ("reachable", NOT_A_COMPANY_SITE),
    ("audited", ()),
)
COLUMNS = ["step", "label_en", "label_ru", "n", "excluded", "reason_en", "reason_ru", "statuses", "note_en",
           "note_ru"]


def _reason(step: str, counts: dict[str, int], lang: str) -> str:
    if not counts:
        return ""
    if step == "input":  # one status: the count is the step's
        return flow_label("excluded_input", lang)
    parts = ", ".join(f"{status_label(s, lang)} {k}" for s, k in counts.items())
    return f"{flow_label(f'excluded_{step}', lang)}: {parts}"


def sample_flow(sites: pd.DataFrame) -> pd.DataFrame:
    """One row per box of the flow: ``step`` (input, valid, reachable, audited), ``label_en``/``label_ru``, ``n``
    (sites in the box), ``excluded`` (sites that leave it for the next box), ``reason_en``/``reason_ru`` (why,
    with a count per status, largest first), ``statuses`` (``parked=3;challenge=2``), ``note_en``/``note_ru``
    (in the last box: how many of the audited sites moved to another domain and were audited there).

    A status the contract does not know (an older or edited ``sites.csv``) leaves at the step of failures."""
    status = sites["status"].fillna("").astype(str) if "status" in sites else pd.Series([OK] * len(sites))
    tally = status.value_counts()
    unknown = tuple(s for s in tally.index if s not in STATUSES)
    rows, n = [], len(sites)
    for step, leaving in STEPS:
        if step == "valid":
            leaving = (*leaving, *unknown)
        counts = {s: int(tally[s]) for s in sorted(leaving, key=lambda s: (-int(tally.get(s, 0)), s))
                  if tally.get(s, 0)}
        excluded = sum(counts.values())
        note = {"en": "", "ru": ""}
        if step == "audited" and "moved" in sites:
            moved = int((pd.to_numeric(sites["moved"], errors="coerce").fillna(0).astype(int).eq(1)
                         & status.eq(OK)).sum())
            if moved:
                note = {lang: flow_label("moved_note", lang).format(n=moved) for lang in ("en", "ru")}
        rows.append({"step": step, "label_en": flow_label(step, "en"), "label_ru": flow_label(step, "ru"), "n": n,
                     "excluded": excluded, "reason_en": _reason(step, counts, "en"),
                     "reason_ru": _reason(step, counts, "ru"),
                     "statuses": ";".join(f"{s}={k}" for s, k in counts.items()),
                     "note_en": note["en"], "note_ru": note["ru"]})
        n -= excluded
    return pd.DataFrame(rows, columns=COLUMNS)


def base(flow: pd.DataFrame) -> int:
    """The number of sites every share is computed over: the last box."""
    return int(flow["n"].iloc[-1]) if len(flow) else 0


def base_lines(flow: pd.DataFrame, lang: str = "en") -> list[str]:
    """The base of every share in words, then one line per step that excluded sites (and the moved note):
    what ``analyze`` and ``reproduce`` print under their tables."""
    lang = "ru" if lang == "ru" else "en"
    if not len(flow):
        return []
    lines = [flow_label("base", lang).format(n=base(flow), total=int(flow["n"].iloc[0]))]
    for _, r in flow.iterrows():
        if int(r["excluded"]):
            lines.append(f"  {flow_label('excluded', lang)} {int(r['excluded'])}: {r[f'reason_{lang}']}")
        note = r.get(f"note_{lang}")
        if isinstance(note, str) and note:
            lines.append(f"  {note}")
    return lines
