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

from crawler.evidence import Evidence

JOURNAL = "journal.jsonl"


class Journal:
    def __init__(self, path: Path):
        self.path = Path(path)
        self._fh = None

    def open(self) -> Journal:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._truncate_partial()
        self._fh = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 - closed in close()
        return self

    def _truncate_partial(self) -> None:
        if not self.path.exists():
            return
        data = self.path.read_bytes()
        if data and not data.endswith(b"\n"):
            keep = data.rfind(b"\n") + 1
            with open(self.path, "r+b") as fh:
                fh.truncate(keep)

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


def read_journal(path: Path) -> dict[int, dict]:
    """site_id -> the last complete record of that site."""
    records: dict[int, dict] = {}
    if not Path(path).exists():
        return records
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if not line.endswith("\n"):
                break  # cut by a kill
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                continue
            records[int(rec["row"]["site_id"])] = rec
    return records


def count_lines(path: Path) -> int:
    try:
        with open(path, "rb") as fh:
            return sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 20), b""))
    except FileNotFoundError:
        return 0
