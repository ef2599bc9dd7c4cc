"""The audit command as an analyst runs it: exit codes, messages, outputs."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from chanaudit.cli import app
from chanaudit.core.tables import read_csv
from chanaudit.demo.server import Site, SiteServer
from tests.conftest import FIXTURES, write_sites_csv

runner = CliRunner()


@pytest.mark.slow
def test_audit_command_writes_the_contract(tmp_path):
    with SiteServer([Site("basic", root=FIXTURES / "sites" / "basic")]) as server:
        csv_path = write_sites_csv(tmp_path / "in.csv", [{"url": server.url("basic"), "name": "Тест"},
                                                         {"url": "bad url", "name": "Плохой"}])
        result = runner.invoke(app, ["audit", str(csv_path), "--out", str(tmp_path / "out"), "--allow-private",
                                     "--render", "never", "--delay", "0", "--quiet"])
    assert result.exit_code == 0, result.output
    assert "invalid input" in result.output and "in.csv:3" in result.output
    for name in ("sites.csv", "evidence.csv", "pages.csv", "manifest.json"):
        assert (tmp_path / "out" / name).exists()
    frame = read_csv(tmp_path / "out" / "sites.csv")
    assert list(frame["status"]) == ["ok", "invalid_input"]
    assert list(frame["name"]) == ["Тест", "Плохой"]
    assert frame.loc[0, "score"] == pytest.approx(0.8)  # the CLI scores with the default weights: .1+.1+.2+.4


def test_missing_file_is_a_clear_error(tmp_path):
    result = runner.invoke(app, ["audit", str(tmp_path / "nope.csv"), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert "nope.csv: no such file" in result.output


def test_bad_render_policy(tmp_path):
    csv_path = write_sites_csv(tmp_path / "in.csv", [{"url": "example.ru"}])
    result = runner.invoke(app, ["audit", str(csv_path), "--out", str(tmp_path / "o"), "--render", "sometimes"])
    assert result.exit_code == 2 and "--render must be one of" in result.output


@pytest.mark.slow
def test_ai_chat_counts_as_chat_unless_switched_off(tmp_path):
    """--ai-chat-as-chat (default) counts an AI chat widget as chat; --no-ai-chat-as-chat counts
    human live chat only, the evidence (kind ai_chat) kept either way."""
    page = (b'<html lang="en"><body><p>Firm</p><script src="https://widget.docsbot.ai/chat.js" '
            b'type="text/javascript"></script></body></html>')
    with SiteServer([Site("bot", routes={"/": ("text/html", page)})]) as server:
        csv_path = write_sites_csv(tmp_path / "in.csv", [{"url": server.url("bot")}])
        flags = {}
        for option in ("--ai-chat-as-chat", "--no-ai-chat-as-chat"):
            out = tmp_path / option.strip("-")
            result = runner.invoke(app, ["audit", str(csv_path), "--out", str(out), "--allow-private",
                                         "--render", "never", "--delay", "0", "--quiet", option])
            assert result.exit_code == 0, result.output
            flags[option] = int(read_csv(out / "sites.csv").loc[0, "chat"])
            evidence = read_csv(out / "evidence.csv")
            assert list(evidence[evidence["channel"] == "chat"]["detail"]) == ["ai_chat"]
            assert read_csv(out / "sites.csv").loc[0, "status"] == "ok"
    assert flags == {"--ai-chat-as-chat": 1, "--no-ai-chat-as-chat": 0}
