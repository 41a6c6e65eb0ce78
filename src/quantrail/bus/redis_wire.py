"""The Redis transport's hot path on the wire: commands packed once, replies read untimed.

redis-py's asyncio pipeline costs about 12 µs of CPU per queued command before Redis does any
work: it re-encodes every argument in Python (``HiredisRespSerializer.pack``), arms and
cancels a loop timer for every reply it reads (the socket timeout, also for each of a
pipeline's 500 XADD replies), runs every reply through its response callbacks, and each round
trip takes a pooled connection under a lock with its observability hooks and sends under
``asyncio.wait_for`` (a task per send). Here the commands of one round trip are packed in C by
``hiredis.pack_command`` (every argument is already bytes), written in one send and their
replies read as raw RESP values (callers parse what they need), under one ``asyncio.timeout``
for the whole exchange.

The connections are redis-py ``Connection`` objects made with the client's own settings (its
login, TLS, health checks, retry policy) but no socket timeout of their own: the exchange's
timeout bounds them. A small free list holds them (one per concurrent exchange). Used for
publish, group reads, the marks' MGET and the ack script of a single Redis; a Redis Cluster
keeps redis-py's cluster client (``bus/cluster.py``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

_hiredis_pack: Any
try:  # a dependency (redis[hiredis]); redis-py's own packer stands in without it
    from hiredis import pack_command as _hiredis_pack
except ImportError:  # pragma: no cover - hiredis is installed with redis[hiredis]
    _hiredis_pack = None

Command = Sequence[bytes | str | int]


def pack(commands: Sequence[Command], connection: Any = None) -> bytes | list[bytes]:
    """The RESP bytes of ``commands`` (arguments bytes, text or ints)."""
    if _hiredis_pack is not None:
        return b"".join([_hiredis_pack(tuple(command)) for command in commands])
    packed: list[bytes] = connection.pack_commands(commands)
    return packed


class RedisWire:
    """Round trips of packed commands on connections made like ``client``'s."""

    def __init__(self, client: Any, timeout_s: float) -> None:
        pool = client.connection_pool
        self._connection_class = pool.connection_class
        self._kwargs = {**pool.connection_kwargs, "socket_timeout": None}
        self._timeout_s = timeout_s
        self._idle: list[Any] = []
        self._all: set[Any] = set()

    async def call(self, *args: bytes | str | int, block_s: float = 0.0) -> Any:
        """One command; its reply, or its error raised (``ResponseError``)."""
        reply = (await self.exchange([args], block_s))[0]
        if isinstance(reply, ResponseError):
            raise reply
        return reply

    async def exchange(self, commands: Sequence[Command], block_s: float = 0.0) -> list[Any]:
        """Send ``commands`` in one write, read one reply each; an error reply stays in its
        place as a ``ResponseError`` (every reply is read, so the connection stays in step).

        ``block_s``: how long a blocking command may wait, on top of the socket timeout."""
        if not commands:
            return []
        connection = self._idle.pop() if self._idle else self._connect()
        try:
            await self._ready(connection)
            packed = pack(commands, connection)

            async def attempt() -> list[Any]:
                return await self._round_trip(connection, packed, len(commands), block_s)

            async def lost(_error: BaseException) -> None:
                await connection.disconnect()

            replies: list[Any] = await connection.retry.call_with_retry(attempt, lost)
        except BaseException:
            # Cancelled or failed halfway: replies may still be on their way. A closed
            # connection reconnects on its next use; an open one would hand them to the next.
            await connection.disconnect(nowait=True)
            raise
        finally:
            self._idle.append(connection)
        return replies

    @staticmethod
    async def _ready(connection: Any) -> None:
        """Connected, and not closed by the server meanwhile (a restart): what redis-py's pool
        checks when it hands out a connection, so the first command after an outage goes out
        on a fresh connection instead of failing on the dead one."""
        await connection.connect()  # a no-op when connected
        try:
            if await connection.can_read():  # a reply nobody waits for: not to be trusted
                raise RedisConnectionError("connection has unread data")
        except (RedisConnectionError, OSError):
            await connection.disconnect()
            await connection.connect()

    def _connect(self) -> Any:
        connection = self._connection_class(**self._kwargs)
        self._all.add(connection)
        return connection

    async def _round_trip(
        self, connection: Any, packed: bytes | list[bytes], count: int, block_s: float
    ) -> list[Any]:
        async with asyncio.timeout(self._timeout_s + block_s):
            await connection.send_packed_command(packed)  # connects first if it is not
            read = connection.read_response
            replies: list[Any] = []
            for _ in range(count):
                try:
                    replies.append(await read())
                except ResponseError as exc:
                    replies.append(exc)
            return replies

    async def close(self) -> None:
        for connection in self._all:
            await connection.disconnect()
        self._all.clear()
        self._idle.clear()
