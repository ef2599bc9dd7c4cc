"""Per-site fields derived from evidence.csv, for study variants that read the evidence, not only the flags.

``form_request``
    1 when the site has a form (``form`` = 1) and at least one counted form finding whose value is not
    ``callback`` (``request`` or ``embed:<service>``): a form to send a request or question.
``form_callback_only``
    1 when the site has a form and every counted form finding is ``callback`` (name + phone, «Заказать
    звонок»): ``form`` = ``form_request`` + ``form_callback_only`` on every site with evidence.

Both are 0 when ``form`` is 0, and missing (NaN) for a site whose form flag is 1 but that has no counted
form finding (an edited sites.csv): unknown, not 0. Findings with ``counted`` false (recorded for review,
not counted towards the channel) are ignored; an evidence table without the ``counted`` column counts all.
"""

from __future__ import annotations

import pandas as pd

from chanaudit.analysis.studies import EVIDENCE_FIELDS  # noqa: F401 (the names this module adds)

_FALSE = {"0", "0.0", "false", "no", "n", "f"}


def _counted(evidence: pd.DataFrame) -> pd.Series:
    if "counted" not in evidence:
        return pd.Series(True, index=evidence.index)
    col = evidence["counted"]
    if col.dtype == bool:
        return col
    return ~col.astype(str).str.strip().str.lower().isin(_FALSE)  # empty or missing: counted (older audits)


def evidence_fields(sites: pd.DataFrame, evidence: pd.DataFrame) -> pd.DataFrame:
    """``sites`` with the columns of :data:`EVIDENCE_FIELDS` added (joined on ``site_id``)."""
    out = sites.copy()
    for col in ("site_id", "channel", "value"):
        if col not in evidence:
            raise KeyError(f"evidence table: no column {col!r} (columns: {', '.join(map(str, evidence.columns))})")
    if "site_id" not in out:
        raise KeyError("sites table: no column 'site_id' to join the evidence on")
    ev = evidence[evidence["channel"].astype(str).eq("form") & _counted(evidence)]
    values = ev["value"].astype(str).str.strip().str.lower()
    key = ev["site_id"].astype(str).str.strip()
    has_any = set(key)
    has_request = set(key[values.ne("callback")])
    site_key = out["site_id"].astype(str).str.strip()
    form = pd.to_numeric(out["form"], errors="coerce") if "form" in out else pd.Series(float("nan"), index=out.index)
    known = form.eq(0) | site_key.isin(has_any)
    request = site_key.isin(has_request) & form.eq(1)
    callback_only = site_key.isin(has_any) & ~site_key.isin(has_request) & form.eq(1)
    out["form_request"] = request.astype(float).where(known & form.notna())
    out["form_callback_only"] = callback_only.astype(float).where(known & form.notna())
    return out
