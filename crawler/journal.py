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
from collections.abc import Callable
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
        line = {
            "row": row,
            "evidence": [{"page_role": role, **ev.as_dict()} for role, ev in evidence],
            "pages": [asdict(p) for p in pages],
        }
        data = (json.dumps(line, ensure_ascii=False, default=str) + "\n").encode("utf-8")
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
