"""Writing the audit contract (DESIGN.md) from the journal: nothing lost, input order."""

from __future__ import annotations

import platform
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from chanaudit import __version__
from chanaudit.core.contract import CHANNELS, EVIDENCE_COLUMNS, PAGE_COLUMNS, SITE_COLUMNS
from chanaudit.core.folder import AuditFolder
from chanaudit.core.tables import write_csv
from chanaudit.crawler.sites import SiteList

#: Channel flags of an ok site -> its score (chanaudit.scoring builds one from weights).
Scorer = Callable[[dict[str, int]], float]


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def site_rows(site_list: SiteList, records: dict[int, dict], missing_detail: str,
              scorer: Scorer | None = None) -> list[dict]:
    """One row per input row, in input order. ``score`` is the scorer's for ok rows, empty
    otherwise and when no scorer is given (the crawl itself scores nothing)."""
    rows = []
    for site in site_list.sites:
        if site.url is None:
            row = {"site_id": site.site_id, "input": site.raw, "url": "", "status": "invalid_input",
                   "status_detail": site.error}
        elif site.site_id in records:
            row = dict(records[site.site_id]["row"])
            ok = row["status"] == "ok"
            row["score"] = round(scorer({ch: row[ch] for ch in CHANNELS}), 4) if ok and scorer else None
        else:
            row = {"site_id": site.site_id, "input": site.raw, "url": site.url, "status": "error",
                   "status_detail": missing_detail}
        row.update(site.extra)
        rows.append(row)
    return rows


def write_outputs(site_list: SiteList, records: dict[int, dict], out: Path, manifest: dict,
                  missing_detail: str = "not crawled: the crawl stopped early; rerun with --resume",
                  scorer: Scorer | None = None) -> dict:
    rows = site_rows(site_list, records, missing_detail, scorer)
    write_csv(rows, out / "sites.csv", columns=[*SITE_COLUMNS, *site_list.passthrough])
    order = [s.site_id for s in site_list.sites if s.site_id in records]
    evidence = [{"site_id": sid, **ev} for sid in order for ev in records[sid]["evidence"]]
    write_csv(evidence, out / "evidence.csv", columns=EVIDENCE_COLUMNS)
    pages = [p for sid in order for p in records[sid]["pages"]]
    write_csv(pages, out / "pages.csv", columns=PAGE_COLUMNS)
    counts = Counter(r["status"] for r in rows)
    scripts = [p for p in pages if p["role"] == "script"]  # same-site script files read for chat loaders
    fetched = [p for p in pages if not p["rendered"] and p["role"] != "script"]
    rendered = [p for p in pages if p["rendered"]]
    manifest = {
        **manifest,
        "ended": now(),
        "counts": dict(sorted(counts.items())),
        "sites": len(rows),
        "pages_fetched": len(fetched),
        "pages_rendered": len(rendered),
        "scripts_fetched": len(scripts),
        "script_bytes": sum(int(p["bytes"] or 0) for p in scripts),
        "rendered_share": round(len(rendered) / len(fetched), 4) if fetched else 0.0,
        "sites_rendered": sum(1 for r in rows if (r.get("rendered") or 0)),
        **({"rendering": {**manifest["rendering"], "pages_rendered": len(rendered),
                          "render_errors": sum(1 for p in rendered if p["error"])}}
           if "rendering" in manifest else {}),
        "evidence_rows": len(evidence),
    }
    AuditFolder(out).write_json(AuditFolder.MANIFEST, manifest)  # atomic: a kill leaves the old one whole
    return manifest


def base_manifest(site_list: SiteList, config: dict) -> dict:
    import scrapy

    return {
        "tool": "chanaudit",
        "version": __version__,
        "started": now(),
        "config": config,
        "input": {
            "path": str(site_list.path), "sha256": site_list.sha256, "rows": len(site_list.sites),
            "format": site_list.format, "encoding": site_list.encoding, "delimiter": site_list.delimiter,
            "site_column": site_list.column, "passthrough": site_list.passthrough,
            "warnings": site_list.warnings, "invalid": [s.error for s in site_list.invalid],
        },
        "environment": {"python": platform.python_version(), "scrapy": scrapy.__version__,
                        "platform": platform.platform()},
    }
