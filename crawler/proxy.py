"""The rendering browser's only way out: a filtering SOCKS5 proxy on 127.0.0.1.

Chromium is launched with ``--proxy-server=socks5://127.0.0.1:PORT`` and
``--proxy-bypass-list=<-loopback>`` (it otherwise goes direct to loopback), so every
connection it opens — navigations and the redirects they follow, frames, pop-ups,
subresources, workers, websockets; http and https alike — is a SOCKS5 CONNECT to
``HOST:PORT`` here. Chromium hands SOCKS5 proxies the host name, not an address: the name is
resolved here, once per crawl (:class:`crawler.resolver.Resolutions`, the crawl guard's own
answers), every address is held to the crawl's address rule, and the connection goes to
exactly the address that was checked. A refused host gets SOCKS5's "not allowed by ruleset"
(the browser sees ``net::ERR_SOCKS_CONNECTION_FAILED``) and is remembered, so that the
spider can tell a refused hop from a dead one. Bytes are relayed as they are: no TLS
interception, nothing parsed after the handshake.

Why SOCKS5 rather than an HTTP forward proxy: a SOCKS5 connection is one TCP connection to one
host, so there is no HTTP to parse, no keep-alive connection that could carry a request for a
second host past the check, and http, https and websockets take the same path.

The proxy runs in its own thread and event loop, so a busy crawler loop (parsing, detection)
does not hold the browser's traffic up. It listens on 127.0.0.1 only; a page cannot reach it,
as its own address is loopback and refused like any other.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import socket
import struct
import threading
from collections import Counter
from dataclasses import dataclass
from urllib.parse import urlsplit

from chanaudit.crawler.resolver import Resolutions, first_non_public

logger = logging.getLogger(__name__)

# SOCKS5 reply codes (RFC 1928, section 6)
SUCCEEDED, GENERAL_FAILURE, NOT_ALLOWED, HOST_UNREACHABLE, CONNECTION_REFUSED = 0, 1, 2, 4, 5
COMMAND_NOT_SUPPORTED, ADDRESS_NOT_SUPPORTED = 7, 8

#: What the rendering browser is launched with besides the proxy: no name resolution of its own
#: (every name goes to the proxy) and no WebRTC UDP outside the proxy.
BROWSER_NETWORK_ARGS = (
    "--proxy-bypass-list=<-loopback>",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
    "--force-webrtc-ip-handling-policy=disable_non_proxied_udp",
    "--webrtc-ip-handling-policy=disable_non_proxied_udp",
)


@dataclass(frozen=True)
class Refusal:
    """A host the proxy refused: it resolves to ``address``, which is not public."""

    host: str
    address: str

    def __str__(self) -> str:
        what = "is a non-public address" if self.host == self.address else f"resolves to non-public address {self.address}"
        return f"{self.host} {what} (use --allow-private to audit it)"


def _host_key(host: str) -> str:
    return host.strip("[]").lower()


class BrowserProxy:
    """A SOCKS5 proxy (CONNECT only, no authentication) that applies the crawl's address rule.

    >>> with BrowserProxy(Resolutions()) as proxy:  # doctest: +SKIP
    ...     launch_args = proxy.browser_args()
    """

    def __init__(self, resolutions: Resolutions, allow_private: bool = False, connect_timeout: float = 20.0,
                 handshake_timeout: float = 20.0):
        self.resolutions = resolutions
        self.allow_private = allow_private
        self.connect_timeout = connect_timeout
        self.handshake_timeout = handshake_timeout
        self.port: int | None = None
        self.stats: Counter = Counter()  # connections, refused, failed, relayed
        self._refused: dict[str, Refusal] = {}
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.AbstractServer | None = None

    def __deepcopy__(self, memo) -> BrowserProxy:  # shared through Scrapy's (deep-copied) settings
        return self

    def __repr__(self) -> str:
        return f"BrowserProxy(port={self.port}, allow_private={self.allow_private})"

    # -- lifecycle -------------------------------------------------------------
    def start(self) -> BrowserProxy:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True, name="browser-proxy")
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(self._listen(), self._loop)
        self.port = future.result(timeout=30)
        logger.info("browser proxy listening on 127.0.0.1:%d (allow_private=%s)", self.port, self.allow_private)
        return self

    async def _listen(self) -> int:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0, backlog=512)
        return self._server.sockets[0].getsockname()[1]

    def stop(self) -> None:
        if self._loop is None or self._thread is None:
            return

        async def close() -> None:
            if self._server is not None:
                self._server.close()
            for task in [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]:
                task.cancel()

        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(close(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        if not self._thread.is_alive():
            self._loop.close()
        self._loop = self._thread = None
        logger.info("browser proxy closed: %s", dict(self.stats))

    def __enter__(self) -> BrowserProxy:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- what the crawl asks -----------------------------------------------------
    @property
    def url(self) -> str:
        if self.port is None:
            raise RuntimeError("the browser proxy is not started")
        return f"socks5://127.0.0.1:{self.port}"

    def browser_args(self) -> list[str]:
        """Chromium's command-line flags that send all its traffic here."""
        return [f"--proxy-server={self.url}", *BROWSER_NETWORK_ARGS]

    def refusal(self, url_or_host: str) -> Refusal | None:
        """Why the proxy refused the host of ``url_or_host``, or None if it never did."""
        host = urlsplit(url_or_host).hostname if "://" in url_or_host else url_or_host
        with self._lock:
            return self._refused.get(_host_key(host or ""))

    @property
    def refused(self) -> dict[str, Refusal]:
        with self._lock:
            return dict(self._refused)

    # -- SOCKS5 ------------------------------------------------------------------
    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.stats["connections"] += 1
        upstream = None
        try:
            async with asyncio.timeout(self.handshake_timeout):
                target = await self._handshake(reader, writer)
            if target is None:
                return
            host, port = target
            upstream = await self._open(host, port, writer)
            if upstream is None:
                return
            self.stats["relayed"] += 1
            await _relay(reader, writer, *upstream)
        except (TimeoutError, asyncio.IncompleteReadError, ConnectionError, OSError):
            return
        except asyncio.CancelledError:
            return
        finally:
            for w in (writer, upstream[1] if upstream else None):
                if w is not None:
                    with contextlib.suppress(Exception):
                        w.close()

    async def _handshake(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> tuple[str, int] | None:
        version, n = await reader.readexactly(2)
        methods = await reader.readexactly(n)
        if version != 5 or 0 not in methods:
            writer.write(b"\x05\xff")  # no acceptable method
            await writer.drain()
            return None
        writer.write(b"\x05\x00")
        version, command, _reserved, kind = await reader.readexactly(4)
        if kind == 1:
            host = socket.inet_ntop(socket.AF_INET, await reader.readexactly(4))
        elif kind == 4:
            host = socket.inet_ntop(socket.AF_INET6, await reader.readexactly(16))
        elif kind == 3:
            length = (await reader.readexactly(1))[0]
            name = await reader.readexactly(length)
            if not name.isascii():  # browsers send IDNs as punycode, as the crawl's URLs have them
                await self._reply(writer, ADDRESS_NOT_SUPPORTED)
                return None
            host = name.decode("ascii")
        else:
            await self._reply(writer, ADDRESS_NOT_SUPPORTED)
            return None
        (port,) = struct.unpack("!H", await reader.readexactly(2))
        if version != 5 or command != 1:  # CONNECT only: no BIND, no UDP ASSOCIATE
            await self._reply(writer, COMMAND_NOT_SUPPORTED)
            return None
        return _host_key(host), port

    async def _open(self, host: str, port: int, writer: asyncio.StreamWriter):
        """Resolve, check and connect; reply to the browser. The upstream (reader, writer) or None."""
        try:
            addresses = await self.resolutions.addresses(host)
        except (OSError, UnicodeError, TimeoutError) as exc:
            self.stats["failed"] += 1
            logger.debug("browser proxy: cannot resolve %s: %s", host, exc)
            await self._reply(writer, HOST_UNREACHABLE)
            return None
        bad = None if self.allow_private else first_non_public(addresses)
        if bad:
            refusal = Refusal(host, bad)
            with self._lock:
                self._refused[host] = refusal
            self.stats["refused"] += 1
            logger.warning("browser proxy refused %s:%d: %s", host, port, refusal)
            await self._reply(writer, NOT_ALLOWED)
            return None
        error: Exception | None = None
        for address in addresses:  # exactly the addresses checked, in the resolver's order
            try:
                async with asyncio.timeout(self.connect_timeout):
                    upstream = await asyncio.open_connection(address, port)
            except (OSError, TimeoutError) as exc:
                error = exc
                continue
            await self._reply(writer, SUCCEEDED, upstream[1].get_extra_info("sockname"))
            return upstream
        self.stats["failed"] += 1
        refused = isinstance(error, ConnectionRefusedError)
        await self._reply(writer, CONNECTION_REFUSED if refused else HOST_UNREACHABLE)
        return None

    @staticmethod
    async def _reply(writer: asyncio.StreamWriter, code: int, bound=None) -> None:
        address, port = (bound[0], bound[1]) if bound else ("0.0.0.0", 0)
        ip = ipaddress.ip_address(address.split("%")[0])
        kind = b"\x01" if ip.version == 4 else b"\x04"
        writer.write(b"\x05" + bytes([code]) + b"\x00" + kind + ip.packed + struct.pack("!H", port))
        await writer.drain()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    finally:
        if writer.can_write_eof() and not writer.is_closing():
            with contextlib.suppress(Exception):
                writer.write_eof()


async def _relay(client_reader, client_writer, upstream_reader, upstream_writer) -> None:
    """Bytes both ways until both sides are done (or one fails)."""
    tasks = [asyncio.ensure_future(_pipe(client_reader, upstream_writer)),
             asyncio.ensure_future(_pipe(upstream_reader, client_writer))]
    try:
        await asyncio.gather(*tasks)
    except (ConnectionError, OSError):
        pass
    finally:
        for task in tasks:
            task.cancel()
