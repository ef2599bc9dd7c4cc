"""The journal: one JSON line per finished site, appended and flushed at once.

It is the single source of truth of a run: the CSV outputs are rebuilt from it,
and ``--resume`` skips the sites it holds. A line cut by a kill (``kill -9``
mid-write) or a full disk is dropped on reading, so that site is simply done again.

Only finished sites are written. A run-level stop (the parent died, SIGTERM, a full
disk) *seals* the journal first: whatever the crawler does while it winds down
(cancelled requests reaching their errbacks) is not a site's result and is not written.
"""

from __future__ import annotations

import json
import os
import re
from array import array
from collections.abc import Callable, Iterable
from dataclasses import asdict
from pathlib import Path

from chanaudit.core.contract import Evidence

JOURNAL = "journal.jsonl"


class Journal:
    def __init__(self, path: Path, on_error: Callable[[OSError], None] | None = None):
        self.path = Path(path)
        self.on_error = on_error  # called once when a write fails (a full disk): the run must stop
        self.error: OSError | None = None
        self.sealed = False
        self._fd: int | None = None

    def open(self) -> Journal:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        repair(self.path)
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
        return self

    def record(self, row: dict, evidence: list[tuple[str, Evidence]], pages: list) -> bool:
        """Append one finished site, on disk before returning; False when the journal is sealed or the
        write failed (the site is then not finished, and ``--resume`` does it again)."""
        if self.sealed or self._fd is None:
            return False
        return self.append([journal_line(row, evidence, pages)])

    def append(self, lines: Iterable[bytes]) -> bool:
        """Append whole lines (a queued run's results, :mod:`crawler.coordinator`) with one ``fsync``."""
        if self.sealed or self._fd is None:
            return False
        data = b"".join(lines)
        try:
            while data:  # one write(2) unless the disk fills mid-line; a cut line is repaired on reading
                data = data[os.write(self._fd, data):]
            os.fsync(self._fd)
        except OSError as exc:
            self.error, self.sealed = exc, True
            if self.on_error:
                self.on_error(exc)
            return False
        return True

    def seal(self) -> None:
        """Write nothing more: the run is stopping, and what finishes now is not a site's result."""
        self.sealed = True

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def journal_line(row: dict, evidence: list[tuple[str, Evidence]], pages: list) -> bytes:
    """One finished site as a journal line: ``{"row": …, "evidence": […], "pages": […]}`` and a newline.
    ``row`` comes first and starts with ``site_id``, which :class:`JournalIndex` reads without parsing."""
    line = {
        "row": row,
        "evidence": [{"page_role": role, **ev.as_dict()} for role, ev in evidence],
        "pages": [asdict(p) for p in pages],
    }
    return (json.dumps(line, ensure_ascii=False, default=str) + "\n").encode("utf-8")


def repair(path: Path) -> None:
    """Cut a last line left half-written by a kill, so that appending stays line-aligned."""
    path = Path(path)
    if not path.exists():
        return
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        with open(path, "r+b") as fh:
            fh.truncate(data.rfind(b"\n") + 1)


def journal_files(path: Path) -> list[Path]:
    """The journal and those of parallel workers (``journal.jsonl``, ``journal.1.jsonl``...)."""
    path = Path(path)
    return sorted(path.parent.glob(path.stem + "*" + path.suffix))


def read_journal(path: Path) -> dict[int, dict]:
    """site_id -> the last complete record of that site, over all workers' journals."""
    records: dict[int, dict] = {}
    for part in journal_files(path):
        _read_one(part, records)
    return records


def _read_one(path: Path, records: dict[int, dict]) -> None:
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if not line.endswith("\n"):
                break  # cut by a kill
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                continue
            records[int(rec["row"]["site_id"])] = rec


def count_lines(path: Path) -> int:
    """Finished sites so far, over all workers' journals."""
    total = 0
    for part in journal_files(path):
        try:
            with open(part, "rb") as fh:
                total += sum(chunk.count(b"\n") for chunk in iter(lambda fh=fh: fh.read(1 << 20), b""))
        except FileNotFoundError:
            continue
    return total


_SITE_ID = re.compile(rb'\{"row": \{"site_id": (\d+)[,}]')


class JournalIndex:
    """Where each site's last complete record is, over all workers' journals: the file, the offset and
    the length of its line, in three arrays indexed by site id (about 20 bytes a site, whatever the
    records hold). The outputs are written from it one record at a time, in input order, so a run of
    1,000,000 sites never holds its records in memory (:func:`crawler.output.write_outputs`).

    Behaves as a read-only mapping ``site_id -> record`` (``in``, ``get``, ``len``), as the dict of
    :func:`read_journal` does."""

    def __init__(self, path: Path, n_sites: int):
        self.files = journal_files(path)
        self._file = array("h", [-1]) * (n_sites + 1)
        self._offset = array("q", [0]) * (n_sites + 1)
        self._length = array("l", [0]) * (n_sites + 1)
        self._count = 0
        self._handles: dict[int, object] = {}
        for k, part in enumerate(self.files):
            self._scan(k, part)

    def _scan(self, k: int, part: Path) -> None:
        pos = 0
        with open(part, "rb") as fh:
            for line in fh:
                if not line.endswith(b"\n"):
                    break  # cut by a kill
                match = _SITE_ID.match(line)
                site_id = int(match[1]) if match else _site_id_of(line)
                if site_id is not None and 0 < site_id < len(self._file):
                    if self._file[site_id] < 0:
                        self._count += 1
                    self._file[site_id], self._offset[site_id], self._length[site_id] = k, pos, len(line)
                pos += len(line)

    def __contains__(self, site_id: object) -> bool:
        return isinstance(site_id, int) and 0 < site_id < len(self._file) and self._file[site_id] >= 0

    def __len__(self) -> int:
        return self._count

    def __iter__(self):
        return (i for i in range(1, len(self._file)) if self._file[i] >= 0)

    def get(self, site_id: int, default=None) -> dict | None:
        """The site's record, read from its journal; ``default`` when it has none (or its line does not
        parse: the site is then done again on resume)."""
        if site_id not in self:
            return default
        k = self._file[site_id]
        fh = self._handles.get(k)
        if fh is None:
            fh = self._handles[k] = open(self.files[k], "rb")  # noqa: SIM115 - closed in close()
        fh.seek(self._offset[site_id])
        try:
            return json.loads(fh.read(self._length[site_id]))
        except (ValueError, UnicodeDecodeError):
            return default

    def __getitem__(self, site_id: int) -> dict:
        record = self.get(site_id)
        if record is None:
            raise KeyError(site_id)
        return record

    def close(self) -> None:
        for fh in self._handles.values():
            fh.close()
        self._handles.clear()

    def __enter__(self) -> JournalIndex:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _site_id_of(line: bytes) -> int | None:
    """The site id of a line not in the usual shape (keys in another order): parsed in full."""
    try:
        return int(json.loads(line)["row"]["site_id"])
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        return None
