"""A private ``redis-server`` on a free port: for the test suite and the benchmarks.

Never a server the user already runs: each instance has its own port, directory and no
persistence, and is killed when done.
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

INSTALL_HINT = (
    "redis-server was not found on PATH. Install it, e.g. `sudo apt-get install redis-server` "
    "(Debian/Ubuntu) or `brew install redis` (macOS); .ci/run installs it when missing."
)


class RedisServerError(RuntimeError):
    pass


@dataclass(frozen=True)
class ServerTls:
    """TLS for a private server: its certificate and key, and the CA clients are checked
    against (``auth_clients``: ``yes`` asks every client for a certificate, ``no`` none)."""

    cert_file: Path
    key_file: Path
    ca_file: Path
    auth_clients: str = "no"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class RedisServer:
    """Start, kill -9, restart and stop a private redis-server."""

    def __init__(
        self,
        port: int | None = None,
        binary: str = "redis-server",
        *,
        persistent: bool = False,
        tls: ServerTls | None = None,
        acl: Sequence[str] = (),
    ) -> None:
        """``tls``: also listen with TLS on ``tls_port`` (``--tls-port``); ``acl``: the lines
        of an ACL file (``user NAME on >password ~keys +commands``) the server starts with."""
        found = shutil.which(binary)
        if found is None:
            raise RedisServerError(INSTALL_HINT)
        self.binary = found
        self.port = port or free_port()
        self._dir = Path(tempfile.mkdtemp(prefix="quantrail-redis-"))
        self._process: subprocess.Popen[bytes] | None = None
        # persistent: an append-only file synced on every write, so a kill -9 and start is an
        # outage that loses nothing (what a production Redis with AOF does).
        self.persistent = persistent
        self.tls = tls
        self.tls_port = free_port() if tls is not None else None
        self.acl = tuple(acl)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def tls_url(self) -> str:
        if self.tls_port is None:
            raise RedisServerError("this server was started without TLS")
        return f"rediss://127.0.0.1:{self.tls_port}/0"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def start(self, timeout_s: float = 10.0) -> RedisServer:
        command = [
            self.binary,
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--save", "",
            "--appendonly", "yes" if self.persistent else "no",
            "--appendfsync", "always",
            "--dir", str(self._dir),
            "--protected-mode", "no",
            "--logfile", str(self._dir / "redis.log"),
            *self._tls_args(), *self._acl_args(),
        ]  # fmt: skip
        self._process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self._wait_until_ready(timeout_s)
        return self

    def _tls_args(self) -> list[str]:
        if self.tls is None:
            return []
        return [
            "--tls-port", str(self.tls_port),
            "--tls-cert-file", str(self.tls.cert_file),
            "--tls-key-file", str(self.tls.key_file),
            "--tls-ca-cert-file", str(self.tls.ca_file),
            "--tls-auth-clients", self.tls.auth_clients,
        ]  # fmt: skip

    def _acl_args(self) -> list[str]:
        if not self.acl:
            return []
        acl_file = self._dir / "users.acl"
        acl_file.write_text("".join(f"{line}\n" for line in self.acl))
        return ["--aclfile", str(acl_file)]

    def _wait_until_ready(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                err = self._process.stderr.read().decode() if self._process.stderr else ""
                log = self._dir / "redis.log"
                err += log.read_text()[-2000:] if log.exists() else ""
                raise RedisServerError(f"redis-server exited at start on port {self.port}: {err}")
            if _answers_ping(self.port):
                return
            time.sleep(0.02)  # polling a child process at start-up, not waiting for an effect
        raise RedisServerError(f"redis-server on port {self.port} did not answer in {timeout_s}s")

    def kill(self) -> None:
        """kill -9: the server dies with everything in memory (it keeps nothing on disk)."""
        if self._process is not None and self._process.poll() is None:
            self._process.send_signal(signal.SIGKILL)
            self._process.wait(timeout=10)
        self._process = None

    def restart(self) -> None:
        self.kill()
        self.start()

    def stop(self) -> None:
        terminate(self._process)
        self._process = None
        shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def terminate(process: subprocess.Popen[bytes] | None) -> None:
    """Stop a server we started, by its process: SIGTERM, then SIGKILL after 5 s."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


def _answers_ping(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2) as s:
        s.sendall(b"PING\r\n")
        # NOAUTH: the default user needs a password (an ACL file); the server is up all the same.
        return s.recv(16).startswith((b"+PONG", b"-NOAUTH"))
    return False
