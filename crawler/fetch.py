"""One page through the real crawler, for ``chanaudit inspect URL``.

The URL is audited as a one-row site list into a temporary folder, home page only
(``max_pages=1``, no one-click pages), with the crawl's address guard on every hop,
its size and time limits, robots.txt, rendering policy and statuses: what ``inspect``
shows is exactly what ``audit`` would record for that home page.
"""

from __future__ import annotations

import dataclasses
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from chanaudit.core.contract import Evidence
from chanaudit.core.folder import AuditFolder
from chanaudit.core.tables import write_csv
from chanaudit.crawler.config import AuditConfig
from chanaudit.crawler.urls import InvalidSiteInput, normalize_site_url


@dataclass
class InspectedPage:
    """The audit's record of one home page: its status and what the detectors found."""

    url: str
    final_url: str
    status: str
    status_detail: str
    http_status: int | None
    rendered: bool
    evidence: list[Evidence] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def _text(value) -> str:
    return "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)


def _evidence(row) -> Evidence:
    counted = row.get("counted")
    return Evidence(channel=row["channel"], value=_text(row["value"]), page_url=_text(row["page_url"]),
                    method=_text(row["method"]), rule=_text(row["rule"]), snippet=_text(row["snippet"]),
                    detail=_text(row["detail"]), counted=str(counted).strip().lower() not in ("0", "false", "no"))


def inspect_url(url: str, config: AuditConfig | None = None) -> InspectedPage:
    """Audit the home page at ``url`` with ``config`` (``max_pages`` forced to 1)."""
    from chanaudit.crawler.runner import run_audit

    try:
        normalize_site_url(url)  # a bad URL is named as given, not as a row of the temporary list
    except InvalidSiteInput as exc:
        return InspectedPage(url=url, final_url=url, status="invalid_input", status_detail=str(exc), http_status=None,
                             rendered=False)
    config = dataclasses.replace(config or AuditConfig(), max_pages=1, workers=1)
    with tempfile.TemporaryDirectory(prefix="chanaudit-inspect-") as tmp:
        listing = Path(tmp) / "inspect.csv"
        write_csv([{"url": url}], listing, columns=["url"])
        run_audit(listing, Path(tmp) / "audit", config)
        folder = AuditFolder(Path(tmp) / "audit")
        site = folder.read_sites().iloc[0]
        evidence = folder.read(AuditFolder.EVIDENCE)
        code = site.get("http_status")
        return InspectedPage(
            url=_text(site["url"]) or url, final_url=_text(site.get("final_url")) or _text(site["url"]) or url,
            status=str(site["status"]), status_detail=_text(site.get("status_detail")),
            http_status=None if code is None or pd.isna(code) else int(code),
            rendered=bool(site.get("rendered") or 0) if not pd.isna(site.get("rendered")) else False,
            evidence=[_evidence(row) for row in evidence.to_dict("records")],
        )
