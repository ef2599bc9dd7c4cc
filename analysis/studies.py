"""Study specs (YAML in datasets/studies): published figures as data."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from chanaudit.analysis.expr import ExpressionError, names
from chanaudit.core.errors import ChanauditError
from chanaudit.datasets import ROOT

STUDIES = ROOT / "studies"


class StudySpecError(ChanauditError, ValueError):
    """A study spec that cannot be used; the message names the file and the figure."""


@dataclass
class Figure:
    id: str
    label_en: str
    label_ru: str
    published: float | None
    published_text: str = ""
    published_text_ru: str = ""
    rounding: float | None = None
    bound: str = ""
    where: str | None = None
    note: str = ""
    #: (variant id, label_en, label_ru, expression); one unnamed variant for plain figures
    variants: list[tuple[str, str, str, str]] = field(default_factory=list)


@dataclass
class Study:
    id: str
    title_en: str
    title_ru: str
    source: str
    sample: str
    data: str
    figures: list[Figure]
    path: Path


def shipped() -> list[str]:
    return sorted(p.stem for p in STUDIES.glob("*.yaml"))


def load_study(spec: str | Path) -> Study:
    """A shipped study id (``okdesk-2016-it-outsourcing``) or a path to a YAML spec."""
    path = Path(spec)
    if not path.exists():
        path = STUDIES / f"{spec}.yaml"
    if not path.exists():
        raise StudySpecError(f"{spec}: no such spec file or shipped study (shipped: {', '.join(shipped())})")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise StudySpecError(f"{path}: not valid YAML: {exc}") from None
    figures = []
    for i, f in enumerate(data.get("figures") or [], start=1):
        where = f"{path}: figure {f.get('id', i)}"
        if "id" not in f:
            raise StudySpecError(f"{where}: no id")
        variants = [(v["id"], v.get("label_en", v["id"]), v.get("label_ru", v["id"]), v["expression"])
                    for v in f.get("variants", [])]
        if not variants:
            if "expression" not in f:
                raise StudySpecError(f"{where}: no expression and no variants")
            variants = [("", "", "", f["expression"])]
        for _, _, _, expr in variants + ([("", "", "", f["where"])] if f.get("where") else []):
            try:
                names(expr)
            except ExpressionError as exc:
                raise StudySpecError(f"{where}: {exc}") from None
        if f.get("bound", "") not in ("", ">", "<", ">=", "<="):
            raise StudySpecError(f"{where}: bound must be one of > < >= <=")
        text_en = str(f.get("published_text", ""))
        figures.append(Figure(f["id"], f.get("label_en", f["id"]), f.get("label_ru", f["id"]), f.get("published"),
                              text_en, str(f.get("published_text_ru", text_en)), f.get("rounding"), f.get("bound", ""),
                              f.get("where"), f.get("note", ""), variants))
    return Study(data.get("id", path.stem), data.get("title_en", ""), data.get("title_ru", ""),
                 data.get("source", ""), data.get("sample", ""), data.get("data", "audit"), figures, path)
