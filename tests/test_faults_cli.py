"""Issue 12, "clear errors instead of tracebacks": every invocation below ends with its exit code and a
message that says what is wrong — `error: <what>: <why>` — and never a traceback. Option checks are
made once for every command (chanaudit/options.py), so the matrix of float options is generated from
the CLI itself."""

from __future__ import annotations

import copy
import inspect
import json
import typing
from pathlib import Path

import pytest
import typer
import yaml
from typer.testing import CliRunner

from chanaudit.analysis.studies import STUDIES, StudySpecError, load_study
from chanaudit.cli import app
from chanaudit.core.folder import AuditFolder
from chanaudit.demo.server import Site, SiteServer
from tests.conftest import FIXTURES, write_sites_csv
from tests.faults import chanaudit

runner = CliRunner()
SALT = {"CHANAUDIT_SURVEY_SALT": "s3cret"}


def invoke(*args):
    """In-process (fast) for the option matrix: the exit code, the output, and no exception escaping."""
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result


# -- numeric options: every float option of every command, and the named ones ----------------------------------
def _commands(typer_app: typer.Typer, prefix=()):
    for command in typer_app.registered_commands:
        yield (*prefix, command.name or command.callback.__name__), command.callback
    for group in typer_app.registered_groups:
        yield from _commands(group.typer_instance, (*prefix, group.name))


def _argv(path, callback, flag, value):
    """The command line of ``path`` with every required argument and option a dummy, and ``flag value``."""
    hints = typing.get_type_hints(callback.__wrapped__)
    argv = list(path)
    for name, param in inspect.signature(callback).parameters.items():
        info = param.default
        if info.default is not ... or (isinstance(info, typer.models.OptionInfo) and
                                       flag in (info.param_decls or ())):
            continue
        dummy = "0.5" if hints[name] is float else "1" if hints[name] is int else "x"
        if isinstance(info, typer.models.OptionInfo):
            argv += [[d for d in info.param_decls if d.startswith("--")][0], dummy]
        else:
            argv += [dummy] * (2 if typing.get_origin(hints[name]) is list else 1)
    return [*argv, flag, value]


FLOAT_OPTIONS = [
    (path, callback, [d for d in info.param_decls if d.startswith("--")][0])
    for path, callback in _commands(app)
    for name, info in ((n, p.default) for n, p in inspect.signature(callback).parameters.items())
    if isinstance(info, typer.models.OptionInfo) and typing.get_type_hints(callback.__wrapped__)[name] is float
]


def test_the_matrix_covers_the_float_options():
    flags = {flag for _, _, flag in FLOAT_OPTIONS}
    assert {"--timeout", "--delay", "--max-mb", "--conf", "--concentration", "--alpha", "--power", "--share",
            "--ratio", "--equivalence-margin"} <= flags, flags
    assert len(FLOAT_OPTIONS) >= 25


@pytest.mark.parametrize("path,callback,flag", FLOAT_OPTIONS,
                         ids=[f"{' '.join(p)} {f}" for p, _, f in FLOAT_OPTIONS])
@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_every_float_option_must_be_finite(tmp_path, monkeypatch, path, callback, flag, value):
    monkeypatch.chdir(tmp_path)
    result = invoke(*_argv(path, callback, flag, value))
    name = flag.lstrip("-").replace("-", "_")
    assert result.exit_code == 2, result.output
    assert f"error: {name} must be a finite number, not {float(value)}" in result.output
    assert list(tmp_path.iterdir()) == []  # checked before anything is read or written


@pytest.mark.parametrize("argv,message", [
    (["analyze", "AUDIT", "--conf", "1.5"], "error: conf must be between 0 and 1 (0.95 for 95%), not 1.5"),
    (["compare", "AUDIT", "AUDIT", "--out", "o", "--conf", "0"], "error: conf must be between 0 and 1"),
    (["score", "AUDIT", "--concentration", "nan"], "error: concentration must be a finite number, not nan"),
    (["score", "AUDIT", "--concentration", "-1"], "error: concentration must be positive, not -1.0"),
    (["score", "AUDIT", "--top", "-3"], "error: top must be at least 1, not -3"),
    (["score", "AUDIT", "--draws", "0"], "error: draws must be at least 1, not 0"),
    (["audit", "in.csv", "--out", "o", "--timeout", "nan"], "error: timeout must be a finite number, not nan"),
    (["audit", "in.csv", "--out", "o", "--timeout", "0"], "error: timeout must be positive, not 0.0"),
    (["audit", "in.csv", "--out", "o", "--workers", "-1"], "error: workers must be at least 0, not -1"),
    (["inspect", "page.html", "--region", "ZZ"],
     "error: region must be a phone region code (ISO 3166 alpha-2, as RU, KZ, US), not 'ZZ'"),
    (["demo", "--out", "o", "--sites", "0"], "error: sites must be at least 1, not 0"),
    (["survey", "generate", "--out", "o.csv", "--n", "-1"], "error: n must be at least 1, not -1"),
    (["sample", "AUDIT", "--out", "o", "--n", "0"], "error: n must be at least 1, not 0"),
    (["plan", "two-sample", "--p1", "0.2", "--p2", "0.3", "--ratio", "-1"], "error: ratio must be positive, not -1.0"),
    (["check-published", "--n-min", "0"], "error: n_min must be at least 1, not 0"),
    (["report", "AUDIT", "--lang", "de"], "error: lang must be ru or en, not 'de'"),
])
def test_named_options_out_of_range(tmp_path, monkeypatch, argv, message):
    monkeypatch.chdir(tmp_path)
    write_sites_csv(tmp_path / "in.csv", [{"url": "example.ru"}])
    before = sorted(tmp_path.iterdir())
    result = invoke(*argv)
    assert result.exit_code == 2 and message in result.output, result.output
    assert sorted(tmp_path.iterdir()) == before


def test_region_is_checked_case_insensitively(tmp_path):
    page = tmp_path / "page.html"
    page.write_text('<a href="tel:+77172123456">+7 7172 12 34 56</a>', encoding="utf-8")
    result = invoke("inspect", page, "--region", "kz", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["channels"]["phone"] == 1


# -- files and folders where the other was expected -------------------------------------------------------------
@pytest.fixture(scope="module")
def audit_dir(tmp_path_factory):
    """A real audit of four local sites whose names and cities are hostile to charts and terminals."""
    root = tmp_path_factory.mktemp("audit")
    names = ["$\\frac{a}{$", "[/b] Рога и копыта", "$5 and $10", "=HYPERLINK(\"http://x\")"]
    sites = [Site(f"s{i}", root=FIXTURES / "sites" / "basic") for i in range(4)]
    with SiteServer(sites) as server:
        csv_path = write_sites_csv(root / "in.csv", [{"url": server.url(s.name), "name": n, "city": n}
                                                     for s, n in zip(sites, names, strict=True)])
        done = chanaudit("audit", csv_path, "--out", root / "out", "--allow-private", "--render", "never",
                         "--delay", "0", "--quiet")
    assert done.returncode == 0, done.output
    return root / "out", names


def test_report_draws_dollar_names_as_plain_text(audit_dir):
    out, names = audit_dir
    done = chanaudit("score", out, "--draws", "20")
    assert done.returncode == 0, done.output
    assert "[/b] Рога и копыта" in done.output  # a terminal table prints a name as it is
    done = chanaudit("analyze", out, "--by", "city", "--min-group-n", "1")
    assert done.returncode == 0, done.output
    done = chanaudit("report", out, "--formats", "svg", "--min-group-n", "1", "--lang", "en")
    assert done.returncode == 0, done.output
    svg = (out / "report" / "charts" / "groups-city-en.svg").read_text(encoding="utf-8")
    assert "$\\frac{a}{$" in svg and "$5 and $10" in svg  # drawn as the text it is, not parsed as math


def test_files_and_folders_in_the_wrong_place(audit_dir, tmp_path):
    out, _ = audit_dir
    a_file = tmp_path / "a-file"
    a_file.write_text("", encoding="utf-8")
    csv_path = write_sites_csv(tmp_path / "in.csv", [{"url": "example.ru"}])
    cases = [
        (["audit", csv_path, "--out", a_file, "--render", "never"],
         f"error: {a_file}: is a file, not a folder; --out names the folder the audit writes into"),
        (["score", out, "--weights", tmp_path], f"error: {tmp_path}: a folder, not a TOML file with a [weights] table"),
        (["report", out, "--formats", "png,../../evil"], "error: chart formats must be among png, svg, pdf, not ../../evil"),
        (["report", out, "--formats", "png", "--out", a_file],
         f"error: {a_file}: a file is in the way where a folder is to be written; name a folder"),
        (["audit", tmp_path, "--out", tmp_path / "o", "--render", "never"], f"error: {tmp_path}: a folder, not a CSV or XLSX file"),
        (["survey", "summary", a_file], f"error: {a_file}: empty, not a CSV table written by chanaudit"),
    ]
    for argv, message in cases:
        done = chanaudit(*argv)
        assert done.returncode == 2 and message in done.output, (argv, done.output)
    assert not (tmp_path / "evil").exists() and not (out.parent / "evil").exists()


def test_survey_join_summary_and_their_edge_cases(audit_dir, tmp_path):
    out, _ = audit_dir
    export = tmp_path / "export.csv"
    assert invoke("survey", "generate", "--out", export, "--n", "30").exit_code == 0
    folder = tmp_path / "sv"
    assert invoke("survey", "import", export, "--out", folder, "--salt", "s").exit_code == 0
    done = chanaudit("survey", "join", folder, out, "--key", "nosuchcol")
    assert done.returncode == 2 and f"error: {AuditFolder(out).sites}: no column 'nosuchcol' to join on" in done.output
    # four sites on 127.0.0.1 (one registrable "domain"), none with a respondent: each counted once
    done = chanaudit("survey", "join", folder, out)
    assert done.returncode == 0 and "sites without a respondent 4" in done.output, done.output
    unmatched = AuditFolder(folder).read(AuditFolder.UNMATCHED_SITES)
    assert sorted(unmatched["site_id"]) == [1, 2, 3, 4]
    assert list(unmatched["reason"]) == ["no respondent"] + ["duplicate domain in the audit"] * 3
    # a header-only export: 0 respondents imported, then a summary that says so
    empty = tmp_path / "empty.csv"
    empty.write_text(export.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")
    assert invoke("survey", "import", empty, "--out", tmp_path / "sv0", "--salt", "s").exit_code == 0
    done = chanaudit("survey", "summary", tmp_path / "sv0")
    assert done.returncode == 2
    assert f"error: {tmp_path / 'sv0'}: no respondents to summarise (the import kept 0 rows" in done.output


# -- hostile YAML: studies, codebooks, margins ------------------------------------------------------------------
HOSTILE_YAML = {  # case: (text, what the study says, what the codebook says)
    "deep": ("[" * 3000 + "]" * 3000, "nested too deeply to be a study spec", "nested too deeply to be a codebook"),
    "list": ("- 1\n- 2\n", "the top level must be a mapping of fields, not list",
             "the top level must be a mapping (id, variables, binary_answers), not list"),
    "scalar": ("42\n", "the top level must be a mapping of fields, not int",
               "the top level must be a mapping (id, variables, binary_answers), not int"),
    "aliases": ('a: &a ["l","l","l","l","l","l","l","l","l"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n'
                "c: [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n", "unknown field a, b, c", "top level: unknown field a, b, c"),
    "python-tag": ("id: !!python/object/apply:os.system ['echo hi']\n", "not valid YAML", "not valid YAML"),
    "not-utf8": ("id: \udcff\n", "not UTF-8 text", "not UTF-8 text"),
    "wrong-types": ("id: x\nfigures: 5\nvariables: 5\n", "unknown field variables",
                    "top level: unknown field figures"),
}


def _write_yaml(path: Path, text: str) -> Path:
    path.write_bytes(text.encode("utf-8", "surrogateescape"))
    return path


@pytest.mark.parametrize("case", sorted(HOSTILE_YAML))
def test_hostile_yaml_is_a_clear_error(audit_dir, tmp_path, case):
    out, _ = audit_dir
    text, study_says, codebook_says = HOSTILE_YAML[case]
    spec = _write_yaml(tmp_path / f"{case}.yaml", text)
    result = invoke("reproduce", out, "--study", spec)
    assert result.exit_code == 2 and f"error: {spec}: {study_says}" in result.output, result.output
    result = invoke("survey", "import", FIXTURES / "survey" / "limesurvey.csv", "--out", tmp_path / "sv",
                    "--codebook", spec, "--salt", "s")
    assert result.exit_code == 2 and f"error: {spec}: {codebook_says}" in result.output, result.output
    assert not (tmp_path / "sv").exists()


def test_margins_of_the_wrong_shape(tmp_path):
    export = tmp_path / "export.csv"
    assert invoke("survey", "generate", "--out", export, "--n", "40").exit_code == 0
    assert invoke("survey", "import", export, "--out", tmp_path, "--salt", "s").exit_code == 0
    cases = {"tool_type:\n  crm: [1]\n": "tool_type: crm: a share is a number from 0 to 1, not [1]",
             "tool_type:\n  crm: .nan\n": "tool_type: crm: a share is a number from 0 to 1, not nan",
             "tool_type: 5\n": "tool_type: expected variables with their level shares",
             "[" * 3000 + "]" * 3000: "nested too deeply to be a margins file"}
    for i, (text, message) in enumerate(cases.items()):
        margins = _write_yaml(tmp_path / f"m{i}.yaml", text)
        result = invoke("survey", "summary", tmp_path, "--margins", margins)
        assert result.exit_code == 2 and f"error: {margins}: {message}" in result.output, result.output


def _mutations(data):
    """Every node of a spec replaced, one at a time, by values of the wrong type (two each, in rotation)."""
    def paths(node, at=()):
        yield at
        children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for key, child in children:
            yield from paths(child, (*at, key))

    wrongs = ([1, 2], None, "abc", {"a": 1}, -1, True)
    for i, at in enumerate(list(paths(data))[1:]):
        for wrong in (wrongs[i % len(wrongs)], wrongs[(i + 3) % len(wrongs)]):  # every node, two wrong types
            mutated = copy.deepcopy(data)
            parent = mutated
            for key in at[:-1]:
                parent = parent[key]
            parent[at[-1]] = wrong
            yield at, wrong, mutated


def test_study_specs_with_any_field_of_the_wrong_type(tmp_path):
    """load_study (made strict by the statistics work) holds: a shipped spec with any one field of the wrong
    type loads or is a StudySpecError, never another exception."""
    tried = 0
    for shipped in sorted(STUDIES.glob("*.yaml")):
        for at, wrong, mutated in _mutations(yaml.safe_load(shipped.read_text(encoding="utf-8"))):
            spec = tmp_path / "spec.yaml"
            spec.write_text(yaml.safe_dump(mutated, allow_unicode=True), encoding="utf-8")
            try:
                load_study(spec)
            except StudySpecError:
                pass
            except Exception as exc:  # noqa: BLE001 - the point of the test
                pytest.fail(f"{shipped.name} {at} = {wrong!r}: {type(exc).__name__}: {exc}")
            tried += 1
    assert tried > 450
