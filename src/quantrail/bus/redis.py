"""The Redis Streams transport (redis-py asyncio with hiredis).

Every batch is one round trip (pipelines); acks go with their idempotency marks in one script
call, and a dead letter is appended and acked in one MULTI/EXEC, so neither can be half done.
The hot path (publish, group reads, the marks' MGET, the ack) goes through ``redis_wire``:
commands packed once in C, replies read without a timer each (docs/benchmarks.md).
Connection failures surface as :class:`TransportError`; a missing group as
:class:`NoGroupError` (what a Redis restart without persistence looks like).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from itertools import chain
from typing import Any

import redis.asyncio as aioredis
from redis import exceptions as redis_errors

from quantrail.bus.lease_stores import RedisLeaseStore
from quantrail.bus.leases import LeaseStore
from quantrail.bus.redis_connect import redis_client
from quantrail.bus.redis_reads import (
    ACK_AND_MARK,
    GroupReads,
    ack_command,
    entries_from_raw_read,
    read_command,
)
from quantrail.bus.redis_wire import Command, RedisWire
from quantrail.bus.transport import (
    Ack,
    ConsumerInfo,
    Entry,
    Fields,
    GroupBatch,
    GroupInfo,
    GroupRead,
    NoGroupError,
    StreamInfo,
    Transport,
    TransportError,
)
from quantrail.config import RedisConfig, Retention
from quantrail.redact import redact

_CONNECTION_ERRORS = (
    redis_errors.ConnectionError,
    redis_errors.TimeoutError,
    redis_errors.BusyLoadingError,
    ConnectionError,
    OSError,
)


@asynccontextmanager
async def transport_errors(
    where: str,
    connection_errors: tuple[type[BaseException], ...],
    describe: Callable[[BaseException], str] = str,
) -> AsyncIterator[None]:
    """redis-py's errors as the transport's, for a single Redis and a cluster alike: NOGROUP is
    ``NoGroupError``, an unreachable or busy server ``TransportError`` naming ``where`` (any
    password masked); any other reply error goes through as it is. Some of the busy server's
    are replies too (a cluster's CLUSTERDOWN, TRYAGAIN, MASTERDOWN during a failover: redis-py
    makes them ``ResponseError``s): they are ``TransportError``s, so a consumer waits them out
    instead of dying of them."""
    try:
        yield
    except redis_errors.ResponseError as exc:
        if str(exc).startswith("NOGROUP"):
            raise NoGroupError(str(exc)) from exc
        if isinstance(exc, connection_errors):
            raise TransportError(redact(f"{where}: {describe(exc)}")) from exc
        raise
    except connection_errors as exc:
        raise TransportError(redact(f"{where}: {describe(exc)}")) from exc


class RedisTransport(Transport):
    folds_acks_into_reads = True

    def __init__(self, url: str | RedisConfig, socket_timeout_s: float = 10.0) -> None:
        """``url``: a URL (tests, the private server) or the config's ``redis`` section, which
        carries the ACL user, the password's variable or file and TLS (bus/redis_connect.py)."""
        settings = url if isinstance(url, RedisConfig) else RedisConfig(
            url=url, socket_timeout_s=socket_timeout_s
        )  # fmt: skip
        # Only ever shown redacted: a message or a log line never carries the password.
        self.url = redact(settings.url)
        self._client: Any = redis_client(settings)
        self._wire = RedisWire(self._client, settings.socket_timeout_s)
        self._group_reads = GroupReads(self._wire)
        self._leases: LeaseStore | None = None

    def lease_store(self) -> LeaseStore:
        if self._leases is None:
            self._leases = RedisLeaseStore(self._client, self._errors)
        return self._leases

    @property
    def client(self) -> aioredis.Redis:
        """The underlying client, for effects that must share a transaction with a mark."""
        client: aioredis.Redis = self._client
        return client

    def _errors(self) -> AbstractAsyncContextManager[None]:
        return transport_errors(f"redis at {self.url}", _CONNECTION_ERRORS)

    # --- writing ------------------------------------------------------------------------
    async def add(
        self, items: Sequence[tuple[str, Fields]], retention: Mapping[str, Retention]
    ) -> list[str]:
        async with self._errors():
            ids = _raise_first(await self._wire.exchange(xadd_commands(items, retention)))
        return [entry_id.decode() for entry_id in ids]

    async def create_group(self, stream: str, group: str, start_id: str = "0") -> bool:
        async with self._errors():
            try:
                await self._client.xgroup_create(stream, group, id=start_id, mkstream=True)
            except redis_errors.ResponseError as exc:
                if "BUSYGROUP" in str(exc):
                    return False
                raise
        return True

    async def read_group(
        self, group: str, consumer: str, streams: Mapping[str, str], count: int, block_ms: int
    ) -> list[Entry]:
        return await self._read_raw(
            ["XREADGROUP", "GROUP", group, consumer], streams, count, block_ms
        )

    async def ack_and_read_new(self, read: GroupRead) -> GroupBatch:
        """Acks, a wait and the read with its marks check in one write (``redis_reads``)."""
        async with self._errors():
            return await self._group_reads.ack_and_read_new(read)

    async def read(self, streams: Mapping[str, str], count: int, block_ms: int) -> list[Entry]:
        return await self._read_raw(["XREAD"], streams, count, block_ms)

    async def _read_raw(
        self, head: list[str], streams: Mapping[str, str], count: int, block_ms: int
    ) -> list[Entry]:
        command = read_command(head, streams, count, block_ms)
        async with self._errors():
            reply = await self._wire.call(*command, block_s=max(block_ms, 0) / 1000)
        return entries_from_raw_read(reply)

    async def last_id(self, stream: str) -> str:
        async with self._errors():
            reply = await self._client.xrevrange(stream, "+", "-", count=1)
        return _text(reply[0][0]) if reply else "0-0"

    async def range(self, stream: str, start: str, end: str, count: int) -> list[Entry]:
        async with self._errors():
            reply = await self._client.xrange(stream, start, end, count=count)
        return [Entry(stream, _text(i), dict(fields)) for i, fields in reply]

    async def ack(
        self, stream: str, group: str, ids: Sequence[str], marks: Sequence[str] = (), ttl_s: int = 0
    ) -> None:
        if not ids and not marks:
            return
        # One script call: atomic like MULTI, at half the cost per entry (see docs/benchmarks.md).
        command = ack_command(Ack(stream, list(ids), list(marks)), group, ttl_s)
        async with self._errors():
            try:
                await self._wire.call(*command)
            except redis_errors.NoScriptError:  # a restarted Redis forgot it: EVAL loads it
                await self._wire.call("EVAL", ACK_AND_MARK, *command[2:])

    async def marks_exist(self, marks: Sequence[str]) -> list[bool]:
        if not marks:
            return []
        async with self._errors():
            values = await self._wire.call("MGET", *marks)
        return [value is not None for value in values]

    async def pending_deliveries(
        self, stream: str, group: str, ids: Sequence[str]
    ) -> dict[str, int]:
        if not ids:
            return {}
        async with self._errors():
            pipe = self._client.pipeline(transaction=False)
            for entry_id in ids:
                pipe.xpending_range(stream, group, min=entry_id, max=entry_id, count=1)
            replies = await pipe.execute()
        counts: dict[str, int] = {}
        for reply in replies:
            for row in reply:
                counts[_text(row["message_id"])] = int(row["times_delivered"])
        return counts

    async def pending_ids(self, stream: str, group: str, consumer: str, count: int) -> list[str]:
        async with self._errors():
            rows = await self._client.xpending_range(
                stream, group, min="-", max="+", count=count, consumername=consumer
            )
        return [_text(row["message_id"]) for row in rows]

    async def claim(
        self, stream: str, group: str, consumer: str, ids: Sequence[str], min_idle_ms: int = 0
    ) -> list[Entry]:
        if not ids:
            return []
        async with self._errors():
            reply = await self._client.xclaim(stream, group, consumer, min_idle_ms, list(ids))
        return [Entry(stream, _text(i), dict(f)) for i, f in reply if f is not None]

    async def autoclaim(
        self, stream: str, group: str, consumer: str, min_idle_ms: int, start: str, count: int
    ) -> tuple[str, list[Entry], list[str]]:
        async with self._errors():
            reply = await self._client.xautoclaim(
                stream, group, consumer, min_idle_ms, start_id=start, count=count
            )
        next_start, rows = reply[0], reply[1]
        deleted = [_text(i) for i in reply[2]] if len(reply) > 2 else []
        entries = [Entry(stream, _text(i), dict(f)) for i, f in rows if f is not None]
        return _text(next_start), entries, deleted

    async def dead_letter(
        self,
        stream: str,
        group: str,
        entry_id: str,
        dlq_stream: str,
        fields: Fields,
        retention: Retention,
    ) -> str:
        async with self._errors():
            pipe = self._client.pipeline(transaction=True)
            pipe.xadd(dlq_stream, fields, **_trim_args(retention))
            if group:
                pipe.xack(stream, group, entry_id)
            replies = await pipe.execute()
        return _text(replies[0])

    # --- state and inspection ----------------------------------------------------------------
    async def set_state(self, key: str, mapping: Mapping[str, str]) -> None:
        async with self._errors():
            pipe = self._client.pipeline(transaction=True)
            pipe.delete(key)
            if mapping:
                pipe.hset(key, mapping=dict(mapping))
            await pipe.execute()

    async def get_state(self, key: str) -> dict[str, str]:
        async with self._errors():
            raw = await self._client.hgetall(key)
        return {_text(k): _text(v) for k, v in raw.items()}

    async def delete(self, stream: str, ids: Sequence[str]) -> int:
        if not ids:
            return 0
        async with self._errors():
            return int(await self._client.xdel(stream, *ids))

    async def streams(self, prefix: str) -> list[str]:
        names: list[str] = []
        async with self._errors():
            async for key in self._client.scan_iter(match=f"{prefix}*", _type="STREAM"):
                names.append(_text(key))
        return sorted(names)

    async def info(self, stream: str) -> StreamInfo:
        async with self._errors():
            if not await self._client.exists(stream):
                return StreamInfo(stream, 0, None, None, [])
            raw = await self._client.xinfo_stream(stream)
            groups_raw = await self._client.xinfo_groups(stream)
            groups = [await self._group_info(stream, g) for g in groups_raw]
        first, last = raw.get("first-entry"), raw.get("last-entry")
        return StreamInfo(
            stream=stream,
            length=int(raw["length"]),
            first_id=_text(first[0]) if first else None,
            last_id=_text(last[0]) if last else None,
            groups=groups,
        )

    async def _group_info(self, stream: str, raw: Mapping[str, Any]) -> GroupInfo:
        name = _text(raw["name"])
        consumers_raw = await self._client.xinfo_consumers(stream, name)
        lag = raw.get("lag")
        return GroupInfo(
            name=name,
            pending=int(raw["pending"]),
            last_delivered_id=_text(raw["last-delivered-id"]),
            lag=int(lag) if lag is not None else None,
            consumers=[
                ConsumerInfo(_text(c["name"]), int(c["pending"]), int(c["idle"]))
                for c in consumers_raw
            ],
        )

    async def ping(self) -> None:
        async with self._errors():
            await self._client.ping()

    async def close(self) -> None:
        await self._wire.close()
        await self._client.aclose()


def _trim_args(retention: Retention | None) -> dict[str, Any]:
    if retention is None:
        return {}
    if retention.max_age_s is not None:
        min_ms = time.time_ns() // 1_000_000 - retention.max_age_s * 1000
        return {"minid": f"{min_ms}-0", "approximate": True}
    if retention.maxlen:
        return {"maxlen": retention.maxlen, "approximate": True}
    return {}


def xadd_commands(
    items: Sequence[tuple[str, Fields]], retention: Mapping[str, Retention]
) -> list[Command]:
    """One XADD per item: the head (key, trim words, ``*``) is built once per stream (publish
    is the hot path). The command name stays text: redis-py's cluster client routes by it."""
    heads: dict[str, tuple[bytes | str, ...]] = {}
    commands: list[Command] = []
    for stream, fields in items:
        head = heads.get(stream)
        if head is None:
            trim = _trim_words(retention.get(stream))
            head = heads[stream] = ("XADD", stream.encode(), *trim, b"*")
        commands.append((*head, *chain.from_iterable(fields.items())))
    return commands


def queue_xadds(
    pipe: Any, items: Sequence[tuple[str, Fields]], retention: Mapping[str, Retention]
) -> None:
    """Queue ``xadd_commands`` on a redis-py pipeline as raw commands (the cluster's path):
    redis-py's per-call argument handling of ``xadd`` is skipped."""
    for command in xadd_commands(items, retention):
        pipe.execute_command(*command)


def _trim_words(retention: Retention | None) -> tuple[bytes, ...]:
    trim = _trim_args(retention)
    if "minid" in trim:
        return (b"MINID", b"~", str(trim["minid"]).encode())
    if "maxlen" in trim:
        return (b"MAXLEN", b"~", str(trim["maxlen"]).encode())
    return ()


def _entries_from_read(reply: Any) -> list[Entry]:
    entries: list[Entry] = []
    for stream, rows in reply or []:
        name = _text(stream)
        for entry_id, fields in rows:
            entries.append(Entry(name, _text(entry_id), dict(fields) if fields else {}))
    return entries


def _raise_first(replies: list[Any]) -> list[Any]:
    for reply in replies:
        if isinstance(reply, Exception):
            raise reply
    return replies


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
