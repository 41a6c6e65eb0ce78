"""A private Redis Cluster on loopback ports: for the test suite and ``bench scale``.

Masters and replicas are plain ``redis-server --cluster-enabled yes`` processes under one temp
directory, joined with ``redis-cli --cluster create``. Never a server the user runs: every node
has its own free port (and the cluster bus port, client port + 10000, must be free too), no
persistence, and is stopped by its pid when done.
"""

from __future__ import annotations

import contextlib
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from quantrail.ops.redis_server import INSTALL_HINT, RedisServerError, terminate

# The cluster bus listens on client port + 10000, so client ports stay at or below 55535.
_PORT_LOW, _PORT_HIGH = 20_000, 45_000


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_cluster_ports(count: int) -> list[int]:
    """``count`` client ports whose bus ports (+10000) are free as well."""
    chosen: list[int] = []
    rng = random.Random()
    for _ in range(10_000):
        port = rng.randrange(_PORT_LOW, _PORT_HIGH)
        if port in chosen or port + 10_000 in chosen:
            continue
        if _port_is_free(port) and _port_is_free(port + 10_000):
            chosen.append(port)
            if len(chosen) == count:
                return chosen
    raise RedisServerError(f"no {count} free port pairs for a Redis Cluster")


@dataclass
class ClusterNode:
    port: int
    directory: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None


@dataclass
class RedisClusterServer:
    """Start, kill a node of, and stop a private Redis Cluster (``masters`` x ``1 + replicas``)."""

    masters: int = 3
    replicas: int = 1
    node_timeout_ms: int = 2000
    nodes: list[ClusterNode] = field(default_factory=list)
    _root: Path | None = None

    @property
    def startup_nodes(self) -> list[str]:
        return [node.address for node in self.nodes]

    @property
    def url(self) -> str:
        """A ``redis://`` URL of one node: the cluster client discovers the others."""
        return f"redis://{self.nodes[0].address}/0"

    def start(self, timeout_s: float = 30.0) -> RedisClusterServer:
        binary, cli = shutil.which("redis-server"), shutil.which("redis-cli")
        if binary is None or cli is None:
            raise RedisServerError(INSTALL_HINT)
        self._root = Path(tempfile.mkdtemp(prefix="quantrail-cluster-"))
        ports = free_cluster_ports(self.masters * (1 + self.replicas))
        for port in ports:
            directory = self._root / str(port)
            directory.mkdir()
            node = ClusterNode(port, directory)
            self._spawn(binary, node)
            self.nodes.append(node)
        deadline = time.monotonic() + timeout_s
        for node in self.nodes:
            _wait_for_ping(node, deadline)
        self._create(cli, timeout_s)
        self.wait_until_ok(deadline)
        self._wait_for_replicas(deadline)
        return self

    def _wait_for_replicas(self, deadline: float) -> None:
        """Until every replica has synced: a replica that never synced cannot take over."""
        expected = self.masters * self.replicas
        while time.monotonic() < deadline:
            synced = sum(_replica_synced(node.port) for node in self.nodes)
            if synced == expected:
                return
            time.sleep(0.05)  # polling child processes
        raise RedisServerError("the Redis Cluster's replicas did not sync in time")

    def _spawn(self, binary: str, node: ClusterNode) -> None:
        command = [
            binary,
            "--port", str(node.port),
            "--bind", "127.0.0.1",
            "--cluster-enabled", "yes",
            "--cluster-config-file", "nodes.conf",
            "--cluster-node-timeout", str(self.node_timeout_ms),
            "--save", "",
            "--appendonly", "no",
            "--repl-diskless-sync-delay", "0",
            "--dir", str(node.directory),
            "--protected-mode", "no",
            "--logfile", str(node.directory / "redis.log"),
        ]  # fmt: skip
        node.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def _create(self, cli: str, timeout_s: float) -> None:
        command = [
            cli, "--cluster", "create", *self.startup_nodes,
            "--cluster-replicas", str(self.replicas), "--cluster-yes",
        ]  # fmt: skip
        done = subprocess.run(command, capture_output=True, timeout=timeout_s, check=False)
        if done.returncode != 0:
            raise RedisServerError(f"redis-cli --cluster create failed: {done.stdout[-500:]!r}")

    def wait_until_ok(self, deadline: float) -> None:
        """Until every live node reports ``cluster_state:ok`` (slots covered, masters agreed)."""
        while time.monotonic() < deadline:
            live = [n for n in self.nodes if n.process is not None]
            if all(_cluster_state(n.port) == "ok" for n in live):
                return
            time.sleep(0.05)  # polling child processes, not waiting for an effect of ours
        raise RedisServerError("the Redis Cluster did not reach cluster_state:ok in time")

    def master_of(self, key_slot: int) -> ClusterNode:
        """The live node that serves ``key_slot`` as a master now."""
        for node in self.nodes:
            if node.process is None:
                continue
            for start, end in _served_slots(node.port):
                if start <= key_slot <= end:
                    return node
        raise RedisServerError(f"no live master serves slot {key_slot}")

    def command_calls(self, command: str) -> int:
        """How often live nodes ran ``command`` (INFO commandstats, e.g. ``command|getkeys``)."""
        total = 0
        for node in self.nodes:
            if node.process is None:
                continue
            stats = _command(node.port, "INFO", "commandstats").decode(errors="replace")
            for line in stats.splitlines():
                if line.startswith(f"cmdstat_{command}:"):
                    total += int(line.split("calls=", 1)[1].split(",", 1)[0])
        return total

    def kill(self, node: ClusterNode) -> None:
        """kill -9 one node (by its pid): what it held only in memory is gone."""
        if node.process is not None and node.process.poll() is None:
            node.process.send_signal(signal.SIGKILL)
            node.process.wait(timeout=10)
        node.process = None

    def stop(self) -> None:
        for node in self.nodes:
            terminate(node.process)
            node.process = None
        if self._root is not None:
            shutil.rmtree(self._root, ignore_errors=True)

    def __enter__(self) -> RedisClusterServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _command(port: int, *words: str) -> bytes:
    """One inline command to a node, its raw reply ('' when it does not answer)."""
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5) as s:
        s.sendall(" ".join(words).encode() + b"\r\n")
        s.settimeout(0.5)
        chunks = b""
        while True:
            try:
                chunk = s.recv(65536)
            except TimeoutError:
                break
            if not chunk:
                break
            chunks += chunk
            if _reply_complete(chunks):
                break
        return chunks
    return b""


def _reply_complete(reply: bytes) -> bool:
    if reply.startswith(b"$"):
        header, _, rest = reply.partition(b"\r\n")
        return len(rest) >= int(header[1:]) + 2
    return reply.endswith(b"\r\n") and not reply.startswith(b"*")


def _wait_for_ping(node: ClusterNode, deadline: float) -> None:
    while time.monotonic() < deadline:
        if node.process is not None and node.process.poll() is not None:
            raise RedisServerError(f"redis-server exited at start on port {node.port}")
        if _command(node.port, "PING").startswith(b"+PONG"):
            return
        time.sleep(0.02)  # polling a child process at start-up
    raise RedisServerError(f"redis-server on port {node.port} did not answer in time")


def _cluster_state(port: int) -> str:
    for line in _command(port, "CLUSTER", "INFO").decode(errors="replace").splitlines():
        if line.startswith("cluster_state:"):
            return line.split(":", 1)[1].strip()
    return ""


def _replica_synced(port: int) -> bool:
    info = _command(port, "INFO", "replication").decode(errors="replace")
    return "role:slave" in info and "master_link_status:up" in info


def _served_slots(port: int) -> list[tuple[int, int]]:
    """The slot ranges this node serves as a master (from CLUSTER NODES, its ``myself`` line)."""
    for line in _command(port, "CLUSTER", "NODES").decode(errors="replace").splitlines():
        words = line.split()
        if len(words) > 8 and "myself" in words[2] and "master" in words[2]:
            ranges = []
            for word in words[8:]:
                if word.startswith("["):
                    continue  # a slot being migrated
                start, _, end = word.partition("-")
                ranges.append((int(start), int(end or start)))
            return ranges
    return []
