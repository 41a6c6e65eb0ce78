"""Reading a logical stream forward by entry id, one cursor per shard (``bus.shards``).

Services that read a stream by id rather than through a consumer group (a start-up rebuild,
a catch-up before a decision, ``quantrail tail``) keep where they are in it. A sharded stream
is several keys (``trades.order:{s00}`` ...), and one id cannot page them all: ids are given
per key (and per node on a cluster), so an entry of one shard may carry a smaller id than one
already read on another. So :class:`ShardedCursor` keeps one position per shard key and reads
every shard from its own position.

Order: each shard is read in its own order, so **per-symbol order is kept** (a symbol lives
on one shard). Across shards, entries are merged by entry id (then shard index): events of
different symbols come in the order Redis stored them only as far as their ids tell
(milliseconds of server time, per node on a cluster), never better. With ``bus.shards: 1``
a stream is one key and the cursor reads it exactly as a single id cursor did.

``positions`` (logical stream -> last id read, ``0-0`` for none) is what a broadcast reader
starts from to go on where the cursor stopped (``Subscription.start`` takes the mapping).
"""

from __future__ import annotations

import asyncio
import heapq
import logging
from collections import deque
from collections.abc import AsyncIterator, Callable, Mapping

from quantrail.bus.bus import EventBus
from quantrail.bus.transport import Entry
from quantrail.events.base import Event
from quantrail.events.errors import EventDecodeError

log = logging.getLogger("quantrail.bus.cursor")

NONE_READ = "0-0"
PAGE = 500

Positions = Mapping[str, str]
"""Logical stream (a shard, or an unsharded stream) -> the id of the last entry read."""

StreamStart = str | Positions
"""Where a broadcast reader starts: ``$``, one entry id, or a cursor's positions."""


def id_key(entry_id: str) -> tuple[int, int]:
    """``"1700000000000-3"`` -> ``(1700000000000, 3)``: entry ids compared as Redis does."""
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq or 0)


class ShardedCursor:
    """Where a reader is in every shard of one logical stream (see the module doc)."""

    def __init__(
        self,
        bus: EventBus,
        stream: str,
        positions: Positions | None = None,
        *,
        first: str = "-",
        page: int = PAGE,
    ) -> None:
        """``positions``: where to go on from (a shard it does not name: nothing read yet).
        ``first``: where an unread shard begins (inclusive, like XRANGE; ``-`` = its start)."""
        if page < 1:
            raise ValueError(f"page: must be >= 1, got {page}")
        self.bus = bus
        self.stream = stream
        self.shards = bus.shard_streams(stream)
        given = dict(positions or {})
        self.positions: dict[str, str] = {s: given.get(s, NONE_READ) for s in self.shards}
        self._first = first
        self._page = page
        self._logical = {bus.names.key(s): s for s in self.shards}

    @classmethod
    async def at_end(cls, bus: EventBus, stream: str, *, page: int = PAGE) -> ShardedCursor:
        """A cursor past every entry each shard holds now: it reads only what comes next."""
        cursor = cls(bus, stream, page=page)
        ids = await asyncio.gather(
            *(bus.transport.last_id(bus.names.key(s)) for s in cursor.shards)
        )
        cursor.positions = dict(zip(cursor.shards, ids, strict=True))
        return cursor

    # --- reading what is there ----------------------------------------------------------------
    async def entries(self, end: str = "+") -> AsyncIterator[Entry]:
        """Every entry after the positions up to ``end`` (inclusive), shards merged by id.

        Reads one page per shard at a time (all shards at once), so memory stays at
        ``shards x page`` entries however long the stream. A position moves when its entry is
        yielded: a reader that stops early goes on from the last entry it was given."""
        index = {shard: i for i, shard in enumerate(self.shards)}
        buffers: dict[str, deque[Entry]] = {}
        full: dict[str, bool] = {}  # the shard's last page was whole: more may follow
        heap: list[tuple[tuple[int, int], int, str]] = []

        async def fill(shard: str, after: str | None) -> None:
            start = self._start_of(shard) if after is None else "(" + after
            page = await self.bus.read_range(shard, start, end, self._page)
            buffers[shard] = deque(page)
            full[shard] = len(page) == self._page
            if page:
                heapq.heappush(heap, (id_key(page[0].entry_id), index[shard], shard))

        await asyncio.gather(*(fill(shard, None) for shard in self.shards))
        while heap:
            _, _, shard = heapq.heappop(heap)
            buffer = buffers[shard]
            entry = buffer.popleft()
            self.positions[shard] = entry.entry_id
            if buffer:
                heapq.heappush(heap, (id_key(buffer[0].entry_id), index[shard], shard))
            elif full[shard]:
                await fill(shard, entry.entry_id)
            yield entry

    async def feed(self, take: Callable[[Event], object], end: str = "+") -> int:
        """Decode each new entry and give it to ``take``; returns how many entries were read.

        An entry that does not decode, or that ``take`` refuses with ``ValueError`` or
        ``TypeError``, is logged and skipped: group consumers dead-letter such entries, and
        one bad entry must not stop a start-up or a catch-up."""
        read = 0
        async for entry in self.entries(end):
            read += 1
            try:
                take(self.bus.codec.from_entry(entry))
            except (EventDecodeError, ValueError, TypeError) as exc:
                log.error("%s entry %s skipped: %s", entry.stream, entry.entry_id, exc)
        return read

    async def read_new(self, since_ns: int = 0) -> list[Event]:
        """Every new event with ``ts_event >= since_ns``, shards merged by id."""
        events: list[Event] = []

        def keep(event: Event) -> None:
            if event.ts_event >= since_ns:
                events.append(event)

        await self.feed(keep)
        return events

    # --- waiting for what comes ---------------------------------------------------------------
    async def wait_new(self, count: int, block_ms: int) -> list[Entry]:
        """Up to ``count`` entries per shard after the positions, waiting up to ``block_ms``
        for one (XREAD over every shard: one read per slot on a cluster); sorted by id."""
        keys = {self.bus.names.key(s): p for s, p in self.positions.items()}
        entries = await self.bus.transport.read(keys, count, block_ms)
        entries.sort(key=lambda e: (id_key(e.entry_id), e.stream))
        for entry in entries:
            shard = self._logical[entry.stream]
            if id_key(entry.entry_id) > id_key(self.positions[shard]):
                self.positions[shard] = entry.entry_id
        return entries

    # --- helpers ------------------------------------------------------------------------------
    def _start_of(self, shard: str) -> str:
        position = self.positions[shard]
        return self._first if position == NONE_READ else "(" + position


async def replay_history(
    bus: EventBus, stream: str, take: Callable[[Event], object]
) -> dict[str, str]:
    """Feed every entry ``stream`` keeps to ``take`` (shards merged by id, bad entries logged
    and skipped); returns the positions reached, where a broadcast reader goes on."""
    cursor = ShardedCursor(bus, stream)
    await cursor.feed(take)
    return cursor.positions
