"""Only named errors become ``error: <message>``; each names the option or file and what is wrong."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from chanaudit.cli import app
from chanaudit.core.errors import ChanauditError
from chanaudit.errors import friendly_errors
from tests.conftest import write_sites_csv

runner = CliRunner()


def test_friendly_errors_catch_named_errors_only(capsys):
    with pytest.raises(SystemExit) as stop, friendly_errors():
        raise ChanauditError("sites.csv:3: no such thing")
    assert stop.value.code == 2 and capsys.readouterr().err == "error: sites.csv:3: no such thing\n"
    for bug in (ValueError("bad"), KeyError("col"), FileNotFoundError("x")):  # a bug keeps its traceback
        with pytest.raises(type(bug)), friendly_errors():
            raise bug


@pytest.mark.parametrize("option,message", [
    (["--concurrency", "0"], "concurrency must be at least 1"),
    (["--max-mb", "0"], "max_bytes must be at least 1"),
    (["--delay", "-1"], "delay not negative"),
])
def test_audit_options_out_of_range(tmp_path, option, message):
    csv_path = write_sites_csv(tmp_path / "in.csv", [{"url": "example.ru"}])
    result = runner.invoke(app, ["audit", str(csv_path), "--out", str(tmp_path / "o"), *option])
    assert result.exit_code == 2 and message in result.output, result.output
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("option,message", [(["--lang", "de"], "lang must be ru or en, not 'de'"),
                                            (["--render", "sometimes"], "--render must be one of")])
def test_demo_checks_its_options_before_crawling(tmp_path, option, message):
    result = runner.invoke(app, ["demo", "--out", str(tmp_path / "demo"), *option])
    assert result.exit_code == 2 and message in result.output, result.output
    assert not (tmp_path / "demo").exists()  # nothing generated, nothing crawled


def test_score_options_and_missing_files(tmp_path):
    from chanaudit.core.tables import write_csv

    write_csv([{"site_id": 1, "status": "ok", "email": 1, "phone": 0, "chat": 0, "form": 0, "portal": 0}],
              tmp_path / "sites.csv")
    result = runner.invoke(app, ["score", str(tmp_path), "--draws", "0"])
    assert result.exit_code == 2 and "draws must be at least 1, not 0" in result.output
    result = runner.invoke(app, ["score", str(tmp_path), "--weights", str(tmp_path / "w.toml")])
    assert result.exit_code == 2 and "w.toml: no such file" in result.output
    result = runner.invoke(app, ["report", str(tmp_path), "--formats", "png,gif"])
    assert result.exit_code == 2 and "not gif" in result.output
    result = runner.invoke(app, ["analyze", str(tmp_path), "--conf", "95"])
    assert result.exit_code == 2 and "conf must be between 0 and 1" in result.output
