"""The journal: one JSON line per finished site, appended and flushed at once.

It is the single source of truth of a run: the CSV outputs are rebuilt from it,
and ``--resume`` skips the sites it holds. A line cut by a kill (``kill -9``
mid-write) is dropped on reading, so that site is simply done again.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path

from chanaudit.core.contract import Evidence

JOURNAL = "journal.jsonl"


class Journal:
    def __init__(self, path: Path):
        self.path = Path(path)
        self._fh = None

    def open(self) -> Journal:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        repair(self.path)
        self._fh = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 - closed in close()
        return self

    def record(self, row: dict, evidence: list[tuple[str, Evidence]], pages: list) -> None:
        line = {
            "row": row,
            "evidence": [{"page_role": role, **ev.as_dict()} for role, ev in evidence],
            "pages": [asdict(p) for p in pages],
        }
        self._fh.write(json.dumps(line, ensure_ascii=False, default=str) + "\n")
        self._fh.flush()
        os.fsync(self._fh.fileno())

    def close(self) -> None:
        if self._fh:
            self._fh.close()
            self._fh = None


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
