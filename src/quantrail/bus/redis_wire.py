"""The Redis transport's hot path on the wire: commands packed once, replies read untimed.

redis-py's asyncio pipeline costs about 12 µs of CPU per queued command before Redis does any
work: it re-encodes every argument in Python (``HiredisRespSerializer.pack``), arms and
cancels a loop timer for every reply it reads (the socket timeout, also for each of a
pipeline's 500 XADD replies) and runs every reply through its response callbacks. Here the
commands of one round trip are packed in C by ``hiredis.pack_command`` (every argument is
already bytes), written in one send, and their replies read without a per-reply timer under one
``asyncio.timeout`` for the whole exchange, as raw RESP values (callers parse what they need).

The connections are the client's own (its pool, its login, TLS and health checks), so the
transport keeps one client; redis-py's retry policy still applies to a connection lost before
or during the exchange. Used for publish, XREADGROUP, the marks' MGET and the ack script of a
single Redis; a Redis Cluster keeps redis-py's cluster client (``bus/cluster.py``).
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from typing import Any

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
    """One round trip of packed commands on a connection of ``client``'s pool."""

    def __init__(self, client: Any, timeout_s: float) -> None:
        self._pool = client.connection_pool
        self._timeout_s = timeout_s

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
        pool = self._pool
        connection = await pool.get_connection()
        try:
            packed = pack(commands, connection)

            async def attempt() -> list[Any]:
                return await self._round_trip(connection, packed, len(commands), block_s)

            async def lost(_error: BaseException) -> None:
                await connection.disconnect()

            replies: list[Any] = await connection.retry.call_with_retry(attempt, lost)
            return replies
        finally:
            await pool.release(connection)

    async def _round_trip(
        self, connection: Any, packed: bytes | list[bytes], count: int, block_s: float
    ) -> list[Any]:
        # One timer for the exchange. redis-py drops the connection when a read is cancelled
        # halfway, so a timeout never leaves replies behind for the next caller.
        async with asyncio.timeout(self._timeout_s + block_s):
            await connection.send_packed_command(packed)
            read = connection.read_response
            replies: list[Any] = []
            for _ in range(count):
                try:
                    replies.append(await read(timeout=math.inf))
                except ResponseError as exc:
                    replies.append(exc)
            return replies
