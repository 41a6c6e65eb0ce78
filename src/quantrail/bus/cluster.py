"""The Redis Streams transport on a Redis Cluster (redis-py's asyncio ``RedisCluster``).

The same primitives as :class:`~quantrail.bus.redis.RedisTransport`, with what a cluster
changes (see ``docs/bus.md``, "Redis Cluster"):

* a command may only touch keys of one slot. Reads over streams of several slots are split
  into one read per slot; blocking ones stay in flight across calls (``slot_reads.py``), so a
  consumer of streams on three masters waits on all three at once and loses nothing.
* an ack whose idempotency marks live in other slots than its stream sets the marks first and
  acks second (two round trips). A crash between them leaves the entry pending with its marks
  set: its redelivery is acked unhandled, so the effect still happens once.
* a dead letter is appended first and acked at its source second: a crash between them
  dead-letters the entry again on redelivery (a letter twice, never none).
* during a failover (a master died, its replica not yet promoted) calls fail for a few
  seconds: writes are retried for ``failover_retry_s`` before :class:`TransportError` is
  raised, so a publisher rides through a failover without dropping what it was writing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any
from urllib.parse import urlparse

from redis import exceptions as redis_errors
from redis._parsers.commands import AsyncCommandsParser
from redis.asyncio.cluster import ClusterNode, RedisCluster
from redis.crc import key_slot

from quantrail.bus.leases import LeaseStore
from quantrail.bus.redis import (
    RedisTransport,
    _entries_from_read,
    _text,
    _trim_args,
    queue_xadds,
    transport_errors,
)
from quantrail.bus.redis_connect import redis_login
from quantrail.bus.redis_reads import ACK_AND_MARK
from quantrail.bus.slot_reads import SlotReads
from quantrail.bus.transport import Entry, Fields, NoGroupError, Transport, TransportError
from quantrail.config import RedisConfig, Retention

_CLUSTER_ERRORS = (
    redis_errors.ConnectionError,
    redis_errors.TimeoutError,
    redis_errors.BusyLoadingError,
    redis_errors.ClusterDownError,
    redis_errors.ClusterError,
    redis_errors.TryAgainError,
    redis_errors.MasterDownError,
    redis_errors.SlotNotCoveredError,
    ConnectionError,
    OSError,
)


def parse_startup_nodes(nodes: Sequence[str]) -> list[ClusterNode]:
    """``host:port`` strings (or ``redis://host:port`` URLs) as redis-py cluster nodes."""
    parsed: list[ClusterNode] = []
    for text in nodes:
        url = urlparse(text if "://" in text else f"redis://{text}")
        if not url.hostname or not url.port:
            raise ValueError(f"redis.cluster: {text!r} is not host:port")
        parsed.append(ClusterNode(url.hostname, url.port))
    return parsed


def slot_of(key: str) -> int:
    """The cluster slot of ``key`` (only the text inside its first ``{…}`` when it has one)."""
    return int(key_slot(key.encode()))


class _StreamKeysParser(AsyncCommandsParser):
    """Finds the keys of XREAD/XREADGROUP locally (after ``STREAMS``: the first half).

    redis-py cannot read their key spec (it begins at a keyword) and asks the server with
    ``COMMAND GETKEYS`` before every read: a second round trip per read (redis-py #2229)."""

    async def get_keys(self, *args: Any) -> Any:
        name = args[0].lower() if isinstance(args[0], str) else args[0].decode().lower()
        if name in ("xread", "xreadgroup"):
            words = [a.upper() if isinstance(a, str | bytes) else a for a in args]
            marker = "STREAMS" if "STREAMS" in words else b"STREAMS"
            if marker in words:
                rest = args[words.index(marker) + 1 :]
                return tuple(rest[: len(rest) // 2])
        return await super().get_keys(*args)


class RedisClusterTransport(RedisTransport):
    """Redis Streams on a Redis Cluster; cluster client creation lives here and only here."""

    colocates_marks = True
    folds_acks_into_reads = False  # reads are per slot and stay in flight (slot_reads.py)
    ack_and_read_new = Transport.ack_and_read_new  # two steps, not the single-node write

    def __init__(
        self,
        startup_nodes: Sequence[str],
        socket_timeout_s: float = 10.0,
        failover_retry_s: float = 20.0,
        settings: RedisConfig | None = None,
    ) -> None:
        """``settings``: the config's ``redis`` section, for the ACL user, the password (from
        its variable or file) and TLS, as on a single Redis (``bus/redis_connect.py``)."""
        if not startup_nodes:
            raise ValueError("redis.cluster: a cluster needs at least one startup node")
        self.url = ",".join(startup_nodes)
        self.failover_retry_s = failover_retry_s
        self._client: Any = RedisCluster(
            startup_nodes=parse_startup_nodes(startup_nodes),
            decode_responses=False,
            socket_timeout=socket_timeout_s,
            socket_connect_timeout=min(socket_timeout_s, 5.0),
            health_check_interval=15,
            **_login_options(settings),
        )
        self._client.commands_parser = _StreamKeysParser()
        self._ack_script: Any = self._client.register_script(ACK_AND_MARK)
        self._reads = SlotReads()
        self._leases: LeaseStore | None = None

    def _errors(self) -> AbstractAsyncContextManager[None]:
        return transport_errors(f"redis cluster at {self.url}", _CLUSTER_ERRORS, repr)

    async def _riding_failover(self, write: Any) -> Any:
        """Run a write, retrying it while the cluster fails over (bounded by failover_retry_s).

        A write whose reply was lost may be applied twice; every entry carries its idempotency
        key, so consumers handle it once."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.failover_retry_s
        delay_s = 0.05
        while True:
            try:
                async with self._errors():
                    return await write()
            except NoGroupError:
                raise
            except TransportError:
                if loop.time() >= deadline:
                    raise
            await asyncio.sleep(delay_s)
            delay_s = min(delay_s * 2, 1.0)

    # --- writing ------------------------------------------------------------------------
    async def add(
        self, items: Sequence[tuple[str, Fields]], retention: Mapping[str, Retention]
    ) -> list[str]:
        async def write() -> list[Any]:
            pipe = self._client.pipeline(transaction=False)
            queue_xadds(pipe, items, retention)
            return list(await pipe.execute())

        ids = await self._riding_failover(write)
        return [_text(entry_id) for entry_id in ids]

    # --- reading ------------------------------------------------------------------------
    async def read_group(
        self, group: str, consumer: str, streams: Mapping[str, str], count: int, block_ms: int
    ) -> list[Entry]:
        async def read_one(part: Mapping[str, str], block: int) -> list[Entry]:
            async with self._errors():
                reply = await self._client.xreadgroup(
                    group, consumer, dict(part), count=count, block=block if block > 0 else None
                )
            return _entries_from_read(reply)

        return await self._reads.read(("group", group, consumer), streams, block_ms, read_one)

    async def read(self, streams: Mapping[str, str], count: int, block_ms: int) -> list[Entry]:
        async def read_one(part: Mapping[str, str], block: int) -> list[Entry]:
            async with self._errors():
                reply = await self._client.xread(
                    dict(part), count=count, block=block if block > 0 else None
                )
            return _entries_from_read(reply)

        return await self._reads.read(("read",), streams, block_ms, read_one)

    # --- acking and marks ---------------------------------------------------------------
    async def ack(
        self, stream: str, group: str, ids: Sequence[str], marks: Sequence[str] = (), ttl_s: int = 0
    ) -> None:
        if not ids and not marks:
            return
        ttl = max(ttl_s, 1)
        stream_slot = slot_of(stream)
        if all(slot_of(mark) == stream_slot for mark in marks):
            async with self._errors():
                await self._ack_script(
                    keys=[*marks, stream], args=[ttl, group, *ids], client=self._client
                )
            return
        # Marks first, ack second: a crash between leaves a pending entry whose mark is set,
        # and its redelivery is acked without running the handler again.
        async with self._errors():
            pipe = self._client.pipeline(transaction=False)
            for mark in marks:
                pipe.set(mark, b"1", nx=True, ex=ttl)
            await pipe.execute()
            if ids:
                await self._client.xack(stream, group, *ids)

    async def marks_exist(self, marks: Sequence[str]) -> list[bool]:
        if not marks:
            return []
        async with self._errors():
            values = await self._client.mget_nonatomic(list(marks))
        return [value is not None for value in values]

    async def dead_letter(
        self,
        stream: str,
        group: str,
        entry_id: str,
        dlq_stream: str,
        fields: Fields,
        retention: Retention,
    ) -> str:
        # Append first, ack second (they are in different slots): never an acked entry
        # without its letter; a crash between the two writes the letter again on redelivery.
        letter_id = await self._riding_failover(
            lambda: self._client.xadd(dlq_stream, fields, **_trim_args(retention))
        )
        if group:
            async with self._errors():
                await self._client.xack(stream, group, entry_id)
        return _text(letter_id)

    async def set_state(self, key: str, mapping: Mapping[str, str]) -> None:
        async with self._errors():
            await self._client.eval(
                _REPLACE_HASH_SCRIPT, 1, key, *[v for pair in mapping.items() for v in pair]
            )

    async def streams(self, prefix: str) -> list[str]:
        names: set[str] = set()
        async with self._errors():
            async for key in self._client.scan_iter(match=f"{prefix}*", _type="STREAM"):
                names.add(_text(key))
        return sorted(names)

    async def close(self) -> None:
        await self._reads.close()
        await self._client.aclose()


# KEYS[1]: the hash; ARGV: field, value, field, value...: the hash replaced whole, atomically.
_REPLACE_HASH_SCRIPT = """
redis.call('DEL', KEYS[1])
if #ARGV > 0 then
  redis.call('HSET', KEYS[1], unpack(ARGV))
end
return 0
"""


def _login_options(settings: RedisConfig | None) -> dict[str, Any]:
    """The user, the password and TLS for every node, from the same settings a single Redis
    uses (the password never from the YAML itself)."""
    if settings is None:
        return {}
    login = redis_login(settings)
    options: dict[str, Any] = {"username": login.username, "password": login.password}
    if login.tls:
        options.update(ssl=True, **login.tls)
    return options
