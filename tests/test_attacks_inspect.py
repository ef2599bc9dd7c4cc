"""``chanaudit inspect URL`` under attack (issue 12, item 4): it runs the audit's own crawler on
the one page, so a redirect to a private address is refused on its hop, a slow body stops at
``--timeout``, and a binary or a gzip bomb is ``not_html`` / ``too_large`` — each an ``error:``
line and exit code 1, never exit 0 with no channels. 127.0.0.2 plays the public site
(CHANAUDIT_TEST_PUBLIC_ADDRESSES); 127.0.0.1 is the internal network.
"""

from __future__ import annotations

import gzip
import json
import time

import pytest
from typer.testing import CliRunner

from chanaudit.cli import app
from chanaudit.crawler.resolver import PUBLIC_ENV
from tests.conftest import requires_chromium
from tests.hostile import (
    INTERNAL,
    PUBLIC,
    HostileServer,
    html,
    loopback_alias_works,
    redirect,
    secret,
)

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not loopback_alias_works(), reason="127.0.0.2 is not routed to loopback here")]

runner = CliRunner()
PAGE = ("<html><body><h1>Firm</h1><p>Phone +7 495 123-45-67, "
        "<a href='mailto:info@firm.example'>info@firm.example</a></p></body></html>")


def trickle(handler, _hit):
    """Headers at once, then a body of 1 MB at 20 bytes a tenth of a second."""
    handler.send_response(200)
    handler.send_header("Content-Type", "text/html")
    handler.send_header("Content-Length", str(1024 * 1024))
    handler.end_headers()
    handler.wfile.write(b"<html><body>")
    try:
        for _ in range(300):
            handler.wfile.write(b"<p>slow slow slow</p>")
            handler.wfile.flush()
            time.sleep(0.1)
    except OSError:
        pass
    return None


BOMB = gzip.compress(b"<html><body>" + b" " * (40 * 1024 * 1024) + b"</body></html>", 9)  # 40 KB -> 40 MB


@pytest.fixture
def sites(monkeypatch):
    monkeypatch.setenv(PUBLIC_ENV, PUBLIC)
    internal = HostileServer(INTERNAL, 0, default=lambda h, n: html(f"<html><body>{secret('inspect')}</body></html>"))
    public = HostileServer(PUBLIC, 0, {
        "/robots.txt": html("", 404),
        "/": html(PAGE),
        "/local-phone": html("<html><body><p>Call us: 8 (495) 123-45-67</p></body></html>"),
        "/to-admin": redirect(internal.url("/admin")),
        "/cloaked": lambda h, hit: html(PAGE) if hit == 1 else redirect(internal.url("/browser-admin")),
        "/slow": trickle,
        "/binary": (200, {"Content-Type": "application/octet-stream"}, bytes(range(256)) * 64),
        "/bomb": (200, {"Content-Type": "text/html", "Content-Encoding": "gzip"}, BOMB),
    })
    with internal, public:
        yield public, internal


def inspect(*args: str):
    return runner.invoke(app, ["inspect", *args, "--render", "never"])


def test_a_page_is_audited_as_the_crawler_would(sites):
    public, _internal = sites
    result = inspect(public.url("/"), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["status"] == "ok" and data["channels"]["email"] == 1 and data["channels"]["phone"] == 1
    assert {e["rule"] for e in data["evidence"]} >= {"email.mailto"}


def test_region_reaches_the_crawler(sites):
    public, _internal = sites
    guessed = json.loads(inspect(public.url("/local-phone"), "--json").stdout)
    forced = json.loads(inspect(public.url("/local-phone"), "--json", "--region", "RU").stdout)
    assert (guessed["channels"]["phone"], forced["channels"]["phone"]) == (0, 1)
    assert forced["evidence"][0]["value"] == "+74951234567"


def test_a_redirect_to_a_private_address_is_refused(sites):
    public, internal = sites
    result = inspect(public.url("/to-admin"))
    assert result.exit_code == 1
    assert result.stderr.strip() == (f"error: {public.url('/to-admin')}: blocked_address: redirect to "
                                     f"{internal.url('/admin')}: 127.0.0.1 is a non-public address "
                                     "(use --allow-private to audit it)")
    assert internal.connections == 0 and "INTERNAL-SECRET" not in result.output


@pytest.mark.browser
@requires_chromium
def test_the_browser_of_inspect_is_held_to_the_rule_too(sites):
    """A redirect only the browser gets (the static fetch came first): refused by the browser proxy."""
    public, internal = sites
    result = runner.invoke(app, ["inspect", public.url("/cloaked"), "--render", "always", "--json"])
    assert result.exit_code == 1
    assert json.loads(result.stdout)["status"] == "blocked_address"
    assert result.stderr.strip().endswith(f": blocked_address: browser navigation to {internal.url('/browser-admin')} "
                                          "refused: 127.0.0.1 is a non-public address (use --allow-private to audit it)")
    assert internal.connections == 0


def test_a_slow_body_stops_at_the_time_limit(sites):
    public, _internal = sites
    started = time.monotonic()
    result = inspect(public.url("/slow"), "--timeout", "1.5")
    elapsed = time.monotonic() - started
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: {public.url('/slow')}: timeout: ")
    assert elapsed < 15  # the body alone would take 30 s; the crawler process starts in a few


@pytest.mark.parametrize("path, status", [("/binary", "not_html"), ("/bomb", "too_large")])
def test_binary_and_gzip_bomb_are_errors_not_empty_pages(sites, path, status):
    public, _internal = sites
    result = inspect(public.url(path))
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith(f"error: {public.url(path)}: {status}: ")
    assert "channels:" not in result.stdout


def test_an_internal_url_needs_allow_private(sites):
    _public, internal = sites
    refused = inspect(internal.url("/"))
    assert refused.exit_code == 1 and ": blocked_address: 127.0.0.1 is a non-public address" in refused.stderr
    assert internal.connections == 0
    allowed = inspect(internal.url("/"), "--allow-private", "--json")
    assert allowed.exit_code == 0 and json.loads(allowed.stdout)["status"] == "ok"
    assert internal.paths == ["/robots.txt", "/"]


def test_a_bad_url_is_a_usage_error(sites):
    result = inspect("http://nodot/")
    assert result.exit_code == 2 and result.stderr.startswith("error: http://nodot/: ")


def test_inspect_names_a_bad_url_as_given(tmp_path):
    """A URL that is not one (an unbalanced IPv6 bracket) is an error naming the URL and the reason, with
    no traceback and no temporary file name in the message."""
    from typer.testing import CliRunner

    from chanaudit.cli import app

    for bad in ("http://[::1/", "http://x.com]/", "http://[1::2::3]/"):
        res = CliRunner().invoke(app, ["inspect", bad])
        assert res.exit_code == 2, (bad, res.output)
        assert f"error: {bad}:" in res.output and "inspect.csv" not in res.output
        assert "Traceback" not in res.output


def test_inspect_prints_markup_like_snippets_as_text(tmp_path):
    """Rich markup in a scraped page ([/b], [red]) is text in inspect's table, not a style tag that stops it."""
    from typer.testing import CliRunner

    from chanaudit.cli import app

    page = tmp_path / "page.html"
    page.write_text('<html><body><p>[/b] Пишите: <a href="mailto:info@firm.ru">[red]info@firm.ru[/red]</a></p>'
                    "</body></html>", encoding="utf-8")  # SYNTHETIC page
    res = CliRunner().invoke(app, ["inspect", str(page), "--url", "https://firm.ru/"])
    assert res.exit_code == 0, res.output
    assert "info@firm.ru" in res.output and "email=1" in res.output
