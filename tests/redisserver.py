"""A redis-server of the tests' own: loopback, a free port, no persistence (``--save "" --appendonly no``).

Debian's redis-server (``make test`` installs it when missing). :meth:`RedisServer.restart` kills it and
starts it again on the same port: with no persistence every key is gone, as after a real restart of a
server that keeps nothing on disk.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisServer:
    def __init__(self, executable: str | None = None, password: str | None = None):
        self.executable = executable or shutil.which("redis-server")
        self.password = password
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="chanaudit-redis-")
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        auth = f":{self.password}@" if self.password else ""
        return f"redis://{auth}127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        args = [self.executable, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                "--dir", self.dir, "--daemonize", "no", "--protected-mode", "yes", "--loglevel", "warning"]
        if self.password:
            args += ["--requirepass", self.password]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(64):
                        return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server did not start on port {self.port}")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def restart(self, down: float = 0.0) -> None:
        """Kill -9 and start again on the same port after ``down`` seconds: every key is lost."""
        self.kill()
        time.sleep(down)
        self.start()

    def client(self):
        import redis

        return redis.Redis.from_url(self.url)

    def stop(self) -> None:
        self.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


def available() -> bool:
    return shutil.which("redis-server") is not None and os.access(shutil.which("redis-server"), os.X_OK)
