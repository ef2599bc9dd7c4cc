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


def load_codebook(path: str | Path | None = None) -> Codebook:
    path = Path(path) if path else DEFAULT
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CodebookError(f"{path}: no such codebook") from None
    except yaml.YAMLError as exc:
        raise CodebookError(f"{path}: not valid YAML: {exc}") from None
    variables = []
    for spec in data.get("variables", []):
        if spec.get("type") not in TYPES:
            raise CodebookError(f"{path}: variable {spec.get('name')}: type must be one of {', '.join(TYPES)}")
        variables.append(Variable(spec["name"], spec["type"], [str(c) for c in spec.get("columns", [spec["name"]])],
                                  bool(spec.get("required")), {str(k): v for k, v in (spec.get("values") or {}).items()},
                                  spec.get("label", {})))
    binary = {fold(a): code for code, answers in (data.get("binary_answers") or {}).items() for a in answers}
    return Codebook(data.get("id", path.stem), variables, binary, path)
