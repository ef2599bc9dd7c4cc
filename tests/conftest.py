import csv
import os
from pathlib import Path

import pytest

os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")
os.environ.setdefault("MPLBACKEND", "Agg")
# No test may reach the internet: the crawler resolves no real name (crawler/resolver.py), so a saved page
# that frames www.google.com, or the browser's own background requests, stop at the resolver.
os.environ.setdefault("CHANAUDIT_TEST_OFFLINE", "1")

FIXTURES = Path(__file__).parent / "fixtures"


def _chromium_missing() -> bool:
    from chanaudit.crawler.config import CHROMIUM

    return not Path(CHROMIUM).exists()


#: For tests that run the rendering browser (AuditConfig's default chromium): skipped where it is
#: not installed, except in CI (CI=true), where a missing browser must fail the test, not hide it.
requires_chromium = pytest.mark.skipif(_chromium_missing() and not os.environ.get("CI"),
                                       reason="Debian chromium not installed (under CI=true the test runs and fails)")


def write_sites_csv(path: Path, rows: list[dict], encoding: str = "utf-8", delimiter: str = ",") -> Path:
    with open(path, "w", encoding=encoding, newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]), delimiter=delimiter)
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture
def sites_csv(tmp_path):
    def make(rows, **kw):
        return write_sites_csv(tmp_path / "sites.csv", rows, **kw)

    return make


@pytest.fixture(scope="session")
def redis_server():
    """The tests' own redis-server (tests/redisserver.py), shared by the session: skipped where Debian's
    redis-server is not installed, except under CI=true, where its absence fails the test."""
    from tests.redisserver import RedisServer, available

    if not available():
        if os.environ.get("CI"):
            pytest.fail("redis-server is not installed (make test installs Debian's redis-server)")
        pytest.skip("redis-server not installed (apt-get install redis-server; under CI=true the test fails)")
    server = RedisServer().start()
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server):
    """The tests' redis-server, empty: every key of an earlier test flushed."""
    if redis_server.proc.poll() is not None:
        redis_server.start()
    client = redis_server.client()
    client.flushall()
    client.close()
    return redis_server.url
