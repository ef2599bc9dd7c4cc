"""``chanaudit benchmark DOMAIN --against AUDIT``: one company's channels and score against the market, as a
table (``benchmark-<domain>.csv``) and a one-page chart (``benchmark-<domain>-<lang>.png/.svg/.pdf``).

The statistics are :mod:`chanaudit.analysis.benchmark`'s; this module reads the audit, scores it with the
weights the audit's scoring used, and draws."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from chanaudit.analysis.benchmark import Benchmark, benchmark
from chanaudit.analysis.stage import audit_sites
from chanaudit.core.errors import InvalidOption
from chanaudit.core.folder import AuditFolder
from chanaudit.reports import charts
from chanaudit.reports.style import lang_of
from chanaudit.scoring import used_weights
from chanaudit.scoring.rank import score_sites
from chanaudit.scoring.weights import default_weights

FORMATS = ("png", "svg", "pdf")


@dataclass
class BenchmarkResult:
    benchmark: Benchmark
    table: Path
    charts: list[Path] = field(default_factory=list)


def write_benchmark(domain: str, audit: AuditFolder | str | os.PathLike, out: str | os.PathLike | None = None,
                    lang: str = "ru", formats=FORMATS, place: str | None = None,
                    overrides: str | os.PathLike | None = None) -> BenchmarkResult:
    """Benchmark the company of ``domain`` against the audit folder ``audit`` and write the table and the chart
    into ``out`` (default ``AUDIT/report``). ``place`` is the column of the local peers (default ``city``, else
    ``region``, else the phone region); ``overrides`` applies review decisions first."""
    folder = AuditFolder.of(audit).check()
    formats = tuple(formats)
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise InvalidOption(f"chart formats must be among {', '.join(FORMATS)}, not {', '.join(unknown) or 'none'}")
    if lang not in ("ru", "en"):
        raise InvalidOption(f"lang must be ru or en, not {lang!r}")
    sites, evidence, applied = audit_sites(folder, overrides, "benchmark")
    scored = score_sites(sites, used_weights(folder) or default_weights())
    result = benchmark(scored, domain, evidence, place=place)
    if applied is not None:  # the values the review changed, per channel, in the whole audit
        result.table = applied.annotate(result.table.rename(columns={"metric": "channel"})).rename(
            columns={"channel": "metric"})
    target = AuditFolder(folder.report_dir if out is None else out)
    stem = AuditFolder.benchmark(result.summary["domain"])
    table = target.write(stem, result.table)
    fig = charts.benchmark_page(result.table, result.summary, result.scores, lang=lang_of(lang))
    paths = charts.save_figure(fig, target.path / f"{stem}-{lang_of(lang)}", formats)
    return BenchmarkResult(result, table, paths)
