"""One DNS answer per host for the whole crawl: the address that is checked is the one connected to.

The address guard (:mod:`crawler.middlewares`), Scrapy's connections (:class:`PinnedResolver`,
installed as the reactor's resolver) and the rendering browser's proxy (:mod:`crawler.proxy`) all
ask one :class:`Resolutions`. A host is resolved once per crawl and that answer is both checked and
connected to, so a name that answers a public address first and a private one next (DNS
rebinding) never gets a private connection. As a second line, :class:`PinnedResolver` hands a
connection no address at all for a host with a non-public address (unless ``--allow-private``).

Two test hooks, honoured only when set (docs/safety.md):

- ``CHANAUDIT_TEST_PUBLIC_ADDRESSES=127.0.0.2,...``: loopback aliases to treat as public, so that a
  local server can play a public site. Only 127.0.0.0/8 other than 127.0.0.1 is accepted.
- ``CHANAUDIT_TEST_HOSTS=hosts.json``: ``{"name.test": [answer, answer, ...]}``, each answer an
  address or a list of them; the n-th lookup of a name gets the n-th answer, the last one repeats.
  Only names under ``.test`` (RFC 2606) are looked up there.
- ``CHANAUDIT_TEST_OFFLINE=1``: no name is ever sent to a DNS server, except the special-use names
  that never leave the machine (``localhost``, ``.test``, ``.invalid``, ``.example``): every other
  name fails as unresolvable. The test suite sets it, so that a saved real page naming
  ``www.google.com`` in a frame, or the browser's own background requests through the proxy,
  cannot make a test reach the internet even where the machine could.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import os
import socket
import threading
from collections import Counter
from functools import cache
from pathlib import Path

from twisted.internet import defer
from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.error import DNSLookupError
from twisted.internet.interfaces import IHostnameResolver, IHostResolution, IResolverSimple
from zope.interface import implementer

PUBLIC_ENV = "CHANAUDIT_TEST_PUBLIC_ADDRESSES"
HOSTS_ENV = "CHANAUDIT_TEST_HOSTS"
OFFLINE_ENV = "CHANAUDIT_TEST_OFFLINE"
#: RFC 6761 names the offline hook still resolves: they are answered on the machine itself.
_LOCAL_NAMES = ("localhost", ".localhost", ".test", ".invalid", ".example")
_LOOPBACK = ipaddress.ip_network("127.0.0.0/8")

logger = logging.getLogger(__name__)


@cache
def _declared_public(value: str) -> frozenset[str]:
    found = set()
    for item in value.replace(";", ",").split(","):
        try:
            ip = ipaddress.ip_address(item.strip())
        except ValueError:
            continue
        if ip in _LOOPBACK and str(ip) != "127.0.0.1":
            found.add(str(ip))
    return frozenset(found)


def declared_public_addresses() -> frozenset[str]:
    """The loopback aliases ``CHANAUDIT_TEST_PUBLIC_ADDRESSES`` declares public (a test hook)."""
    return _declared_public(os.environ.get(PUBLIC_ENV, ""))


def non_public(address: str) -> bool:
    """The crawl's address rule: True for an address that is not publicly routable (private,
    loopback, link-local, reserved, multicast...), IPv4-mapped IPv6 judged as its IPv4."""
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    if str(ip) in declared_public_addresses():
        return False
    return not ip.is_global or ip.is_multicast


def first_non_public(addresses) -> str | None:
    return next((a for a in addresses if non_public(a)), None)


class HostsStub:
    """Answers for names under ``.test`` from a JSON file (the ``CHANAUDIT_TEST_HOSTS`` hook)."""

    def __init__(self, answers: dict[str, list]):
        self.answers = {name.lower().rstrip("."): [[a] if isinstance(a, str) else list(a) for a in seq]
                        for name, seq in answers.items() if name.lower().rstrip(".").endswith(".test") and seq}
        self.lookups: Counter = Counter()
        self._lock = threading.Lock()

    @classmethod
    def from_env(cls) -> HostsStub | None:
        path = os.environ.get(HOSTS_ENV)
        if not path:
            return None
        return cls(json.loads(Path(path).read_text(encoding="utf-8")))

    def lookup(self, host: str) -> list[str] | None:
        key = host.lower().rstrip(".")
        if not key.endswith(".test"):
            return None
        seq = self.answers.get(key)
        if seq is None:
            raise socket.gaierror(socket.EAI_NONAME, f"{host}: not in {HOSTS_ENV}")
        with self._lock:
            n = self.lookups[key]
            self.lookups[key] += 1
        return seq[min(n, len(seq) - 1)]


async def addresses_of(host: str, stub: HostsStub | None = None) -> list[str]:
    """The addresses of ``host``: itself for an IP literal, else what the resolver answers
    (raises ``socket.gaierror`` or ``UnicodeError`` when it cannot). No caching: see
    :class:`Resolutions` for the crawl's pinned answers."""
    host = host.strip("[]")
    try:
        ipaddress.ip_address(host.split("%")[0])
        return [host]
    except ValueError:
        pass
    if stub is not None and (answer := stub.lookup(host)) is not None:
        return list(answer)
    if os.environ.get(OFFLINE_ENV) and not host.lower().rstrip(".").endswith(_LOCAL_NAMES):
        raise socket.gaierror(socket.EAI_NONAME, f"{host}: not looked up ({OFFLINE_ENV} is set: tests stay offline)")
    infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


class Resolutions:
    """The crawl's DNS answers, one per host, shared by every thread and event loop of the crawler
    process (the reactor's and the browser proxy's). The first answer for a host is kept: every
    later question about it, from the guard, a connection or the proxy, gets that answer.

    Settings carry it to Scrapy's components, and Scrapy deep-copies settings: a copy is the
    object itself, so that they all share one."""

    def __init__(self, stub: HostsStub | None = None, timeout: float = 30.0, limit: int = 100_000):
        self.stub = stub
        self.timeout = timeout
        self.limit = limit
        self.lookups = 0  # resolutions made (cache misses)
        self._answers: dict[str, tuple[str, ...]] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_env(cls, timeout: float = 30.0) -> Resolutions:
        return cls(HostsStub.from_env(), timeout=timeout)

    def __deepcopy__(self, memo) -> Resolutions:
        return self

    def __repr__(self) -> str:
        return f"Resolutions({len(self._answers)} hosts, {self.lookups} lookups)"

    @staticmethod
    def key(host: str) -> str:
        return host.strip("[]").lower()

    def pinned(self, host: str) -> tuple[str, ...] | None:
        with self._lock:
            return self._answers.get(self.key(host))

    async def addresses(self, host: str) -> tuple[str, ...]:
        """The pinned addresses of ``host``, resolving it on first use (``socket.gaierror``,
        ``UnicodeError`` or ``TimeoutError`` when that fails; failures are not kept)."""
        key = self.key(host)
        with self._lock:
            found = self._answers.get(key)
        if found is not None:
            return found
        async with asyncio.timeout(self.timeout):
            answer = tuple(await addresses_of(key, self.stub))
        if not answer:
            raise socket.gaierror(socket.EAI_NONAME, f"{host}: no addresses")
        with self._lock:
            self.lookups += 1
            if key not in self._answers and len(self._answers) >= self.limit:
                del self._answers[next(iter(self._answers))]  # the oldest; the second line still holds
            return self._answers.setdefault(key, answer)


@implementer(IHostResolution)
class _Resolution:
    def __init__(self, name: str):
        self.name = name

    def cancel(self) -> None:
        pass


@implementer(IHostnameResolver)
class PinnedResolver:
    """The reactor's resolver in a crawl (``TWISTED_DNS_RESOLVER``): every connection Scrapy opens
    gets the crawl's pinned answer for its host, and no address at all when one of them is not
    public and ``--allow-private`` was not given."""

    def __init__(self, reactor, resolutions: Resolutions, allow_private: bool = False):
        self.reactor = reactor
        self.resolutions = resolutions
        self.allow_private = allow_private

    @classmethod
    def from_crawler(cls, crawler, reactor) -> PinnedResolver:
        resolutions = crawler.settings.get("CHANAUDIT_RESOLUTIONS") or Resolutions.from_env()
        return cls(reactor, resolutions, crawler.settings.getbool("CHANAUDIT_ALLOW_PRIVATE"))

    def install_on_reactor(self) -> None:
        self.reactor.installResolver(_SimpleResolver(self))  # connectTCP(name, ...) asks this one
        self.reactor.installNameResolver(self)  # HostnameEndpoint (Scrapy's HTTP agent) asks this one

    async def connectable(self, host: str) -> list[str]:
        """The addresses a connection to ``host`` may use ([] when the address rule refuses it)."""
        addresses = await self.resolutions.addresses(host)
        if not self.allow_private and (bad := first_non_public(addresses)):
            logger.error("refused to connect to %s: non-public address %s", host, bad)
            return []
        return list(addresses)

    def resolveHostName(self, resolutionReceiver, hostName: str, portNumber: int = 0, addressTypes=None,
                        transportSemantics: str = "TCP"):
        from scrapy.utils.defer import deferred_from_coro

        resolution = _Resolution(hostName)
        resolutionReceiver.resolutionBegan(resolution)

        def deliver(addresses: list[str]) -> None:
            for address in addresses:
                kind = IPv6Address if ":" in address else IPv4Address
                if addressTypes is None or kind in addressTypes:
                    resolutionReceiver.addressResolved(kind("TCP", address, portNumber))
            resolutionReceiver.resolutionComplete()

        def failed(failure) -> None:
            logger.debug("cannot resolve %s: %s", hostName, failure.value)
            resolutionReceiver.resolutionComplete()

        deferred_from_coro(self.connectable(hostName)).addCallbacks(deliver, failed)
        return resolution


@implementer(IResolverSimple)
class _SimpleResolver:
    def __init__(self, pinned: PinnedResolver):
        self.pinned = pinned

    def getHostByName(self, name: str, timeout=()) -> defer.Deferred:
        from scrapy.utils.defer import deferred_from_coro

        async def first() -> str:
            try:
                addresses = await self.pinned.connectable(name)
            except (OSError, UnicodeError) as exc:
                raise DNSLookupError(f"{name}: {exc}") from None
            if not addresses:
                raise DNSLookupError(f"{name}: refused by the address rule")
            return addresses[0]

        return deferred_from_coro(first())
