"""Helpers of the fault-and-attack suite (tests/test_faults_*.py): run the real CLI in a subprocess,
kill it for real, and check what every invocation printed and left behind."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from chanaudit.core.folder import AuditFolder
from chanaudit.core.tables import read_csv
from chanaudit.crawler.journal import count_lines


@contextlib.contextmanager
def latency_market(tmp_path: Path, prefix: str, n: int = 16, latency: float = 0.2):
    """``n`` healthy sites (the basic fixture), each request answered after ``latency`` s: a run of some
    seconds, long enough to kill something in it. Yields (server, the site list's path)."""
    from chanaudit.demo.server import Site, SiteServer
    from tests.conftest import FIXTURES, write_sites_csv

    sites = [Site(f"{prefix}{i}", root=FIXTURES / "sites" / "basic") for i in range(n)]
    with SiteServer(sites, latency=latency) as server:
        yield server, write_sites_csv(tmp_path / "in.csv", [{"url": server.url(s.name), "name": s.name} for s in sites])


ENV = {**os.environ, "TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS": "", "MPLBACKEND": "Agg", "COLUMNS": "200"}
CLI = [sys.executable, "-m", "chanaudit.cli"]


@dataclass
class Done:
    returncode: int
    output: str  # stdout and stderr together


def chanaudit(*args, timeout: float = 180, env: dict | None = None, prefix: tuple = ()) -> Done:
    """Run ``chanaudit ARGS`` to its end; the output must never hold a traceback."""
    done = subprocess.run([*prefix, *CLI, *map(str, args)], env={**ENV, **(env or {})}, capture_output=True,
                          text=True, timeout=timeout)
    output = done.stdout + done.stderr
    assert "Traceback" not in output, output
    return Done(done.returncode, output)


def start(*args, prefix: tuple = ()) -> subprocess.Popen:
    """Start ``chanaudit ARGS`` in a session of its own (so a test can signal it, or its whole group)."""
    return subprocess.Popen([*prefix, *CLI, *map(str, args)], env=ENV, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def finish(proc: subprocess.Popen, timeout: float = 60) -> Done:
    output, _ = proc.communicate(timeout=timeout)
    assert "Traceback" not in output, output
    return Done(proc.returncode, output)


def wait_for(predicate, timeout: float = 60, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def journaled(out: Path) -> int:
    return count_lines(AuditFolder(out).journal)


def crawler_pids(out: Path) -> list[int]:
    """The crawler children named in the folder's lock file."""
    lock = AuditFolder(out).lock
    text = lock.read_text(encoding="utf-8") if lock.exists() else ""
    return [int(pid) for role, _, pid in (line.partition(" ") for line in text.splitlines()) if role == "crawler"]


def alive(pid: int) -> bool:
    """Running (a zombie, or no process at all, is not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def one_row_per_input(out: Path, n: int):
    """sites.csv holds input rows 1..n once each, in order; returns the frame."""
    frame = read_csv(AuditFolder(out).sites)
    assert list(frame["site_id"]) == list(range(1, n + 1)), list(frame["site_id"])
    return frame


def stale_dimension(xlsx: Path, ref: str) -> Path:
    """Rewrite the ``<dimension ref>`` of every sheet of ``xlsx`` (as exporters that count rows wrongly do)."""
    import re
    import zipfile

    data = {}
    with zipfile.ZipFile(xlsx) as archive:
        infos = archive.infolist()
        for info in infos:
            data[info.filename] = archive.read(info)
    with zipfile.ZipFile(xlsx, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in infos:
            body = data[info.filename]
            if info.filename.startswith("xl/worksheets/sheet"):
                body, n = re.subn(rb'<dimension ref="[^"]*"', f'<dimension ref="{ref}"'.encode(), body)
                assert n == 1, info.filename
            archive.writestr(info, body)
    return xlsx


def write_xlsx(path: Path, rows: list[list]) -> Path:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def edit_sheet(xlsx: Path, old: bytes, new: bytes) -> Path:
    """Replace bytes in the first sheet's XML (cells openpyxl would not write: over Excel's length limit)."""
    import zipfile

    with zipfile.ZipFile(xlsx) as archive:
        parts = [(info, archive.read(info)) for info in archive.infolist()]
    with zipfile.ZipFile(xlsx, "w", zipfile.ZIP_DEFLATED) as archive:
        for info, body in parts:
            if info.filename == "xl/worksheets/sheet1.xml":
                assert old in body
                body = body.replace(old, new)
            archive.writestr(info, body)
    return xlsx
