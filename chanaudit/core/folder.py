"""The audit folder: the one place that knows its file names (docs/contract.md).

``chanaudit audit SITES --out DIR`` writes ``sites.csv``, ``evidence.csv``, ``pages.csv`` and
``manifest.json`` (and its journal); the later stages add their tables beside them
(``scores.csv``, ``prevalence.csv``, ``reproduce-<study>.csv``…) and the report folder.
Every stage reads and writes the folder through :class:`AuditFolder`.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
from pathlib import Path

import pandas as pd

from chanaudit.core.errors import ChanauditError
from chanaudit.core.tables import read_csv, write_csv


class NotAnAuditFolder(ChanauditError):
    """A folder without the audit's ``sites.csv``."""


class MissingTable(ChanauditError):
    """A table a stage needs is not in the audit folder (run the stage that writes it first)."""


class FolderInUse(ChanauditError):
    """Another run holds the folder's lock (``DIR/.lock``); the message names the folder and its processes."""


class FolderLock:
    """An exclusive ``flock`` on ``DIR/.lock`` for the length of a run, so that two runs never write one folder.

    The lock belongs to the open file, not to a process: the crawler children inherit the descriptor
    (``subprocess.Popen(pass_fds=[lock.fd])``) and keep the folder locked while any of them lives, also
    after their parent was killed. The file lists the holders' pids, for the message a second run gets."""

    def __init__(self, folder: str | os.PathLike):
        self.folder = Path(folder)
        self.path = self.folder / AuditFolder.LOCK
        self.fd: int | None = None

    def acquire(self) -> FolderLock:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            holders = os.pread(fd, 4096, 0).decode("utf-8", "replace")
            os.close(fd)
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise
            raise FolderInUse(f"{self.folder}: in use by another chanaudit run ({_describe(holders)}); wait for it "
                              "to end or stop it, then rerun with --resume") from None
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, f"run {os.getpid()}\n".encode())
        self.fd = fd
        return self

    def add(self, role: str, pid: int) -> None:
        """Name one more process holding the lock (a crawler child)."""
        if self.fd is not None:
            os.write(self.fd, f"{role} {pid}\n".encode())  # after the lines written before

    def release(self) -> None:
        """Close this process's descriptor: the folder is free once every child's copy is closed too."""
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def __enter__(self) -> FolderLock:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


def _read_parquet(path: Path) -> pd.DataFrame:
    """A Parquet table as :func:`~chanaudit.core.tables.read_csv` reads its CSV: empty text is missing."""
    frame = pd.read_parquet(path)
    for col in frame.columns:
        if pd.api.types.is_object_dtype(frame[col]) or pd.api.types.is_string_dtype(frame[col]):
            frame[col] = frame[col].mask(frame[col] == "")
    return frame


def _describe(holders: str) -> str:
    """``run 12 (ended); crawler 13, 14``: the lock file's processes, those still alive marked as such."""
    parts = []
    for line in holders.splitlines():
        role, _, pid = line.partition(" ")
        if pid.isdigit():
            parts.append(f"{role} pid {pid}" + ("" if _alive(int(pid)) else " (ended)"))
    return "; ".join(parts) or "holder unknown"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class AuditFolder:
    """An audit's output folder. ``AuditFolder("out").sites`` is the path of ``out/sites.csv``;
    :meth:`read` and :meth:`write` go through the safe CSV I/O (:mod:`chanaudit.core.tables`)."""

    #: The crawler's outputs (the contract).
    SITES = "sites"
    EVIDENCE = "evidence"
    PAGES = "pages"
    MANIFEST = "manifest.json"
    JOURNAL = "journal.jsonl"
    LOCK = ".lock"
    CRAWL_LOG = "crawl.log"
    CRAWL_STDERR = "crawl.stderr.log"
    #: Scoring's outputs.
    SCORES = "scores"
    TOP = "top"
    SENSITIVITY = "sensitivity"
    SCORING = "scoring.json"
    #: Analysis tables written by ``analyze`` (and computed on the fly by the report when absent).
    PREVALENCE = "prevalence"
    #: The flow of the sample: input rows -> valid -> answered -> working company websites (the base).
    FLOW = "flow"
    CHANNEL_COUNTS = "channel_counts"
    COMBINATIONS = "combinations"
    ACCURACY = "accuracy"
    SURVEY_FIGURES = "survey_figures"
    REPORT = "report"
    #: ``compare OLD NEW --out DIR``: one row per channel, the sites not paired, and for three waves or
    #: more Cochran's Q and each wave's shares.
    COMPARE = "compare"
    UNPAIRED = "unpaired"
    COCHRAN = "cochran"
    WAVES = "waves"
    #: ``sample AUDIT --out DIR``: the blind coding sheet and its key; ``validate``: agreement with the
    #: human coding and the prevalence corrected for misclassification.
    CODING_SHEET = "coding_sheet"
    SAMPLE_KEY = "sample_key"
    VALIDATION = "validation"
    PREVALENCE_CORRECTED = "prevalence_corrected"
    #: A survey folder (``chanaudit survey import --out``): the coded answers and the import's issues;
    #: ``survey join`` adds the joined table and what did not match, ``survey summary`` the 2026 figures
    #: (:attr:`SURVEY_FIGURES`) and tool type vs SLA control.
    SURVEY = "survey"
    SURVEY_ISSUES = "issues"
    SURVEY_EXPORT = "survey-export"
    JOINED = "joined"
    UNMATCHED_SURVEY = "unmatched_survey"
    UNMATCHED_SITES = "unmatched_sites"
    TOOL_VS_SLA = "tool_vs_sla"
    TOOL_VS_SLA_TEST = "tool_vs_sla.json"
    SLA_REGRESSION = "sla_regression"
    #: The report folder (``DIR/report`` unless ``chanaudit report --out``): the report links to the review
    #: page (``chanaudit review`` writes it too).
    REPORT_HTML = "report.html"
    REPORT_PDF = "report.pdf"
    REVIEW_HTML = "review.html"
    CHARTS = "charts"
    #: Human decisions (:mod:`chanaudit.core.overrides`): the file the review page exports, and what a stage
    #: given ``--overrides`` writes: one row per decided site and channel, and every finding with its decision.
    OVERRIDES = "overrides"
    OVERRIDES_APPLIED = "overrides_applied"
    EVIDENCE_REVIEWED = "evidence_reviewed"
    #: ``chanaudit prospects``: one row per company for a CRM (``prospects.xlsx`` beside the CSV);
    #: ``chanaudit benchmark``: one company against the market (:meth:`benchmark`), table and one-page chart.
    PROSPECTS = "prospects"

    @staticmethod
    def groups(column: str) -> str:
        """The table of a group comparison by ``column`` (``groups-city``)."""
        return f"groups-{column}"

    @staticmethod
    def group_tests(column: str) -> str:
        """The independence tests of a group comparison by ``column`` (``groups-city-tests``)."""
        return f"groups-{column}-tests"

    @staticmethod
    def benchmark(domain: str) -> str:
        """The table and chart stem of one company's benchmark (``benchmark-firm.ru``)."""
        safe = "".join(ch if ch.isalnum() or ch in ".-" else "_" for ch in domain)
        return f"benchmark-{safe}"

    @staticmethod
    def reproduction(study_id: str) -> str:
        """The published-vs-reproduced table of a study (``reproduce-okdesk-2016-it-outsourcing``)."""
        return f"reproduce-{study_id}"

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)

    @classmethod
    def of(cls, folder: AuditFolder | str | os.PathLike) -> AuditFolder:
        """``folder`` itself when it is an :class:`AuditFolder`, else the folder at that path."""
        return folder if isinstance(folder, AuditFolder) else cls(folder)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AuditFolder) and other.path == self.path

    def __hash__(self) -> int:
        return hash(self.path)

    def __repr__(self) -> str:
        return f"AuditFolder({str(self.path)!r})"

    def __fspath__(self) -> str:
        return str(self.path)

    def __str__(self) -> str:
        return str(self.path)

    # -- paths -------------------------------------------------------------------
    @staticmethod
    def csv_name(name: str) -> str:
        """The file name of table ``name`` (``"sites"`` -> ``sites.csv``)."""
        return f"{name}.csv"

    def csv(self, name: str) -> Path:
        """The path of table ``name`` (``"sites"`` -> ``DIR/sites.csv``)."""
        return self.path / self.csv_name(name)

    def parquet(self, name: str) -> Path:
        """The Parquet file of table ``name``: evidence and pages of ``chanaudit audit --format parquet``."""
        return self.path / f"{name}.parquet"

    @property
    def sites(self) -> Path:
        return self.csv(self.SITES)

    @property
    def evidence(self) -> Path:
        return self.csv(self.EVIDENCE)

    @property
    def pages(self) -> Path:
        return self.csv(self.PAGES)

    @property
    def manifest_path(self) -> Path:
        return self.path / self.MANIFEST

    @property
    def journal(self) -> Path:
        return self.path / self.JOURNAL

    @property
    def lock(self) -> Path:
        return self.path / self.LOCK

    @property
    def scoring_path(self) -> Path:
        return self.path / self.SCORING

    @property
    def report_dir(self) -> Path:
        return self.path / self.REPORT

    def file(self, name: str) -> Path:
        """The path of a file that is not a CSV table (``scoring.json``, ``report.html``)."""
        return self.path / name

    # -- reading and writing -------------------------------------------------------
    def exists(self) -> bool:
        return self.sites.exists()

    def check(self) -> AuditFolder:
        """Raise :class:`NotAnAuditFolder` unless the folder holds ``sites.csv``."""
        if not self.sites.exists():
            raise NotAnAuditFolder(f"{self.sites}: no such file (is {self.path} an audit folder?)")
        return self

    def has(self, name: str) -> bool:
        return self.csv(name).exists() or self.parquet(name).exists()

    def read(self, name: str) -> pd.DataFrame:
        """Table ``name`` (its CSV, or its Parquet file when there is no CSV); :class:`NotAnAuditFolder` /
        :class:`MissingTable` when it is not there."""
        if name == self.SITES:
            self.check()
        elif not self.has(name):
            raise MissingTable(f"{self.csv(name)}: no such file")
        if not self.csv(name).exists():
            return _read_parquet(self.parquet(name))
        return read_csv(self.csv(name))

    def read_sites(self) -> pd.DataFrame:
        return self.read(self.SITES)

    def write(self, name: str, table, columns=None) -> Path:
        return write_csv(table, self.csv(name), columns=columns)

    def tables(self) -> dict[str, pd.DataFrame]:
        """Every CSV table of the folder, by name (``sites``, ``prevalence``, ``groups-city``…)."""
        self.check()
        tables = {path.stem: read_csv(path) for path in sorted(self.path.glob("*.csv"))}
        for name in (self.EVIDENCE, self.PAGES):  # written as Parquet by `chanaudit audit --format parquet`
            if name not in tables and self.parquet(name).exists():
                tables[name] = _read_parquet(self.parquet(name))
        return tables

    def manifest(self) -> dict:
        """``manifest.json``, or ``{}`` when the folder has none."""
        if not self.manifest_path.exists():
            return {}
        return json.loads(self.manifest_path.read_text(encoding="utf-8"))

    def write_json(self, name: str, data: dict) -> Path:
        """A JSON file of the folder (``manifest.json``, ``scoring.json``), written atomically."""
        path = self.path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        try:
            tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
            os.replace(tmp, path)
        except BaseException as exc:
            tmp.unlink(missing_ok=True)
            if isinstance(exc, OSError) and exc.filename is None:
                raise OSError(exc.errno, exc.strerror, str(path)) from exc
            raise
        return path

    def read_json(self, name: str) -> dict:
        path = self.path / name
        return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
