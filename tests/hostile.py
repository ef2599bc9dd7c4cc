"""Hostile and internal HTTP servers for the fault-and-attack suite (tests/test_attacks_*.py).

A :class:`HostileServer` binds one address and port (127.0.0.2 plays a public site through the
``CHANAUDIT_TEST_PUBLIC_ADDRESSES`` hook; 127.0.0.1 is the internal network), answers each path
with a route, and records every TCP connection and every request, so that a test can assert
that nothing at all reached an internal server — not a request, not a connection.
"""

from __future__ import annotations

import json
import socket
import threading
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

#: status, headers, body
Reply = tuple[int, dict[str, str], bytes]
#: a fixed reply, or a function of the handler (and the path's hit count, from 1) returning one,
#: or None when it wrote the answer itself
Route = Reply | Callable[["_Handler", int], Reply | None]

PUBLIC = "127.0.0.2"  # declared public to the crawler with CHANAUDIT_TEST_PUBLIC_ADDRESSES
INTERNAL = "127.0.0.1"


def html(body: str, status: int = 200, **headers: str) -> Reply:
    return status, {"Content-Type": "text/html; charset=utf-8", **headers}, body.encode()


def redirect(location: str, status: int = 302) -> Reply:
    return status, {"Location": location, "Content-Type": "text/html"}, b""


def secret(name: str) -> str:
    """The text of an internal page: must never appear in any output."""
    return f"INTERNAL-SECRET-{name} admin-{name}@intranet.example"


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, owner: HostileServer):
        self.owner = owner
        super().__init__(address, _Handler)

    def get_request(self):
        conn, addr = super().get_request()
        with self.owner.lock:
            self.owner.connections += 1
        return conn, addr


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, *args) -> None:
        pass

    def _dispatch(self) -> None:
        owner = self.server.owner
        path = self.path.split("?", 1)[0]
        if self.command == "POST":
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
        with owner.lock:
            owner.log.append((self.command, self.path, dict(self.headers)))
            owner.hits[path] += 1
            hit = owner.hits[path]
        route = owner.routes.get(path, owner.default)
        reply = route(self, hit) if callable(route) else route
        if reply is None:
            self.close_connection = True
            return
        status, headers, body = reply
        self.send_response(status)
        for key, value in {"Content-Length": str(len(body)), **headers}.items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_POST = do_HEAD = _dispatch


class HostileServer:
    """One HTTP server on ``host:port`` (port 0: any free port) in a background thread."""

    def __init__(self, host: str = INTERNAL, port: int = 0, routes: dict[str, Route] | None = None,
                 default: Route | None = None):
        self.routes = dict(routes or {})
        self.default = default if default is not None else html("<html><body>not found</body></html>", 404)
        self.log: list[tuple[str, str, dict]] = []
        self.hits: Counter = Counter()
        self.connections = 0
        self.lock = threading.Lock()
        self._server = _Server((host, port), self)
        self.host, self.port = self._server.server_address[:2]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True, name=f"hostile-{host}")

    def start(self) -> HostileServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> HostileServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def url(self, path: str = "/", host: str | None = None) -> str:
        return f"http://{host or self.host}:{self.port}{path}"

    @property
    def paths(self) -> list[str]:
        with self.lock:
            return [path for _method, path, _headers in self.log]


def same_port_pair(public_routes: dict[str, Route], internal_routes: dict[str, Route] | None = None,
                   tries: int = 20) -> tuple[HostileServer, HostileServer]:
    """A public server on 127.0.0.2 and an internal one on 127.0.0.1 *on the same port*: what a
    rebinding name's two answers lead to (the URL keeps its port, only the address changes)."""
    for _ in range(tries):
        public = HostileServer(PUBLIC, 0, public_routes)
        try:
            internal = HostileServer(INTERNAL, public.port, internal_routes or {})
        except OSError:
            public._server.server_close()
            continue
        return public, internal
    raise OSError("no port free on both 127.0.0.1 and 127.0.0.2")


def write_hosts(path: Path, answers: dict[str, list]) -> Path:
    """A ``CHANAUDIT_TEST_HOSTS`` file: name -> successive answers."""
    path.write_text(json.dumps(answers), encoding="utf-8")
    return path


def loopback_alias_works() -> bool:
    """Linux routes all of 127/8 to loopback; elsewhere 127.0.0.2 may need setting up."""
    try:
        with socket.socket() as sock:
            sock.bind((PUBLIC, 0))
        return True
    except OSError:
        return False
