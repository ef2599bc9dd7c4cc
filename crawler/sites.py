"""Reading a site list: CSV or XLSX, one site per row, nothing dropped.

The site column is found by name (``url``, ``domain``, ``site``, ``website``,
``сайт``, ``адрес``...); every other column passes through to the results.
A row whose cell is not a usable URL or domain is kept, with status
``invalid_input`` and a message naming the file, line and reason.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from chanaudit.core.contract import SITE_COLUMNS
from chanaudit.core.tables import TableError, read_table
from chanaudit.crawler.urls import InvalidSiteInput, normalize_site_url

#: Accepted names of the site column, most specific first (case-insensitive).
INPUT_COLUMNS = ("url", "domain", "site", "website", "homepage", "сайт", "адрес сайта", "адрес", "домен", "web")

#: Output columns of the audit contract; input columns with these names are renamed ``input_<name>``.
RESERVED = SITE_COLUMNS


class SiteListError(TableError):
    """The site list cannot be used at all (no site column, unreadable file)."""


@dataclass(slots=True)
class SiteInput:
    site_id: int  # 1-based position in the input: stable across resumed runs
    line: int  # line (CSV) or row (XLSX) in the input file
    raw: str  # the cell as given
    url: str | None  # normalised start URL, None when invalid
    error: str | None = None  # why the cell is invalid
    extra: dict[str, str] = field(default_factory=dict)  # pass-through columns


@dataclass
class SiteList:
    path: Path
    column: str
    sites: list[SiteInput]
    passthrough: list[str]
    encoding: str
    delimiter: str
    format: str
    sha256: str
    warnings: list[str] = field(default_factory=list)

    @property
    def invalid(self) -> list[SiteInput]:
        return [s for s in self.sites if s.url is None]


def read_sites(path: str | Path, column: str | None = None, sheet: str | int | None = None) -> SiteList:
    """Read a site list; see the module docstring."""
    path = Path(path)
    try:
        table = read_table(path, sheet=sheet)
    except TableError as exc:
        raise SiteListError(str(exc)) from None
    frame = table.frame
    lines = list(table.lines)
    if column is None and len(frame.columns) == 1 and _looks_like_site(frame.columns[0]):
        # A bare list of domains without a header: the first line is a site too.
        first = frame.columns[0]
        frame = pd.concat([pd.DataFrame({"site": [first]}), frame.rename(columns={first: "site"})],
                          ignore_index=True)
        lines = [(lines[0] - 1) if lines else 1, *lines]
    chosen = _site_column(frame.columns, column, path)
    passthrough = [c for c in frame.columns if c != chosen]
    renamed = {c: (f"input_{c}" if c.lower() in RESERVED else c) for c in passthrough}
    warnings = [f"{path}:{line}: {cells} cells in a row with {len(frame.columns)} columns; extra cells ignored"
                for line, cells in table.ragged]
    warnings += [f"{path}:{line}: {note}" for line, note in sorted(table.notes.items())]
    sites: list[SiteInput] = []
    for idx, (row, line) in enumerate(zip(frame.itertuples(index=False), lines, strict=True), start=1):
        values = dict(zip(frame.columns, row, strict=True))
        raw = str(values[chosen] or "")
        extra = {renamed[c]: str(values[c] or "") for c in passthrough}
        try:
            if line in table.broken:
                raise InvalidSiteInput(table.broken[line])
            url, error = normalize_site_url(raw), None
        except InvalidSiteInput as exc:
            url, error = None, f"{path}:{line}: {exc}"
        sites.append(SiteInput(idx, line, raw, url, error, extra))
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return SiteList(path, chosen, sites, list(renamed.values()), table.encoding, table.delimiter,
                    table.format, digest, warnings)


def _looks_like_site(cell: str) -> bool:
    if cell.lower().strip() in INPUT_COLUMNS:
        return False
    try:
        normalize_site_url(cell)
    except InvalidSiteInput:
        return False
    return True


def _site_column(columns, wanted: str | None, path: Path) -> str:
    lower = {c.lower().strip(): c for c in columns}
    if wanted:
        if wanted.lower() in lower:
            return lower[wanted.lower()]
        raise SiteListError(f"{path}: no column {wanted!r} (columns: {', '.join(columns)})")
    for name in INPUT_COLUMNS:
        if name in lower:
            return lower[name]
    if len(columns) == 1:
        return columns[0]
    raise SiteListError(
        f"{path}: no site column; name one of {', '.join(INPUT_COLUMNS[:5])} or pass --column "
        f"(columns: {', '.join(columns)})"
    )
