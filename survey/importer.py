"""Import a survey export (Google Forms, Yandex Forms, LimeSurvey, Excel) through the codebook.

The format is sniffed and reported; every bad value becomes an :class:`Issue`
naming file, line, column and reason (the row is kept, the cell set missing);
personal data (name, email, phone of respondents) is replaced by a keyed
pseudonym and never written out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from chanaudit.core.errors import ChanauditError
from chanaudit.core.tables import read_table
from chanaudit.survey.codebook import Codebook, Variable, fold, load_codebook
from chanaudit.survey.pseudonymise import pseudonym, salt_from


class UnknownColumns(ChanauditError, ValueError):
    """Required variables whose columns are not in the file."""


@dataclass
class Issue:
    file: str
    line: int
    column: str
    value: str
    reason: str

    def __str__(self) -> str:
        if not self.column:  # a whole row
            return f"{self.file}:{self.line}: {self.reason}"
        return f"{self.file}:{self.line}: column {self.column!r}: {self.reason} ({self.value!r})"


@dataclass
class SurveyImport:
    frame: pd.DataFrame
    issues: list[Issue]
    format: str
    encoding: str
    delimiter: str
    columns: dict[str, str] = field(default_factory=dict)  # variable -> source column
    pii_columns: list[str] = field(default_factory=list)

    def issues_frame(self) -> pd.DataFrame:
        return pd.DataFrame([vars(i) for i in self.issues], columns=["file", "line", "column", "value", "reason"])


def sniff_format(headers: list[str], fmt: str) -> str:
    folded = {fold(h) for h in headers}
    if {"timestamp", "отметка времени"} & folded:
        return "google_forms"
    if {"submitdate", "id"} <= folded or "lastpage" in folded:
        return "limesurvey"
    if {"время создания", "id ответа", "время ответа"} & folded:
        return "yandex_forms"
    return "excel" if fmt == "xlsx" else "csv"


_NUMBER = re.compile(r"^[+-]?\d+(?:[.,]\d+)?$")


def parse_value(var: Variable, raw: str, book: Codebook) -> tuple[object, str | None]:
    """(value, None) or (None, reason)."""
    text = raw.strip()
    if not text:
        return None, None
    if var.type == "binary":
        code = book.binary.get(fold(text))
        return (int(code), None) if code is not None else (None, "not a yes/no answer")
    if var.type == "categorical":
        code = var.answer_map().get(fold(text))
        return (code, None) if code is not None else (None, f"unknown answer; expected one of {', '.join(var.values)}")
    if var.type in ("integer", "number"):
        cleaned = text.replace("\u00a0", "").replace(" ", "")
        if not _NUMBER.match(cleaned):
            return None, "not a number"
        value = float(cleaned.replace(",", "."))  # decimal comma
        if var.type == "integer":
            if not value.is_integer():
                return None, "not a whole number"
            return int(value), None
        return value, None
    return text, None


def import_survey(path: str | Path, codebook: Codebook | None = None, salt: str | None = None) -> SurveyImport:
    book = codebook or load_codebook()
    salt_bytes = salt_from(salt)
    table = read_table(path)
    headers = list(table.frame.columns)
    by_header = {fold(h): h for h in headers}
    mapping: dict[str, str] = {}
    for var in book.variables:
        for alias in var.columns:
            if fold(alias) in by_header:
                mapping[var.name] = by_header[fold(alias)]
                break
    missing = [v for v in book.variables if v.required and v.name not in mapping]
    if missing:
        expected = "; ".join(f"{v.name}: {v.columns[0]!r}" for v in missing)
        raise UnknownColumns(f"{path}: no column for required variable(s) {expected} (headers: {', '.join(headers)})")
    issues: list[Issue] = []
    rows = []
    pii = [v for v in book.variables if v.type == "pii" and v.name in mapping]
    for idx, (cells, line) in enumerate(zip(table.frame.itertuples(index=False), table.lines, strict=True), start=1):
        record = dict(zip(headers, cells, strict=True))
        out: dict[str, object] = {}
        if line in table.broken:  # read from this line alone, without the stray quote (or the long cell)
            issues.append(Issue(str(path), line, "", "", table.broken[line]))
        if line in table.notes:  # a line in another encoding than the file's
            issues.append(Issue(str(path), line, "", "", table.notes[line]))
        for var in book.variables:
            if var.type == "pii" or var.name not in mapping:
                continue
            col = mapping[var.name]
            value, reason = parse_value(var, str(record[col] or ""), book)
            if reason:
                issues.append(Issue(str(path), line, col, str(record[col]), reason))
            out[var.name] = value
        key = next((str(record[mapping[v.name]]) for v in pii if str(record[mapping[v.name]] or "").strip()), "")
        out["respondent_id"] = pseudonym(key, salt_bytes) if key else pseudonym(f"{Path(path).name}#{idx}", salt_bytes)
        rows.append(out)
    names = ["respondent_id", *[v.name for v in book.variables if v.type != "pii" and v.name in mapping]]
    frame = pd.DataFrame(rows, columns=names)
    return SurveyImport(frame, issues, sniff_format(headers, table.format), table.encoding, table.delimiter,
                        mapping, [mapping[v.name] for v in pii])
