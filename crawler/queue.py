"""The shared queue on Redis: runs, their sites, leases and results (docs/scale-out.md).

A *run* is one ``chanaudit audit --queue`` (its coordinator); its keys share one hash tag, so that
each Lua script below touches one slot:

=================================  ==========================================================
``chanaudit:runs``                 sorted set: open run ids by creation time (oldest served first)
``chanaudit:{RUN}:meta``           hash: ``config`` (JSON), ``lease`` (s), ``state`` open|paused
``chanaudit:{RUN}:sites``          stream, consumer group ``workers``: one entry per site to crawl
``chanaudit:{RUN}:results``        stream: one entry per finished site (its journal line)
``chanaudit:{RUN}:done``           bitmap by site id: a site's result is posted once
=================================  ==========================================================

A *lease* is a stream entry delivered to a worker (``XREADGROUP``) and not yet acknowledged: it
sits in the group's pending list with its idle time. A live worker resets the idle time of the
sites it holds (:data:`EXTEND`) every third of the lease; an entry idle for longer than the lease
belongs to a worker that died, and the next worker takes it over (``XAUTOCLAIM``). Finishing a
site (:data:`FINISH`) posts its result, acknowledges and deletes its entry in one step, so every
site not yet in the coordinator's journal is in exactly one of the two streams.

Every call goes through :meth:`Queue.call`, which waits out a lost connection (a restarted
server, a network cut) with backoff instead of failing. The URL may carry a password: it is
printed, logged and recorded only as :func:`redact` makes it.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

from chanaudit.core.errors import ChanauditError

PREFIX = "chanaudit"
RUNS = f"{PREFIX}:runs"
GROUP = "workers"
#: Seconds a site stays with a worker that has gone silent before another worker takes it.
LEASE_SECONDS = 60.0
#: Environment variable that may hold the queue's URL (keeps a password out of the process list).
URL_ENV = "CHANAUDIT_QUEUE"
#: Longest wait between two attempts to reach a lost server.
BACKOFF_CAP = 5.0

log = logging.getLogger("chanaudit.queue")
T = TypeVar("T")


class QueueError(ChanauditError):
    """The queue cannot be used: a URL that is no Redis URL, a refused password, a server that is no
    Redis. (A server that is down is waited for, not an error.)"""


def redact(url: str) -> str:
    """The URL as it may be shown: ``redis://:***@host:6379/0`` for ``redis://:secret@host:6379/0``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<a queue URL that does not parse>"
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


def check_url(url: str) -> str:
    """``url`` when it names a Redis server (``redis://``, ``rediss://`` or ``unix://``); :class:`QueueError`
    saying what is wrong otherwise."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError as exc:
        raise QueueError(f"{redact(url)}: not a Redis URL ({exc}); expected redis://[:PASSWORD@]HOST:PORT/DB") from None
    if parts.scheme not in ("redis", "rediss", "unix") or (parts.scheme != "unix" and not parts.hostname):
        raise QueueError(f"{redact(url)}: not a Redis URL; expected redis://[:PASSWORD@]HOST:PORT/DB")
    db = parts.path.strip("/")
    if db and not db.isdigit():
        raise QueueError(f"{redact(url)}: the database must be a number (redis://HOST:PORT/0), not {db!r}")
    return url


@dataclass(frozen=True)
class RunKeys:
    meta: str
    sites: str
    results: str
    done: str

    @classmethod
    def of(cls, run_id: str) -> RunKeys:
        tag = f"{PREFIX}:{{{run_id}}}"
        return cls(f"{tag}:meta", f"{tag}:sites", f"{tag}:results", f"{tag}:done")

    @property
    def all(self) -> tuple[str, ...]:
        return (self.meta, self.sites, self.results, self.done)


#: Post a finished site's result once per (run, site), then acknowledge and delete its entries.
#: -1: the run is not there (closed, or the server lost it): nothing is posted; 1 posted; 0 a duplicate.
FINISH = """
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local posted = 0
if redis.call('SETBIT', KEYS[4], tonumber(ARGV[2]), 1) == 0 then
  redis.call('XADD', KEYS[3], '*', 'site', ARGV[2], 'record', ARGV[3])
  posted = 1
end
for i = 4, #ARGV do
  redis.call('XACK', KEYS[2], ARGV[1], ARGV[i])
  redis.call('XDEL', KEYS[2], ARGV[i])
end
return posted
"""

#: Reset the idle time of the entries this consumer still holds (a live worker's leases); entries
#: another worker took over meanwhile are left to it. Returns the ids still held.
EXTEND = """
local held = {}
local me = ARGV[2]
for i = 3, #ARGV do
  local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1)
  if p[1] and p[1][2] == me then
    redis.call('XCLAIM', KEYS[1], ARGV[1], me, 0, ARGV[i], 'JUSTID')
    table.insert(held, ARGV[i])
  end
end
return held
"""

#: Put back the entries this consumer holds and will not finish (a worker stopping): each is added
#: again at the end of the stream, at once available to any worker, and the old one deleted.
RELEASE = """
local n = 0
local me = ARGV[2]
for i = 3, #ARGV do
  local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1)
  if p[1] and p[1][2] == me then
    local e = redis.call('XRANGE', KEYS[1], ARGV[i], ARGV[i])
    if e[1] then redis.call('XADD', KEYS[1], '*', unpack(e[1][2])) end
    redis.call('XACK', KEYS[1], ARGV[1], ARGV[i])
    redis.call('XDEL', KEYS[1], ARGV[i])
    n = n + 1
  end
end
return n
"""


class Queue:
    """A connection to the queue's server that survives the server's restarts: :meth:`call` retries
    a lost connection with backoff (0.2 s doubling to :data:`BACKOFF_CAP`) for as long as it takes,
    saying so once per outage; ``stop`` (an event) ends the waiting with :class:`QueueStopped`."""

    def __init__(self, url: str, stop: threading.Event | None = None, say: Callable[[str], None] | None = None):
        import redis

        self.url = check_url(url)
        self.safe_url = redact(url)
        self.stop = stop
        self.say = say or log.warning
        self.client = redis.Redis.from_url(url, socket_timeout=10, socket_connect_timeout=5, health_check_interval=5)
        self._finish = self.client.register_script(FINISH)
        self._extend = self.client.register_script(EXTEND)
        self._release = self.client.register_script(RELEASE)
        self.outages = 0

    def call(self, fn: Callable[[Any], T], what: str = "") -> T:
        import redis

        delay, lost = 0.2, None
        while True:
            try:
                result = fn(self.client)
            except (redis.AuthenticationError, redis.exceptions.AuthorizationError, redis.exceptions.NoPermissionError):
                if urlsplit(self.url).password is None:
                    raise QueueError(f"{self.safe_url}: the server needs a password "
                                     "(redis://:PASSWORD@HOST:PORT/DB, or in CHANAUDIT_QUEUE)") from None
                raise QueueError(f"{self.safe_url}: the server refused the credentials (check the password in "
                                 "the URL)") from None
            except (redis.ConnectionError, redis.TimeoutError) as exc:
                if lost is None:
                    lost = time.monotonic()
                    self.outages += 1
                    self.say(f"{self.safe_url}: connection lost ({type(exc).__name__}){' ' + what if what else ''}; "
                             "reconnecting with backoff")
                if self.stop is not None:
                    if self.stop.wait(delay):
                        raise QueueStopped(what) from None
                else:
                    time.sleep(delay)
                delay = min(delay * 2, BACKOFF_CAP)
                continue
            except redis.ResponseError as exc:
                if str(exc).startswith("NOAUTH"):
                    raise QueueError(f"{self.safe_url}: the server needs a password (redis://:PASSWORD@HOST:PORT/DB)"
                                     ) from None
                raise
            if lost is not None:
                self.say(f"{self.safe_url}: connection back after {time.monotonic() - lost:.1f} s")
            return result

    def connect(self, timeout: float = 10.0) -> None:
        """First contact: a server not reached within ``timeout`` seconds is an error (a wrong host or
        port, more likely than an outage); later losses are waited out by :meth:`call`."""
        import redis

        deadline = time.monotonic() + timeout
        while True:
            try:
                self.client.ping()
                return
            except (redis.AuthenticationError, redis.exceptions.AuthorizationError, redis.ResponseError):
                self.call(lambda r: r.ping())  # says what is wrong with the credentials
                return
            except (redis.ConnectionError, redis.TimeoutError) as exc:
                if time.monotonic() > deadline:
                    raise QueueError(f"{self.safe_url}: cannot reach the queue's server ({type(exc).__name__}); "
                                     "is redis-server running there?") from None
                if self.stop is not None and self.stop.wait(0.5):
                    raise QueueStopped("first contact") from None
                if self.stop is None:
                    time.sleep(0.5)

    # -- runs (the coordinator) ------------------------------------------------------------------
    def open_run(self, run_id: str, config: dict, lease: float, coordinator: str) -> bool:
        """Create the run, or re-open it as it is; True when its keys were there already."""
        keys = RunKeys.of(run_id)

        def do(r):
            existed = bool(r.exists(keys.meta))
            pipe = r.pipeline(transaction=True)
            pipe.hset(keys.meta, mapping={"config": json.dumps(config), "lease": lease, "state": "open",
                                          "coordinator": coordinator, "opened": time.time()})
            pipe.hsetnx(keys.meta, "created", time.time())
            pipe.zadd(RUNS, {run_id: time.time()}, nx=True)
            pipe.execute()
            try:
                r.xgroup_create(keys.sites, GROUP, id="0", mkstream=True)
            except Exception as exc:  # noqa: BLE001 - BUSYGROUP: the group is there already
                if "BUSYGROUP" not in str(exc):
                    raise
            return existed

        return self.call(do, f"opening run {run_id}")

    def run_exists(self, run_id: str) -> bool:
        return bool(self.call(lambda r: r.exists(RunKeys.of(run_id).meta)))

    def set_state(self, run_id: str, state: str) -> None:
        keys = RunKeys.of(run_id)
        self.call(lambda r: r.exists(keys.meta) and r.hset(keys.meta, "state", state))

    def close_run(self, run_id: str) -> bool:
        """Delete the run's keys: it is complete, every result is in the coordinator's journal. One try: a
        server out of reach then leaves them (said, with how to delete them), it does not hold up the run."""
        import redis

        keys = RunKeys.of(run_id)
        try:
            pipe = self.client.pipeline(transaction=True)
            pipe.delete(*keys.all)
            pipe.zrem(RUNS, run_id)
            pipe.execute()
            return True
        except (redis.ConnectionError, redis.TimeoutError):
            self.say(f"{self.safe_url}: out of reach at the end of run {run_id}; its keys are left there (delete "
                     f"them with: redis-cli --scan --pattern 'chanaudit:{{{run_id}}}:*' | xargs redis-cli del; "
                     f"redis-cli zrem {RUNS} {run_id})")
            return False

    def enqueue(self, run_id: str, jobs: list[dict]) -> None:
        sites = RunKeys.of(run_id).sites

        def do(r):
            pipe = r.pipeline(transaction=False)
            for job in jobs:
                pipe.xadd(sites, {"site": job["site_id"], "job": json.dumps(job, ensure_ascii=False)})
            pipe.execute()

        self.call(do, f"queueing sites of run {run_id}")

    def lengths(self, run_id: str) -> tuple[int, int, bool]:
        """(entries in the site stream, entries in the result stream, the run is there), read at once."""
        keys = RunKeys.of(run_id)

        def do(r):
            pipe = r.pipeline(transaction=True)
            pipe.xlen(keys.sites)
            pipe.xlen(keys.results)
            pipe.exists(keys.meta)
            sites, results, meta = pipe.execute()
            return int(sites), int(results), bool(meta)

        return self.call(do)

    def results(self, run_id: str, count: int = 500) -> list[tuple[bytes, int, bytes]]:
        """The oldest ``count`` results: (entry id, site id, journal line)."""
        stream = RunKeys.of(run_id).results
        entries = self.call(lambda r: r.xrange(stream, "-", "+", count=count), "reading results")
        return [(eid, int(fields[b"site"]), fields[b"record"]) for eid, fields in entries]

    def delete_results(self, run_id: str, ids: list[bytes]) -> None:
        if ids:
            stream = RunKeys.of(run_id).results
            self.call(lambda r: r.xdel(stream, *ids))

    def queued_site_ids(self, run_id: str) -> set[int]:
        """The site ids in the run's site stream (queued or under way), read in pages of 10,000."""
        stream, found, start = RunKeys.of(run_id).sites, set(), "-"
        while True:
            entries = self.call(lambda r, s=start: r.xrange(stream, s, "+", count=10_000))
            found.update(int(fields[b"site"]) for _eid, fields in entries)
            if len(entries) < 10_000:
                return found
            start = "(" + entries[-1][0].decode()

    # -- runs (the workers) -------------------------------------------------------------------------
    def runs(self) -> list[tuple[str, dict]]:
        """The runs on the server, oldest first: (run id, meta) for each whose meta is there."""
        def do(r):
            ids = [i.decode() for i in r.zrange(RUNS, 0, -1)]
            pipe = r.pipeline(transaction=False)
            for run_id in ids:
                pipe.hgetall(RunKeys.of(run_id).meta)
            metas = pipe.execute()
            return [(run_id, {k.decode(): v.decode() for k, v in meta.items()}) for run_id, meta in zip(ids, metas,
                                                                                                        strict=True)
                    if meta]

        return self.call(do, "listing runs")

    def work(self, run_id: str, lease: float) -> tuple[int, int, int]:
        """(sites waiting for a worker, sites held by workers, held sites whose lease ran out — up to 100)."""
        keys = RunKeys.of(run_id)

        def do(r):
            try:
                total = int(r.xlen(keys.sites))
                held = r.xpending(keys.sites, GROUP)["pending"]
                expired = r.xpending_range(keys.sites, GROUP, "-", "+", 100, idle=int(lease * 1000)) if held else []
            except Exception as exc:  # noqa: BLE001 - NOGROUP: the run is being re-created
                if "NOGROUP" in str(exc):
                    return 0, 0, 0
                raise
            return total - held, held, len(expired)

        return self.call(do)

    def take(self, run_id: str, consumer: str, n: int, lease: float) -> list[tuple[bytes, dict]]:
        """Up to ``n`` sites for ``consumer``: first those whose lease ran out (a worker died), then new
        ones. Each is (entry id, job); the entry is leased to ``consumer`` until finished."""
        keys = RunKeys.of(run_id)

        def do(r):
            got = []
            try:
                claimed = r.xautoclaim(keys.sites, GROUP, consumer, int(lease * 1000), "0-0", count=n)
                got += [(eid, fields) for eid, fields in claimed[1] if fields]
                if len(got) < n:
                    fresh = r.xreadgroup(GROUP, consumer, {keys.sites: ">"}, count=n - len(got))
                    got += [(eid, fields) for _stream, entries in fresh for eid, fields in entries if fields]
            except Exception as exc:  # noqa: BLE001 - NOGROUP: the run was closed or is being re-created
                if "NOGROUP" in str(exc) or "no such key" in str(exc).lower():
                    return []
                raise
            return got

        return [(eid, json.loads(fields[b"job"])) for eid, fields in self.call(do, f"taking sites of run {run_id}")]

    def extend(self, run_id: str, consumer: str, ids: list[bytes]) -> set[bytes]:
        if not ids:
            return set()
        stream = RunKeys.of(run_id).sites
        return set(self.call(lambda r: _unless_gone(self._extend, [], keys=[stream], args=[GROUP, consumer, *ids],
                                                    client=r)))

    def finish(self, run_id: str, site_id: int, line: bytes, ids: list[bytes]) -> int:
        keys = RunKeys.of(run_id)
        return int(self.call(lambda r: self._finish(keys=list(keys.all), args=[GROUP, site_id, line, *ids], client=r),
                             f"posting the result of site {site_id}"))

    def release(self, run_id: str, consumer: str, ids: list[bytes]) -> int:
        if not ids:
            return 0
        stream = RunKeys.of(run_id).sites
        return int(self.call(lambda r: _unless_gone(self._release, 0, keys=[stream], args=[GROUP, consumer, *ids],
                                                    client=r)))

    def close(self) -> None:
        self.client.close()


def _unless_gone(script, gone, **kwargs):
    """Run a script on a run's site stream; ``gone`` when the stream or its group is not there (the run
    was closed, or the server lost it: the coordinator queues its sites again)."""
    import redis

    try:
        return script(**kwargs)
    except redis.ResponseError as exc:
        if "NOGROUP" in str(exc) or "no such key" in str(exc).lower():
            return gone
        raise


class QueueStopped(Exception):
    """Waiting for a lost server was given up: the process is stopping."""
