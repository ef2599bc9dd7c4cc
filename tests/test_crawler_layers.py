"""The crawler sits low in the pipeline (DESIGN.md): its modules import the bottom layer
(chanaudit.core, chanaudit.__version__) and each other, never a stage above it."""

from __future__ import annotations

import ast
from pathlib import Path

CRAWLER = Path(__file__).resolve().parents[1] / "crawler"
ABOVE = ("chanaudit.scoring", "chanaudit.analysis", "chanaudit.survey", "chanaudit.reports",
         "chanaudit.commands", "chanaudit.cli", "chanaudit.demo", "chanaudit.errors")


def imports(path: Path) -> set[str]:
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
    return out


def test_crawler_imports_nothing_above_it():
    modules = [p for p in CRAWLER.rglob("*.py") if "testing" not in p.relative_to(CRAWLER).parts]
    assert len(modules) > 20
    upward = {(str(p.relative_to(CRAWLER)), name) for p in modules for name in imports(p)
              if name.startswith(ABOVE)}
    assert upward == set()
