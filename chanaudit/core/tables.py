"""CSV export that opens cleanly in Excel and cannot carry a formula.

Every table the toolkit writes goes through :func:`write_csv`: UTF-8 with a BOM
(Excel then reads Cyrillic correctly), ``,`` delimiter, and text cells that
start with ``= + - @`` or a control character prefixed with ``'`` (OWASP's
advice against CSV/formula injection). :func:`read_csv` undoes the prefix, so
our own files round-trip. :func:`write_xlsx` writes workbooks for people (frozen
header, filters, column widths) where such cells are text, never formulas.
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
    """Read a CSV written by :func:`write_csv` (BOM and ``'`` prefixes removed); :class:`TableError` naming
    the file when it is no such table (empty, binary, not UTF-8, a folder)."""
    if Path(path).is_dir():
        raise TableError(f"{path}: a folder, not a CSV table")
    try:
        frame = pd.read_csv(path, encoding="utf-8-sig", keep_default_na=False, na_values=[""], **kwargs)
    except pd.errors.EmptyDataError:
        raise TableError(f"{path}: empty, not a CSV table written by chanaudit") from None
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        raise TableError(f"{path}: not a CSV table written by chanaudit ({str(exc).splitlines()[0]})") from None
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
    notes: dict[int, str] = field(default_factory=dict)  # line -> what was read differently (its encoding)


_ENCODINGS = ("utf-8-sig", "utf-8", "cp1251", "koi8-r")

#: The longest cell read: Excel's own limit. A longer cell (a runaway quote, a pasted blob) costs its row,
#: which is kept with the cell emptied and reported, never the file.
MAX_CELL_CHARS = 32_767
#: The most an XLSX workbook may unpack to (all its parts); more is refused as a zip bomb before parsing.
MAX_XLSX_UNPACKED = 100 * 1024 * 1024


def read_table(path: str | os.PathLike, sheet: str | int | None = None) -> TableRead:
    """Read a CSV (sniffing encoding and delimiter) or an XLSX sheet as text cells.

    The encoding is tried in order UTF-8 (with or without BOM), cp1251, koi8-r; a file of mixed
    encodings is read line by line, each line in the file's majority encoding or, when its bytes do not
    fit it, in the other one (those lines are listed in ``notes``). The delimiter is sniffed among ``,``
    ``;`` tab and ``|``. One bad row costs itself (``broken``: a quote never closed or swallowing
    rows, a NUL byte, a cell over :data:`MAX_CELL_CHARS`). Raises :class:`TableError` naming the file
    when nothing can be read at all.
    """
    path = Path(path)
    if not path.exists():
        raise TableError(f"{path}: no such file")
    if path.is_dir():
        raise TableError(f"{path}: a folder, not a CSV or XLSX file")
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return _read_xlsx(path, sheet)
    raw = path.read_bytes()
    if not raw.strip():
        raise TableError(f"{path}: the file is empty")
    if raw.startswith(b"PK\x03\x04"):
        raise TableError(f"{path}: binary content (a ZIP archive: an XLSX workbook named .csv?), not a CSV")
    if _binary(raw[:4096]):
        raise TableError(f"{path}: binary content (NUL bytes), not a CSV; UTF-16 exports must be saved as UTF-8")
    text, encoding, notes = _decode(raw)
    broken = {}
    if "\x00" in text:  # a few NUL bytes in a text file: their rows are lost, not the file
        for number, line in enumerate(_lines(text), start=1):
            if "\x00" in line:
                broken[number] = "a NUL byte (binary data) in the row"
        text = text.replace("\x00", "")
    delimiter = _sniff_delimiter(text)
    rows, lines, unread = _csv_rows(path, text, delimiter)
    too_long = _too_long(rows, lines)  # before the frame is built: the long cells are emptied
    read = _frame(path, rows, lines, "csv", encoding, delimiter)
    read.broken = {**too_long, **unread, **broken}
    read.notes = notes
    return read


def _binary(head: bytes) -> bool:
    """A UTF-16 text or a binary file, not a text with a stray NUL byte: a UTF-16 byte-order mark, NUL bytes
    over 1% of the first 4 KB, or control characters over 10% of them."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return True
    controls = sum(1 for b in head if b < 32 and b not in (9, 10, 13, 12))
    return head.count(0) * 100 > len(head) or controls * 10 > len(head)


def _lines(text: str) -> list[str]:
    """Physical lines as the csv module counts them (``\n``, ``\r\n`` or ``\r``), ends kept."""
    return io.StringIO(text, newline="").readlines()


def _decode(raw: bytes) -> tuple[str, str, dict[int, str]]:
    """(text, encoding, notes). The whole file in the first encoding that fits; when UTF-8 fails, line by line:
    a line with non-ASCII bytes that are valid UTF-8 is UTF-8 (cp1251 or koi8-r text practically never is),
    the others single-byte; the majority names the file and the other lines are noted."""
    try:
        text = raw.decode("utf-8-sig")
        return text, "utf-8-sig" if raw.startswith(b"\xef\xbb\xbf") else "utf-8", {}
    except UnicodeDecodeError:
        pass
    body = raw[3:] if raw.startswith(b"\xef\xbb\xbf") else raw
    chunks = body.splitlines(keepends=True)
    utf8: list[int] = []  # indexes of non-ASCII lines valid in UTF-8
    single: list[int] = []
    for i, chunk in enumerate(chunks):
        if chunk.isascii():
            continue
        try:
            chunk.decode("utf-8")
            utf8.append(i)
        except UnicodeDecodeError:
            single.append(i)
    eight_bit = b"".join(chunks[i] for i in single)
    legacy = "koi8-r" if _looks_koi8(eight_bit.decode("cp1251", "replace")) else "cp1251"
    if not utf8:
        return body.decode(legacy, "replace"), legacy, {}
    majority = "utf-8" if len(utf8) >= len(single) else legacy
    odd = single if majority == "utf-8" else utf8
    other = legacy if majority == "utf-8" else "utf-8"
    odd_set = set(odd)
    parts = [chunk.decode(other if i in odd_set else majority, "replace") for i, chunk in enumerate(chunks)]
    notes = {i + 1: f"not {majority} like the rest of the file: read as {other}" for i in odd}
    return "".join(parts), majority, notes


def _too_long(rows: list[list[str]], lines: list[int]) -> dict[int, str]:
    """Rows with a cell over :data:`MAX_CELL_CHARS`: the cell is emptied (in place), the row reported."""
    broken = {}
    for row, line in zip(rows, lines, strict=True):
        for i, cell in enumerate(row):
            if len(cell) > MAX_CELL_CHARS:
                broken[line] = f"a cell of {len(cell):,} characters, more than {MAX_CELL_CHARS:,}; the row is not read"
                row[i] = ""
    return broken


def _csv_rows(path: Path, text: str, delimiter: str) -> tuple[list[list[str]], list[int], dict[int, str]]:
    """Rows with the file line each starts on. A quote opened and never closed would swallow the rest of the
    file into one cell, a stray quote closed by another one lines later the lines between: that row is
    reported broken (by line) and re-read from its own line without quotes, and reading resumes on the next
    line, so one stray quote loses one row, not the file and not the rows after it."""
    physical = _lines(text)
    rows: list[list[str]] = []
    lines: list[int] = []
    broken: dict[int, str] = {}
    width = 0
    offset = 0  # physical lines consumed before the current reader
    limit = csv.field_size_limit()
    csv.field_size_limit(max(limit, len(text) + 1))  # a long cell is judged by _too_long, not by the csv module
    try:
        while offset < len(physical):
            reader = csv.reader(iter(physical[offset:]), delimiter=delimiter)
            start, restart = offset + 1, None
            for row in reader:
                end = offset + reader.line_num
                reason = None
                if end > start:
                    if end == len(physical) and _unterminated("".join(physical[start - 1:]), delimiter):
                        reason = "a quote (\") opened on this line is never closed"
                    elif width > 1 and _swallowed(physical[start:end - 1], delimiter, width):
                        reason = (f"a quote (\") opened on this line runs to line {end}, swallowing lines "
                                  f"{start + 1}–{end - 1}; read without it")
                if reason:
                    broken[start] = reason
                    rows.append(next(csv.reader([physical[start - 1].rstrip("\r\n").replace('"', "")],
                                                delimiter=delimiter), []))
                    lines.append(start)
                    restart = start
                    break
                rows.append(row)
                lines.append(start)
                width = width or len(row)
                start = end + 1
            if restart is None:
                break
            offset = restart
    except csv.Error as exc:
        raise TableError(f"{path}:{offset + reader.line_num}: broken CSV: {exc}") from None
    finally:
        csv.field_size_limit(limit)
    return rows, lines, broken


def _swallowed(inner: list[str], delimiter: str, width: int) -> bool:
    """Whether the lines inside one quoted cell are rows of the table, not the lines of a long answer: each
    splits into exactly the header's ``width`` cells — with two columns, over two lines at least, since one
    line of prose with one comma would split so too."""
    if not inner or (width == 2 and len(inner) < 2):
        return False
    return all(len(next(csv.reader([line], delimiter=delimiter), [])) == width for line in inner)


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
    """Every row of the sheet: the ``<dimension>`` a sheet declares is ignored (many exporters write a stale
    one, and openpyxl's read-only mode would stop there), a workbook that unpacks to more than
    :data:`MAX_XLSX_UNPACKED` is refused before parsing, and a cell over :data:`MAX_CELL_CHARS` costs its row."""
    import zipfile

    import openpyxl

    try:
        with zipfile.ZipFile(path) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError) as exc:
        raise TableError(f"{path}: not a readable XLSX workbook ({exc})") from None
    if unpacked > MAX_XLSX_UNPACKED:
        raise TableError(f"{path}: the workbook unpacks to {unpacked / 2**20:,.0f} MB, more than "
                         f"{MAX_XLSX_UNPACKED / 2**20:.0f} MB (a zip bomb, or a sheet to split or save as CSV)")
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a broken file
        raise TableError(f"{path}: not a readable XLSX workbook ({exc})") from None
    try:
        try:
            ws = book[sheet] if isinstance(sheet, str) else book.worksheets[sheet or 0]
        except (KeyError, IndexError):
            raise TableError(f"{path}: no sheet {sheet!r} (sheets: {', '.join(book.sheetnames)})") from None
        if hasattr(ws, "reset_dimensions"):  # a chartsheet has none
            ws.reset_dimensions()
        rows, lines = [], []
        try:
            for idx, row in enumerate(ws.iter_rows(values_only=True), start=1):
                rows.append([_cell_text(v) for v in row])
                lines.append(idx)
        except Exception as exc:  # noqa: BLE001 - malformed sheet XML: openpyxl and lxml raise many types
            raise TableError(f"{path}: sheet row {len(rows) + 1} cannot be read ({type(exc).__name__}: {exc})") \
                from None
    finally:
        book.close()
    too_long = _too_long(rows, lines)
    read = _frame(path, rows, lines, "xlsx", "", "")
    read.broken = too_long
    return read


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


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


def write_xlsx(sheets: Mapping[str, pd.DataFrame], path: str | os.PathLike, widths: bool = True,
               max_width: int = 60) -> Path:
    """Write one sheet per table (the first is the one a CRM import reads), atomically: a frozen header row,
    filters on every column and widths fitted to the content (at most ``max_width`` characters). Text that
    starts with ``= + - @`` or a control character is stored as text with Excel's quote prefix, never as a
    formula; numbers stay numbers, blanks stay blank."""
    import math

    import openpyxl
    from openpyxl.utils import get_column_letter

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, frame in sheets.items():
        sheet = book.create_sheet(title=str(title)[:31])
        sheet.append([str(c) for c in frame.columns])
        for row in frame.itertuples(index=False):
            cells = []
            for value in row:
                if hasattr(value, "item") and not isinstance(value, str):
                    value = value.item()  # numpy scalars
                if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
                    cells.append(None)
                elif isinstance(value, bool):
                    cells.append(int(value))
                elif isinstance(value, int | float | str):
                    cells.append(value)
                else:
                    cells.append(str(value))
            sheet.append(cells)
        for row in sheet.iter_rows(min_row=2):
            for cell in row:
                if isinstance(cell.value, str) and cell.value[:1] in _TRIGGERS:
                    cell.data_type = "s"
                    cell.quotePrefix = True
        if len(frame.columns):
            sheet.freeze_panes = "A2"
            sheet.auto_filter.ref = f"A1:{get_column_letter(len(frame.columns))}{max(1, len(frame) + 1)}"
        if widths:
            for j, col in enumerate(frame.columns, start=1):
                longest = max([len(str(col))] + [len(str(v)) for v in frame[col].tolist() if v is not None and v == v])
                sheet.column_dimensions[get_column_letter(j)].width = min(max_width, longest + 2)
    tmp = path.with_suffix(path.suffix + ".tmp")
    book.save(tmp)
    os.replace(tmp, path)
    return path
