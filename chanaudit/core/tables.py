"""CSV export that opens cleanly in Excel and cannot carry a formula.

Every table the toolkit writes goes through :func:`write_csv`: UTF-8 with a BOM
(Excel then reads Cyrillic correctly), ``,`` delimiter, and text cells that
start with ``= + - @`` or a control character prefixed with ``'`` (OWASP's
advice against CSV/formula injection). :func:`read_csv` undoes the prefix, so
our own files round-trip.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from chanaudit.core.errors import ChanauditError

_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")


def neutralise(value: object) -> object:
    if isinstance(value, str) and value and value[0] in _TRIGGERS:
        return "'" + value
    return value


def unneutralise(value: object) -> object:
    if isinstance(value, str) and len(value) > 1 and value[0] == "'" and value[1] in _TRIGGERS:
        return value[1:]
    return value


def write_csv(table: pd.DataFrame | Iterable[Mapping[str, object]], path: str | os.PathLike,
              columns: Sequence[str] | None = None) -> Path:
    """Write a DataFrame or rows atomically (temp file + rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame = table if isinstance(table, pd.DataFrame) else pd.DataFrame(list(table), columns=columns)
    if columns is not None:
        frame = frame.reindex(columns=list(columns))
    safe = frame.copy()
    for col in safe.columns:
        if safe[col].dtype == object or pd.api.types.is_string_dtype(safe[col]):
            safe[col] = safe[col].map(neutralise)
        elif _whole_floats(safe[col]):
            safe[col] = safe[col].astype("Int64")  # 200, 1, 0 and empty: never 200.0 / 1.0
    tmp = path.with_suffix(path.suffix + ".tmp")
    try:
        safe.to_csv(tmp, index=False, encoding="utf-8-sig", quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
        os.replace(tmp, path)
    except BaseException as exc:  # a full disk, a kill: the old file stays whole and no half-written temp is left
        tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError) and exc.filename is None:  # a failed write(2) names no file: say which
            raise OSError(exc.errno, exc.strerror, str(path)) from exc
        raise
    return path


def _whole_floats(column: pd.Series) -> bool:
    """A float column that only holds whole numbers and blanks (ints that met a missing value)."""
    if not pd.api.types.is_float_dtype(column):
        return False
    values = column.dropna()
    return bool(len(values)) and bool(((values % 1) == 0).all()) and bool((values.abs() < 2**53).all())


def read_csv(path: str | os.PathLike, **kwargs) -> pd.DataFrame:
    """Read a CSV written by :func:`write_csv` (BOM and ``'`` prefixes removed)."""
    frame = pd.read_csv(path, encoding="utf-8-sig", keep_default_na=False, na_values=[""], **kwargs)
    for col in frame.columns:
        if pd.api.types.is_object_dtype(frame[col]) or pd.api.types.is_string_dtype(frame[col]):
            frame[col] = frame[col].map(unneutralise)
    return frame


class TableError(ChanauditError, ValueError):
    """A table that cannot be read at all; the message names the file and the reason."""


@dataclass
class TableRead:
    """A table read as text cells, with what was sniffed and where each row came from."""

    frame: pd.DataFrame  # every cell a str ("" when empty)
    path: Path
    format: str  # "csv" or "xlsx"
    encoding: str  # "utf-8", "utf-8-sig", "cp1251", ... ("" for xlsx)
    delimiter: str  # "," ";" "\t" ("" for xlsx)
    lines: list[int] = field(default_factory=list)  # file line (CSV) or sheet row (XLSX) of each row
    ragged: list[tuple[int, int]] = field(default_factory=list)  # (line, cells) of rows wider than the header
    broken: dict[int, str] = field(default_factory=dict)  # line -> why the row could not be read


_ENCODINGS = ("utf-8-sig", "utf-8", "cp1251", "koi8-r")


def read_table(path: str | os.PathLike, sheet: str | int | None = None) -> TableRead:
    """Read a CSV (sniffing encoding and delimiter) or an XLSX sheet as text cells.

    The encoding is tried in order UTF-8 (with or without BOM), cp1251, koi8-r;
    the delimiter is sniffed among ``,`` ``;`` tab and ``|``. Raises
    :class:`TableError` naming the file when nothing fits.
    """
    path = Path(path)
    if not path.exists():
        raise TableError(f"{path}: no such file")
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return _read_xlsx(path, sheet)
    raw = path.read_bytes()
    if not raw.strip():
        raise TableError(f"{path}: the file is empty")
    if b"\x00" in raw[:4096]:
        raise TableError(f"{path}: binary content (NUL bytes), not a CSV; UTF-16 exports must be saved as UTF-8")
    for encoding in _ENCODINGS:
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        if encoding == "utf-8-sig" and not raw.startswith(b"\xef\xbb\xbf"):
            encoding = "utf-8"
        break
    else:  # pragma: no cover - koi8-r decodes every byte
        raise TableError(f"{path}: unknown text encoding")
    if encoding == "cp1251" and _looks_koi8(text):
        text, encoding = raw.decode("koi8-r"), "koi8-r"
    delimiter = _sniff_delimiter(text)
    rows, lines, broken = _csv_rows(path, text, delimiter)
    read = _frame(path, rows, lines, "csv", encoding, delimiter)
    read.broken = broken
    return read


def _csv_rows(path: Path, text: str, delimiter: str) -> tuple[list[list[str]], list[int], dict[int, str]]:
    """Rows with the file line each starts on. A quote opened and never closed would swallow the
    rest of the file into one cell: that row is reported broken (by line) and reading resumes
    on the next line, so one stray quote loses one row, not the file."""
    physical = text.splitlines(keepends=True)
    rows: list[list[str]] = []
    lines: list[int] = []
    broken: dict[int, str] = {}
    offset = 0  # physical lines consumed before the current reader
    while offset < len(physical):
        reader = csv.reader(io.StringIO("".join(physical[offset:]), newline=""), delimiter=delimiter)
        start, restart = offset + 1, None
        try:
            for row in reader:
                if offset + reader.line_num == len(physical) and offset + reader.line_num > start \
                        and _unterminated("".join(physical[start - 1:]), delimiter):
                    broken[start] = "a quote (\") opened on this line is never closed"
                    rows.append(next(csv.reader([physical[start - 1].rstrip("\r\n").replace('"', "")],
                                                delimiter=delimiter), []))
                    lines.append(start)
                    restart = start
                    break
                rows.append(row)
                lines.append(start)
                start = offset + reader.line_num + 1
        except csv.Error as exc:
            raise TableError(f"{path}:{offset + reader.line_num}: broken CSV: {exc}") from None
        if restart is None:
            break
        offset = restart
    return rows, lines, broken


def _unterminated(chunk: str, delimiter: str) -> bool:
    try:
        for _ in csv.reader(io.StringIO(chunk, newline=""), delimiter=delimiter, strict=True):
            pass
    except csv.Error as exc:
        return "unexpected end of data" in str(exc)
    return False


def _sniff_delimiter(text: str) -> str:
    """The candidate that splits the header line most (Excel in Russian locales writes ``;``)."""
    header = next((line for line in text.splitlines() if line.strip()), "")
    counts = {d: header.count(d) for d in (";", ",", "\t", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _looks_koi8(text: str) -> bool:
    # cp1251 text of koi8-r bytes is mostly upper-case Cyrillic; real Russian is mostly lower-case.
    letters = [ch for ch in text if "\u0410" <= ch <= "\u044f"]
    return bool(letters) and sum(ch.isupper() for ch in letters) > 0.6 * len(letters)


def _read_xlsx(path: Path, sheet: str | int | None) -> TableRead:
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a broken file
        raise TableError(f"{path}: not a readable XLSX workbook ({exc})") from None
    try:
        ws = book[sheet] if isinstance(sheet, str) else book.worksheets[sheet or 0]
    except (KeyError, IndexError):
        raise TableError(f"{path}: no sheet {sheet!r} (sheets: {', '.join(book.sheetnames)})") from None
    rows, lines = [], []
    for idx, row in enumerate(ws.iter_rows(values_only=True), start=1):
        cells = ["" if v is None else (str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)) for v in row]
        rows.append(cells)
        lines.append(idx)
    book.close()
    return _frame(path, rows, lines, "xlsx", "", "")


def _frame(path: Path, rows: list[list[str]], lines: list[int], fmt: str, encoding: str, delimiter: str) -> TableRead:
    while rows and not any(c.strip() for c in rows[0]):
        rows.pop(0)
        lines.pop(0)
    if not rows:
        raise TableError(f"{path}: no header row")
    header = [h.strip().strip("\ufeff") for h in rows[0]]
    if any(not h for h in header):
        header = [h or f"column_{i + 1}" for i, h in enumerate(header)]
    seen: dict[str, int] = {}
    for i, h in enumerate(header):
        if h in seen:
            seen[h] += 1
            header[i] = f"{h}_{seen[h]}"
        else:
            seen[h] = 1
    body, body_lines, ragged = [], [], []
    for row, line in zip(rows[1:], lines[1:], strict=True):
        if not any(c.strip() for c in row):
            continue  # blank line
        cells = list(row[: len(header)]) + [""] * (len(header) - len(row))
        if len(row) > len(header) and any(c.strip() for c in row[len(header):]):
            ragged.append((line, len(row)))
        body.append(cells)
        body_lines.append(line)
    frame = pd.DataFrame(body, columns=header, dtype=object)
    return TableRead(frame, path, fmt, encoding, delimiter, body_lines, ragged)
