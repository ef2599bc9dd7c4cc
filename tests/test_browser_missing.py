"""A missing browser stops the run before the crawl, with a clear message (no browser needed)."""

from __future__ import annotations

import json
import os

import pytest
from typer.testing import CliRunner

from chanaudit.cli import app
from chanaudit.crawler.config import AuditConfig
from chanaudit.crawler.runner import AuditError, BrowserMissing, check_rendering, run_audit
from tests.conftest import write_sites_csv


@pytest.mark.parametrize("render", ["auto", "always"])
def test_run_audit_without_a_browser_stops_before_writing(tmp_path, render):
    """No quiet fall-back to static HTML: the error names the path and the three ways out, and
    the output folder is neither created nor, with --overwrite, emptied of an earlier run."""
    csv_path = write_sites_csv(tmp_path / "in.csv", [{"url": "https://example.ru"}])
    config = AuditConfig(render=render, chromium="/nonexistent/chromium")
    with pytest.raises(BrowserMissing) as caught:
        run_audit(csv_path, tmp_path / "out", config)
    message = str(caught.value)
    assert isinstance(caught.value, AuditError)
    assert f"--render {render}" in message and "/nonexistent/chromium" in message
    assert "apt-get install chromium" in message and "--chromium PATH" in message and "--render never" in message
    assert not (tmp_path / "out").exists()
    earlier = tmp_path / "earlier"
    earlier.mkdir()
    (earlier / "sites.csv").write_text("site_id\n1\n", encoding="utf-8")
    with pytest.raises(BrowserMissing):
        run_audit(csv_path, earlier, config, overwrite=True)
    assert sorted(p.name for p in earlier.iterdir()) == ["sites.csv"]


def test_audit_command_says_how_to_fix_a_missing_browser(tmp_path):
    csv_path = write_sites_csv(tmp_path / "in.csv", [{"url": "https://example.ru"}])
    result = CliRunner().invoke(app, ["audit", str(csv_path), "--out", str(tmp_path / "out"),
                                      "--chromium", "/nonexistent/chromium", "--quiet"])
    assert result.exit_code == 2
    assert "error: --render auto needs a browser, and there is no executable at /nonexistent/chromium" in result.output
    assert "pass --chromium PATH" in result.output and "--render never" in result.output
    assert "Traceback" not in result.output and not (tmp_path / "out").exists()


def fake_browser(folder, name="fake-chromium", version="FakeChromium 1.2.3 built for tests"):
    path = folder / name
    path.write_text(f"#!/bin/sh\necho '{version}'\n", encoding="utf-8")
    path.chmod(0o755)
    return path


def test_the_manifest_records_the_browser_and_its_version(tmp_path, monkeypatch):
    browser = fake_browser(tmp_path)
    config, rendering = check_rendering(AuditConfig(render="auto", chromium=str(browser)))
    assert rendering == {"policy": "auto", "browser": str(browser), "browser_version": "FakeChromium 1.2.3 built for tests"}
    assert config.chromium == str(browser)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    config, rendering = check_rendering(AuditConfig(render="always", chromium="fake-chromium"))
    assert config.chromium == rendering["browser"] == str(browser)  # a name on PATH, resolved for the crawl
    assert check_rendering(AuditConfig(render="never", chromium="/nonexistent")) == (
        AuditConfig(render="never", chromium="/nonexistent"), {"policy": "never", "browser": None, "browser_version": None})


def test_a_file_that_cannot_run_is_no_browser(tmp_path):
    plain = tmp_path / "chromium"
    plain.write_text("not a program", encoding="utf-8")
    for path in (plain, tmp_path):  # not executable; a folder
        with pytest.raises(BrowserMissing, match=str(path)):
            check_rendering(AuditConfig(render="auto", chromium=str(path)))


def test_never_needs_no_browser_and_says_so(tmp_path):
    """--render never runs without a browser; the manifest's rendering record says none ran."""
    csv_path = write_sites_csv(tmp_path / "in.csv", [{"url": "not a url"}])
    result = run_audit(csv_path, tmp_path / "out", AuditConfig(render="never", chromium="/nonexistent"))
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["rendering"] == result.manifest["rendering"] == {
        "policy": "never", "browser": None, "browser_version": None, "pages_rendered": 0, "render_errors": 0}
