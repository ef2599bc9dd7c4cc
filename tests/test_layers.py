"""One package, clear layers: every import points down the pipeline, the audit folder's file names live
in one place, and the wheel holds ``chanaudit`` alone.

The modules are found from pyproject.toml (the explicit package list and its package-dir map) and read
with ``ast``, imports inside functions included; nothing is imported.
"""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: Bottom to top. A module may import its own layer and the layers below it, never one above.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("chanaudit",),  # the bare package: __version__ only
    ("chanaudit.core", "chanaudit.datasets"),
    ("chanaudit.crawler",),
    ("chanaudit.scoring",),
    ("chanaudit.analysis",),
    ("chanaudit.survey",),  # uses analysis's statistics
    ("chanaudit.reports",),
    ("chanaudit.cli", "chanaudit.commands", "chanaudit.demo", "chanaudit.errors", "chanaudit.options", "chanaudit.__main__"),
)

#: Upward imports tolerated for now, as (importing module, imported module): none. The test fails on an
#: entry that no longer occurs, so the list can only shrink.
KNOWN_UPWARD: set[tuple[str, str]] = set()

#: The folders that became chanaudit.<name>: importing them by their old top-level name is an error.
OLD_NAMES = ("crawler", "scoring", "analysis", "survey", "reports", "datasets")


def _packages() -> dict[str, Path]:
    """Every package of the wheel (pyproject's explicit list) -> its folder (through package-dir)."""
    setup = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    dirs = setup["package-dir"]
    out = {}
    for package in setup["packages"]:
        base = max((p for p in dirs if package == p or package.startswith(p + ".")), key=len)
        out[package] = ROOT / dirs[base] / package[len(base):].lstrip(".").replace(".", "/")
    return out


PACKAGES = _packages()


def _modules() -> dict[str, Path]:
    out = {}
    for package, folder in PACKAGES.items():
        for path in sorted(folder.glob("*.py")):
            out[package if path.stem == "__init__" else f"{package}.{path.stem}"] = path
    return out


MODULES = _modules()


def layer(module: str) -> int | None:
    """The index of ``module``'s layer in :data:`LAYERS` (the longest prefix that owns it), or None."""
    best, found = -1, None
    for index, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            owns = module == prefix or (prefix != "chanaudit" and module.startswith(prefix + "."))
            if owns and len(prefix) > best:
                best, found = len(prefix), index
    return found


def imports(module: str, path: Path) -> list[tuple[str, int]]:
    """(imported module, line) for every import statement of the file, at any depth; a name imported
    from a package resolves to its submodule when it is one (``from chanaudit import scoring``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = module if path.stem == "__init__" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")
                parent = parent[: len(parent) - (node.level - 1)]
                base = ".".join(parent + ([base] if base else []))
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.append((sub if sub in MODULES else base, node.lineno))
    return found


def test_every_shipped_module_is_in_a_layer():
    assert MODULES, "no modules found from pyproject.toml"
    unassigned = [m for m in MODULES if layer(m) is None]
    assert not unassigned, f"modules in no layer (add them to LAYERS): {unassigned}"


def test_every_python_file_is_in_a_listed_package():
    """A folder of modules missing from pyproject's explicit package list would not be in the wheel."""
    shipped = set(MODULES.values())
    roots = {ROOT / d for d in tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
             ["tool"]["setuptools"]["package-dir"].values()}
    stray = sorted(str(p.relative_to(ROOT)) for r in roots for p in r.rglob("*.py")
                   if p not in shipped and "__pycache__" not in p.parts)
    assert not stray, f"python files outside the listed packages: {stray}"


def test_imports_only_point_down():
    upward, seen = [], set()
    for module, path in MODULES.items():
        own = layer(module)
        for target, line in imports(module, path):
            if not target.startswith("chanaudit"):
                continue
            there = layer(target)
            if there is None or there <= own:
                continue
            if (module, target) in KNOWN_UPWARD:
                seen.add((module, target))
                continue
            upward.append(f"{path.relative_to(ROOT)}:{line}: {module} ({LAYERS[own][0]}) imports {target} "
                          f"({LAYERS[there][0]})")
    assert not upward, "imports from a higher layer:\n" + "\n".join(upward)
    assert seen == KNOWN_UPWARD, f"no longer imported upward, remove from KNOWN_UPWARD: {KNOWN_UPWARD - seen}"


def _all_python_files() -> list[tuple[str, Path]]:
    extra = [(f"{p.parent.name}.{p.stem}", p) for d in ("tests", "benchmarks") for p in sorted((ROOT / d).glob("*.py"))]
    return [*MODULES.items(), *extra]


def test_no_import_by_the_old_top_level_names():
    old = []
    for module, path in _all_python_files():
        for target, line in imports(module, path):
            if target.split(".")[0] in OLD_NAMES:
                old.append(f"{path.relative_to(ROOT)}:{line}: import of {target} (use chanaudit.{target})")
    assert not old, "\n".join(old)


def test_the_layer_rule_catches_an_upward_import(tmp_path):
    """The walk is real: an upward import at function depth and a relative one are both seen."""
    path = tmp_path / "probe.py"
    path.write_text("def f():\n    from chanaudit.reports import build\n    from ..demo import run\n",
                    encoding="utf-8")
    found = dict(imports("chanaudit.scoring.probe", path))
    assert layer("chanaudit.reports") > layer("chanaudit.scoring.probe")
    assert found.keys() == {"chanaudit.reports", "chanaudit.demo.run"}
    assert layer("chanaudit") == 0 and layer("chanaudit.core.folder") == 1 and layer("chanaudit.demo.server") == 7


# --- the audit folder's file names ------------------------------------------------------------------------

def _folder_names() -> re.Pattern:
    from chanaudit.core.folder import AuditFolder

    names = set()
    for attr, value in vars(AuditFolder).items():
        if attr.isupper() and isinstance(value, str) and not value.startswith("."):
            names.add(value if "." in value else AuditFolder.csv_name(value))
    alternatives = "|".join(sorted(map(re.escape, names), key=len, reverse=True))
    return re.compile(rf"(?<![\w.-])(?:{alternatives}|(?:groups|reproduce)-[\w{{}}.-]*\.csv|-tests\.csv)(?![\w-])")


def _texts(tree: ast.AST):
    """(text, line) of every string in the code: f-strings with ``{}`` for their fields; docstrings and
    ``help=`` texts (words for people) left out."""
    skip = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                skip.add(id(first.value))
        if isinstance(node, ast.keyword) and node.arg == "help":
            skip.update(id(n) for n in ast.walk(node.value))
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.JoinedStr):
            skip.update(id(v) for v in node.values)
            yield "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values), node.lineno
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.value, node.lineno


def test_audit_folder_file_names_live_in_core_folder():
    """Stages read and write the audit folder through AuditFolder: no "sites.csv", "scores.csv",
    f"groups-{col}.csv"... anywhere else (the crawler, which writes the folder, excepted)."""
    pattern = _folder_names()
    found = []
    for module, path in MODULES.items():
        if module == "chanaudit.core.folder" or module.startswith("chanaudit.crawler"):
            continue
        for value, line in _texts(ast.parse(path.read_text(encoding="utf-8"))):
            found += [f"{path.relative_to(ROOT)}:{line}: {m.group(0)!r}" for m in pattern.finditer(value)]
    assert not found, "audit-folder file names outside chanaudit/core/folder.py:\n" + "\n".join(found)


def test_the_file_name_check_sees_literals_and_f_strings():
    pattern = _folder_names()
    code = 'x = folder / "sites.csv"\ny = f"groups-{col}.csv"\nz = help_text("written: scoring.json")\n'
    assert sorted(m.group(0) for text, _ in _texts(ast.parse(code)) for m in pattern.finditer(text)) == [
        "groups-{}.csv", "scoring.json", "sites.csv"]
    assert not list(_texts(ast.parse('"""sites.csv"""\nopt = Option(help="holds sites.csv")\n')))


# --- the wheel --------------------------------------------------------------------------------------------

def _build_isolation_needed() -> bool:
    """True unless the venv already has the build backend pyproject.toml asks for (setuptools>=77)."""
    try:
        import setuptools
    except ImportError:
        return True
    major = int(re.match(r"\d+", setuptools.__version__).group(0))
    return major < 77


@pytest.mark.slow
def test_the_wheel_holds_chanaudit_alone(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    setup = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    for folder in set(setup["package-dir"].values()):
        shutil.copytree(ROOT / folder, src / folder, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path / "dist"), str(src)]
    if not _build_isolation_needed():
        cmd.insert(4, "--no-build-isolation")
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    (wheel,) = (tmp_path / "dist").glob("chanaudit-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    top = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert top == {"chanaudit"}, top
    for shipped in ("chanaudit/core/folder.py", "chanaudit/crawler/spider.py", "chanaudit/demo/market.py", "chanaudit/demo/server.py",
                    "chanaudit/reports/labels.yaml", "chanaudit/reports/review_page.html",
                    "chanaudit/reports/review_page.js", "chanaudit/reports/review_page.css",
                    "chanaudit/datasets/market/calibration.yaml",
                    "chanaudit/datasets/studies/okdesk-2016-it-outsourcing.yaml"):
        assert shipped in names, shipped
    assert not [n for n in names if n.startswith("chanaudit/crawler/testing/")]
