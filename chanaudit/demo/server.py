"""Local HTTP servers on 127.0.0.1 for tests, the demo and benchmarks.

One asyncio loop in a background thread serves any number of *sites*, each on
its own port (so each is its own site for the same-site rule) from a folder of
static files, plus a *fault* per site or per path: timeouts, connection
resets, HTTP errors, redirect loops, gzip bombs, oversized pages, binary
bodies, robots.txt denial. Nothing here touches any other address.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import mimetypes
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

HOST = "127.0.0.1"

#: Fault names a site (or a path) may carry; see :meth:`SiteServer._fault`.
FAULTS = (
    "timeout", "reset", "http_500", "http_403", "http_404", "redirect_loop", "binary",
    "gzip_bomb", "huge", "robots_deny", "refused", "dns", "tls",
)


@dataclass
class Reply:
    """A response as a real server sends it: a status code, headers (a list of pairs, so that a header may
    repeat, as ``Set-Cookie`` does) and a body. ``Content-Length`` is set from the body."""

    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    @classmethod
    def of(cls, status: int, headers: dict, body: bytes) -> Reply:
        """From a ``{name: value or [values]}`` mapping (the fixtures' ``.json`` sidecars)."""
        pairs = [(k, v) for k, vs in headers.items() for v in (vs if isinstance(vs, list) else [vs])]
        return cls(status, pairs, body)


@dataclass
class Site:
    """One served site: static files under ``root`` (may be None) and an optional fault."""

    name: str
    root: Path | None = None
    fault: str | None = None
    #: path -> fault, for single pages of an otherwise healthy site
    path_faults: dict[str, str] = field(default_factory=dict)
    #: path -> (content_type, body bytes), served before files
    routes: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    #: path -> a full response (status, headers, body), served before routes and files
    replies: dict[str, Reply] = field(default_factory=dict)
    #: the name of another served site: the home page answers 301 to it (a company that moved)
    redirect_to: str | None = None
    port: int = 0

    @property
    def url(self) -> str:
        if self.fault == "dns":
            return f"http://{self.name}.invalid/"
        if self.fault == "tls":  # https:// to a port that answers plain HTTP: the handshake fails
            return f"https://{HOST}:{self.port}/"
        return f"http://{HOST}:{self.port}/"


class SiteServer:
    """Serve many sites, one port each, from one background event loop.

    >>> with SiteServer([Site("a", root=Path("site"))]) as server:  # doctest: +SKIP
    ...     server.url("a")
    """

    def __init__(self, sites: list[Site], latency: float = 0.0, hang_seconds: float = 60.0):
        self.sites = {s.name: s for s in sites}
        self.latency = latency
        self.hang_seconds = hang_seconds
        self.requests = 0
        self.log: list[tuple[str, str]] = []  # (site, path)
        self.first_request: float | None = None  # time.monotonic() of the first and last request
        self.last_request: float | None = None
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True, name="site-server")
        self._servers: list[asyncio.AbstractServer] = []

    # -- lifecycle -------------------------------------------------------------
    def start(self) -> SiteServer:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start_all(), self._loop).result(timeout=60)
        return self

    async def _start_all(self) -> None:
        for site in self.sites.values():
            if site.fault in ("refused", "dns"):
                if site.fault == "refused":
                    site.port = _closed_port()
                continue
            server = await asyncio.start_server(
                lambda r, w, s=site: self._handle(s, r, w), HOST, 0, backlog=1024, reuse_address=True
            )
            site.port = server.sockets[0].getsockname()[1]
            self._servers.append(server)

    def stop(self) -> None:
        async def _close():
            for server in self._servers:
                server.close()
            for task in [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]:
                task.cancel()

        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(_close(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        if not self._thread.is_alive():
            self._loop.close()  # its self-pipe sockets, else left to the garbage collector

    def __enter__(self) -> SiteServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def url(self, name: str, path: str = "/") -> str:
        return self.sites[name].url.rstrip("/") + path

    # -- HTTP ------------------------------------------------------------------
    async def _handle(self, site: Site, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            if site.fault == "tls":  # a TLS ClientHello gets a plain-HTTP answer, as a misconfigured port does
                self.log.append((site.name, "<tls>"))
                writer.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                await writer.drain()
                return
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                line = head.split(b"\r\n", 1)[0].decode("latin-1")
                parts = line.split(" ")
                if len(parts) < 2:
                    return
                method, target = parts[0], parts[1]
                path = unquote(urlsplit(target).path) or "/"
                self.requests += 1
                self.log.append((site.name, path))
                self.last_request = time.monotonic()
                if self.first_request is None:
                    self.first_request = self.last_request
                if self.latency:
                    await asyncio.sleep(self.latency)
                keep = await self._respond(site, method, path, writer)
                if not keep:
                    return
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            return
        except asyncio.CancelledError:
            return
        finally:
            with contextlib.suppress(Exception):
                writer.close()

    async def _respond(self, site: Site, method: str, path: str, writer: asyncio.StreamWriter) -> bool:
        fault = site.path_faults.get(path) or (site.fault if path != "/robots.txt" else None)
        if fault == "robots_deny":
            fault = None  # only robots.txt changes; the pages themselves are served
        if path == "/robots.txt" and site.fault == "robots_deny":
            return await self._send(writer, 200, "text/plain", b"User-agent: *\nDisallow: /\n")
        if fault:
            return await self._fault(fault, path, writer)
        if path == "/" and site.redirect_to:
            return await self._send(writer, 301, "text/html", b"", extra={"Location": self.url(site.redirect_to)})
        if path in site.replies:
            return await self._reply(writer, site.replies[path], head_only=method == "HEAD")
        if path in site.routes:
            ctype, body = site.routes[path]
            return await self._send(writer, 200, ctype, body, head_only=method == "HEAD")
        found = self._file(site, path)
        if found is None:
            return await self._send(writer, 404, "text/html", b"<html><body>Not found</body></html>")
        if isinstance(found, str):
            return await self._send(writer, 301, "text/html", b"", extra={"Location": found})
        ctype = mimetypes.guess_type(found.name)[0] or "application/octet-stream"
        if found.suffix in (".html", ".htm") or found.name == "index.html":
            ctype = "text/html"  # charset is left to the page's <meta>, as on many real sites
        return await self._send(writer, 200, ctype, found.read_bytes(), head_only=method == "HEAD")

    def _file(self, site: Site, path: str) -> Path | str | None:
        if site.root is None:
            return None
        root = site.root.resolve()
        candidate = (root / path.lstrip("/")).resolve()
        if root not in candidate.parents and candidate != root:
            return None
        if candidate.is_dir():
            if not path.endswith("/"):
                return path + "/"
            candidate = candidate / "index.html"
        elif not candidate.exists() and candidate.with_suffix(".html").exists():
            candidate = candidate.with_suffix(".html")  # extensionless links (Netlify-style)
        return candidate if candidate.is_file() else None

    async def _fault(self, fault: str, path: str, writer: asyncio.StreamWriter) -> bool:
        if fault == "timeout":
            await asyncio.sleep(self.hang_seconds)
            return False
        if fault == "reset":
            sock = writer.get_extra_info("socket")
            if sock is not None:
                import socket
                import struct

                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()
            return False
        if fault.startswith("http_"):
            code = int(fault.split("_")[1])
            return await self._send(writer, code, "text/html", f"<html><body>{code}</body></html>".encode())
        if fault == "redirect_loop":
            target = "/loop-a" if path != "/loop-a" else "/loop-b"
            return await self._send(writer, 302, "text/html", b"", extra={"Location": target})
        if fault == "binary":
            return await self._send(writer, 200, "application/octet-stream", bytes(range(256)) * 64)
        if fault == "gzip_bomb":
            return await self._send(writer, 200, "text/html", _gzip_bomb(), extra={"Content-Encoding": "gzip"})
        if fault == "huge":
            return await self._send_huge(writer, 50 * 1024 * 1024)
        raise ValueError(f"unknown fault {fault!r}")

    async def _send(self, writer, status: int, ctype: str, body: bytes, extra: dict | None = None,
                    head_only: bool = False) -> bool:
        headers = {"Content-Type": ctype, "Content-Length": str(len(body)), "Connection": "keep-alive"}
        headers.update(extra or {})
        head = f"HTTP/1.1 {status} {_REASONS.get(status, 'OK')}\r\n" + "".join(
            f"{k}: {v}\r\n" for k, v in headers.items()
        )
        writer.write(head.encode("latin-1") + b"\r\n" + (b"" if head_only else body))
        await writer.drain()
        return True

    async def _reply(self, writer, reply: Reply, head_only: bool = False) -> bool:
        skip = {"content-length", "content-encoding", "transfer-encoding", "connection"}
        headers = [(k, v) for k, v in reply.headers if k.lower() not in skip]
        head = f"HTTP/1.1 {reply.status} {_REASONS.get(reply.status, 'OK')}\r\n" + "".join(
            f"{k}: {v}\r\n" for k, v in [*headers, ("Content-Length", str(len(reply.body))), ("Connection", "keep-alive")])
        writer.write(head.encode("latin-1") + b"\r\n" + (b"" if head_only else reply.body))
        await writer.drain()
        return True

    async def _send_huge(self, writer, size: int) -> bool:
        writer.write(f"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {size}\r\n\r\n".encode())
        chunk = b"<p>" + b"x" * 65530 + b"</p>"
        sent = 0
        while sent < size:
            writer.write(chunk)
            sent += len(chunk)
            await writer.drain()
        return False


_REASONS = {200: "OK", 202: "Accepted", 301: "Moved Permanently", 302: "Found", 401: "Unauthorized",
            403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed", 429: "Too Many Requests",
            500: "Internal Server Error", 503: "Service Unavailable"}


_BOMB: bytes | None = None


def _gzip_bomb() -> bytes:
    """About 100 KB on the wire, 100 MB once inflated."""
    global _BOMB
    if _BOMB is None:
        _BOMB = gzip.compress(b"<html><body>" + b" " * (100 * 1024 * 1024) + b"</body></html>", 9)
    return _BOMB


def _closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def wait_for(predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.05)
    return False
