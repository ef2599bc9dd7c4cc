"""The codebook: which columns hold which variable, its type and value labels (ru/en)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from chanaudit.core.errors import ChanauditError
from chanaudit.datasets import ROOT

DEFAULT = ROOT / "codebooks" / "okdesk-2026.yaml"
TYPES = ("binary", "categorical", "integer", "number", "text", "url", "pii")


class CodebookError(ChanauditError, ValueError):
    """A codebook that cannot be used; the message names the file and the variable."""


def fold(text: str) -> str:
    """Case-insensitive, whitespace-folded, ё = е: how headers and answers are compared."""
    return re.sub(r"\s+", " ", str(text)).strip().lower().replace("ё", "е")


@dataclass
class Variable:
    name: str
    type: str
    columns: list[str]
    required: bool = False
    values: dict[str, dict] = field(default_factory=dict)  # code -> {ru, en, answers}
    label: dict[str, str] = field(default_factory=dict)

    def answer_map(self) -> dict[str, str]:
        out = {}
        for code, spec in self.values.items():
            for answer in [code, spec.get("ru", ""), spec.get("en", ""), *spec.get("answers", [])]:
                if answer:
                    out[fold(answer)] = code
        return out


@dataclass
class Codebook:
    id: str
    variables: list[Variable]
    binary: dict[str, str]  # folded answer -> "1"/"0"
    path: Path

    def by_name(self) -> dict[str, Variable]:
        return {v.name: v for v in self.variables}


#: The largest YAML spec (codebook, margins) read; larger is refused before parsing.
MAX_SPEC_BYTES = 1_000_000
VARIABLE_KEYS = {"name", "type", "columns", "required", "values", "label"}
VALUE_KEYS = {"ru", "en", "answers"}


def read_spec(path: str | Path, error: type[ChanauditError], what: str):
    """The parsed YAML of a user's spec file; every problem (no such file, a folder, too large, not UTF-8,
    not YAML, nested too deeply) is ``error`` naming the file, never a traceback."""
    path = Path(path)
    if not path.exists():
        raise error(f"{path}: no such {what}")
    if path.is_dir():
        raise error(f"{path}: a folder, not a {what} file")
    try:
        raw = path.read_bytes()
        if len(raw) > MAX_SPEC_BYTES:
            raise error(f"{path}: {len(raw):,} bytes; a {what} is at most {MAX_SPEC_BYTES:,}")
        return yaml.safe_load(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise error(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except yaml.YAMLError as exc:
        raise error(f"{path}: not valid YAML: {exc}") from None
    except (RecursionError, MemoryError):
        raise error(f"{path}: nested too deeply to be a {what}") from None
    except OSError as exc:
        raise error(f"{path}: cannot read: {exc.strerror or exc}") from None


def load_codebook(path: str | Path | None = None) -> Codebook:
    """The codebook at ``path`` (default: the 2026 survey's), checked field by field: a wrong type or an
    unknown field is a :class:`CodebookError` naming the file, the variable and the field."""
    path = Path(path) if path else DEFAULT
    data = read_spec(path, CodebookError, "codebook")
    return parse_codebook(data, path)


def parse_codebook(data, path: Path) -> Codebook:
    def fail(where: str, problem: str):
        raise CodebookError(f"{path}: {where}: {problem}")

    if not isinstance(data, dict):
        raise CodebookError(f"{path}: the top level must be a mapping (id, variables, binary_answers), "
                            f"not {type(data).__name__}")
    unknown = [str(k) for k in data if k not in ("id", "variables", "binary_answers")]
    if unknown:
        fail("top level", f"unknown field {', '.join(unknown)} (allowed: id, variables, binary_answers)")
    specs = data.get("variables")
    if not isinstance(specs, list) or not specs:
        fail("variables", "must be a non-empty list of variables")
    variables = []
    for i, spec in enumerate(specs, start=1):
        where = f"variable {i}"
        if not isinstance(spec, dict):
            fail(where, f"must be a mapping of fields, not {type(spec).__name__}")
        name = spec.get("name")
        if not isinstance(name, str) or not name.strip():
            fail(where, "name: missing or not text")
        where = f"variable {name}"
        extra = [str(k) for k in spec if k not in VARIABLE_KEYS]
        if extra:
            fail(where, f"unknown field {', '.join(extra)} (allowed: {', '.join(sorted(VARIABLE_KEYS))})")
        if spec.get("type") not in TYPES:
            fail(where, f"type must be one of {', '.join(TYPES)}")
        columns = spec.get("columns", [name])
        if not isinstance(columns, list) or not columns or not all(isinstance(c, str | int) and not
                                                                   isinstance(c, bool) for c in columns):
            fail(where, "columns: must be a non-empty list of column names")
        values = spec.get("values") or {}
        if not isinstance(values, dict):
            fail(where, "values: must be a mapping of code: {ru, en, answers}")
        for code, value in values.items():
            if not isinstance(value, dict) or any(k not in VALUE_KEYS for k in value):
                fail(where, f"values: {code}: must be a mapping with ru, en and answers")
            if not all(isinstance(value.get(k, ""), str) for k in ("ru", "en")):
                fail(where, f"values: {code}: ru and en must be text")
            answers = value.get("answers", [])
            if not isinstance(answers, list) or not all(isinstance(a, str | int) for a in answers):
                fail(where, f"values: {code}: answers must be a list of texts")
        label = spec.get("label") or {}
        if not isinstance(label, dict) or not all(isinstance(v, str) for v in label.values()):
            fail(where, "label: must be a mapping {ru: text, en: text}")
        variables.append(Variable(name, spec["type"], [str(c) for c in columns], bool(spec.get("required")),
                                  {str(k): v for k, v in values.items()}, label))
    answers = data.get("binary_answers") or {}
    if not isinstance(answers, dict) or not all(isinstance(v, list) for v in answers.values()):
        fail("binary_answers", 'must be a mapping "1": [answers], "0": [answers]')
    binary = {fold(a): str(code) for code, texts in answers.items() for a in texts}
    identity = data.get("id", path.stem)
    return Codebook(str(identity), variables, binary, path)
