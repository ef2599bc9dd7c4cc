"""Writing the audit contract (DESIGN.md) from the journal: nothing lost, input order, streamed."""

from __future__ import annotations

import contextlib
import csv
import math
import os
import platform
from collections import Counter
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path

from chanaudit import __version__
from chanaudit.core.contract import CHANNELS, EVIDENCE_COLUMNS, PAGE_COLUMNS, SITE_COLUMNS
from chanaudit.core.folder import AuditFolder
from chanaudit.core.tables import neutralise
from chanaudit.crawler.sites import SiteInput, SiteList

#: Channel flags of an ok site -> its score (chanaudit.scoring builds one from weights).
Scorer = Callable[[dict[str, int]], float]
#: site_id -> journal record: a :class:`~crawler.journal.JournalIndex`, or a dict (tests, small lists).
Records = Mapping[int, dict]


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


#: Formats of the two large tables (``--format``): CSV, or Parquet for lists of millions of sites.
FORMATS = ("csv", "parquet")
#: Rows of evidence or pages handed to the Parquet writer at once.
PARQUET_BATCH = 50_000


def site_row(site: SiteInput, record: dict | None, missing_detail: str, scorer: Scorer | None = None) -> dict:
    """The site's row of sites.csv. ``score`` is the scorer's for ok rows, empty otherwise and when no
    scorer is given (the crawl itself scores nothing)."""
    if site.url is None:
        row = {"site_id": site.site_id, "input": site.raw, "url": "", "status": "invalid_input",
               "status_detail": site.error}
    elif record is not None:
        row = dict(record["row"])
        ok = row["status"] == "ok"
        row["score"] = round(scorer({ch: row[ch] for ch in CHANNELS}), 4) if ok and scorer else None
    else:
        row = {"site_id": site.site_id, "input": site.raw, "url": site.url, "status": "error",
               "status_detail": missing_detail}
    row.update(site.extra)
    return row


def site_rows(site_list: SiteList, records: Records, missing_detail: str, scorer: Scorer | None = None) -> list[dict]:
    """One row per input row, in input order (held in memory: for small lists and tests)."""
    return [site_row(site, records.get(site.site_id) if site.url else None, missing_detail, scorer)
            for site in site_list.sites]


def write_outputs(site_list: SiteList, records: Records, out: Path, manifest: dict,
                  missing_detail: str = "not crawled: the crawl stopped early; rerun with --resume",
                  scorer: Scorer | None = None, fmt: str = "csv") -> dict:
    """sites.csv, evidence and pages (CSV, or Parquet with ``fmt="parquet"``) and the manifest, streamed:
    one record at a time in input order from ``records`` (a :class:`~crawler.journal.JournalIndex`, or any
    mapping ``site_id -> record``), so memory does not grow with the records. Each file is written to a
    temporary file and renamed when whole; the manifest last."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    folder = AuditFolder(out)
    counts: Counter = Counter()
    tally = Counter()
    sites = CsvOut(folder.sites, [*SITE_COLUMNS, *site_list.passthrough])
    writers = [sites]
    try:
        evidence = _table(folder, AuditFolder.EVIDENCE, fmt)
        writers.append(evidence)
        pages = _table(folder, AuditFolder.PAGES, fmt)
        writers.append(pages)
        for site in site_list.sites:
            record = records.get(site.site_id) if site.url else None
            row = site_row(site, record, missing_detail, scorer)
            sites.write(row)
            counts[row["status"]] += 1
            tally["sites_rendered"] += bool(row.get("rendered") or 0)
            if record is None:
                continue
            for ev in record["evidence"]:
                evidence.write({"site_id": site.site_id, **ev})
                tally["evidence"] += 1
            for page in record["pages"]:
                pages.write(page)
                _tally_page(tally, page)
        for writer in writers:
            writer.commit()
    except BaseException:
        for writer in writers:
            writer.abort()
        raise
    for name in (AuditFolder.EVIDENCE, AuditFolder.PAGES):  # the other format's file of an earlier run
        (folder.parquet(name) if fmt == "csv" else folder.csv(name)).unlink(missing_ok=True)
    fetched, rendered = tally["fetched"], tally["rendered"]
    manifest = {
        **manifest,
        "ended": now(),
        "counts": dict(sorted(counts.items())),
        "sites": sum(counts.values()),
        "format": fmt,
        "pages_fetched": fetched,
        "pages_rendered": rendered,
        "scripts_fetched": tally["scripts"],
        "script_bytes": tally["script_bytes"],
        "rendered_share": round(rendered / fetched, 4) if fetched else 0.0,
        "sites_rendered": tally["sites_rendered"],
        **({"rendering": {**manifest["rendering"], "pages_rendered": rendered,
                          "render_errors": tally["render_errors"]}}
           if "rendering" in manifest else {}),
        "evidence_rows": tally["evidence"],
    }
    folder.write_json(AuditFolder.MANIFEST, manifest)  # atomic: a kill leaves the old one whole
    return manifest


def _tally_page(tally: Counter, page: dict) -> None:
    if page["role"] == "script":  # same-site script files read for chat loaders
        tally["scripts"] += 1
        tally["script_bytes"] += int(page["bytes"] or 0)
    if page["rendered"]:
        tally["rendered"] += 1
        tally["render_errors"] += bool(page["error"])
    elif page["role"] != "script":
        tally["fetched"] += 1


def _table(folder: AuditFolder, name: str, fmt: str):
    columns = EVIDENCE_COLUMNS if name == AuditFolder.EVIDENCE else PAGE_COLUMNS
    if fmt == "parquet":
        return ParquetOut(folder.parquet(name), columns, PARQUET_TYPES)
    return CsvOut(folder.csv(name), columns)


class CsvOut:
    """A CSV table written row by row, cell for cell as :func:`chanaudit.core.tables.write_csv` writes it
    (UTF-8 with a BOM, CRLF, formula triggers neutralised, whole numbers without ``.0``), to a temporary
    file renamed by :meth:`commit`."""

    def __init__(self, path: Path, columns):
        self.path = Path(path)
        self.columns = list(columns)
        self.tmp = self.path.with_suffix(self.path.suffix + ".tmp")
        self.fh = open(self.tmp, "w", encoding="utf-8-sig", newline="")  # noqa: SIM115 - closed in commit/abort
        self.writer = csv.writer(self.fh, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
        self.writer.writerow(self.columns)

    def write(self, row: dict) -> None:
        self.writer.writerow([_cell(row.get(c)) for c in self.columns])

    def commit(self) -> None:
        self.fh.close()
        os.replace(self.tmp, self.path)

    def abort(self) -> None:
        with contextlib.suppress(OSError):  # a full disk fails the close's flush too: the file is closed all the same
            self.fh.close()
        self.tmp.unlink(missing_ok=True)


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return neutralise(value)
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        return str(int(value)) if value.is_integer() and abs(value) < 2**53 else repr(value)
    return str(value) if isinstance(value, int) else neutralise(str(value))


#: Column types of the Parquet tables (strings otherwise): what an analyst's pandas, DuckDB or Spark reads.
PARQUET_TYPES = {"site_id": "int64", "depth": "int64", "http_status": "int64", "bytes": "int64", "rendered": "int64",
                 "elapsed_ms": "int64", "counted": "bool_"}


class ParquetOut:
    """A Parquet table written in batches of :data:`PARQUET_BATCH` rows (pyarrow), to a temporary file
    renamed by :meth:`commit`. Values are kept as they are: nothing is neutralised, as no spreadsheet opens
    Parquet."""

    def __init__(self, path: Path, columns, types: dict[str, str]):
        import pyarrow as pa
        import pyarrow.parquet as pq

        self.pa = pa
        self.path = Path(path)
        self.columns = list(columns)
        self.schema = pa.schema([(c, getattr(pa, types.get(c, "string"))()) for c in self.columns])
        self.kinds = {c: types.get(c, "string") for c in self.columns}
        self.tmp = self.path.with_suffix(self.path.suffix + ".tmp")
        try:
            self.writer = pq.ParquetWriter(self.tmp, self.schema, compression="zstd")
        except BaseException:
            self.tmp.unlink(missing_ok=True)
            raise
        self.rows: list[dict] = []

    def write(self, row: dict) -> None:
        self.rows.append(row)
        if len(self.rows) >= PARQUET_BATCH:
            self._flush()

    def _flush(self) -> None:
        if not self.rows:
            return
        arrays = [self.pa.array([_typed(r.get(c), self.kinds[c]) for r in self.rows], type=f.type)
                  for c, f in zip(self.columns, self.schema, strict=True)]
        self.writer.write_batch(self.pa.record_batch(arrays, schema=self.schema))
        self.rows = []

    def commit(self) -> None:
        self._flush()
        self.writer.close()
        os.replace(self.tmp, self.path)

    def abort(self) -> None:
        with contextlib.suppress(Exception):
            self.writer.close()
        self.tmp.unlink(missing_ok=True)


def _typed(value, kind: str):
    if value is None or (value == "" and kind != "string"):
        return None
    if kind == "int64":
        return int(value)
    if kind == "bool_":
        return value if isinstance(value, bool) else str(value).strip().lower() not in ("0", "false", "no")
    return str(value)


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
