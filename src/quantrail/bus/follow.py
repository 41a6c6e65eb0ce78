"""Reading a stream forward on demand: a service's view of "everything up to now".

A ``StreamFollower`` keeps its position in one stream (one per shard when it is sharded: a
:class:`~quantrail.bus.cursor.ShardedCursor`) and, on ``catch_up()``, feeds every newer entry
to its callback, oldest first (shards merged by entry id; one symbol's entries in their
order). A service that must decide on the latest state (the risk kernel before each
evaluation: kill switch, modes, its own past evaluations) catches up right before deciding, so
nothing published before the decision can be missed, whichever process or instance published
it. The first catch-up replays everything the stream keeps.

An entry that does not decode, or that the callback refuses with ``ValueError``/``TypeError``,
is logged and skipped: the group consumers dead-letter such entries, and one bad entry must not
stop a service.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import cast

from quantrail.bus.bus import EventBus
from quantrail.bus.cursor import NONE_READ, ShardedCursor, id_key
from quantrail.bus.memory import MemoryTransport, key_id
from quantrail.bus.transport import Entry
from quantrail.events.base import Event
from quantrail.events.errors import EventDecodeError

log = logging.getLogger("quantrail.bus.cursor")  # as the cursor's own feed


class StreamFollower:
    def __init__(
        self,
        bus: EventBus,
        stream: str,
        take: Callable[[Event], object],
        page: int = 500,
        *,
        take_all: Callable[[list[Event]], object] | None = None,
    ) -> None:
        """``take_all`` (optional): the in-process bus's new events at once, as ``take`` of
        each in order, refusing none (for a stream read in bulk: the risk kernel's market
        data, a hundred thousand quotes a backtest)."""
        self.stream = stream
        self._take = take
        self._take_all = take_all
        self.cursor = ShardedCursor(bus, stream, page=page)
        # In process, "anything new?" is one look at the stream's last id: the risk kernel
        # catches up on eleven streams before every evaluation, mostly for nothing. (A
        # sharded stream takes the cursor's read of every shard.)
        transport = bus.transport
        self._memory = (
            transport
            if isinstance(transport, MemoryTransport) and not bus.sharding.is_sharded(stream)
            else None
        )
        self._key = bus.names.key(stream)

    @property
    def position(self) -> str:
        """The id of the last entry fed (``0-0``: none yet); with shards, the highest of
        them (where each shard is: ``positions``)."""
        read = [p for p in self.cursor.positions.values() if p != NONE_READ]
        return max(read, key=id_key, default=NONE_READ)

    @property
    def positions(self) -> dict[str, str]:
        return dict(self.cursor.positions)

    async def catch_up(self) -> int:
        """Feed every entry after the positions; returns how many were read."""
        if self._memory is not None:
            return self._feed_held(self._memory)
        return await self.cursor.feed(self._take)

    def _feed_held(self, memory: MemoryTransport) -> int:
        """In process: the events the stream keeps are taken as they are (no ``Entry`` made,
        no decode), entries decoded; a bad one is logged and skipped, as ``cursor.feed``."""
        ids, held = memory.held_after(self._key, self.position)
        if not ids:
            return 0
        if self._take_all is not None:
            self._take_all(self._decoded(ids, held))
            self.cursor.positions[self.stream] = key_id(ids[-1])
            return len(ids)
        take, codec, fed = self._take, self.cursor.bus.codec, None
        try:
            for entry_id, item in zip(ids, held, strict=True):
                fed = entry_id
                try:
                    take(codec.from_entry(item) if isinstance(item, Entry) else item)
                except (EventDecodeError, ValueError, TypeError) as exc:
                    log.error("%s entry %s skipped: %s", self._key, key_id(entry_id), exc)
        finally:
            if fed is not None:
                self.cursor.positions[self.stream] = key_id(fed)
        return len(ids)

    def _decoded(self, ids: list[int], held: list[Entry | Event]) -> list[Event]:
        """The events, entries decoded (a bad one logged and skipped, as ``cursor.feed``)."""
        if Entry not in set(map(type, held)):
            return cast("list[Event]", held)  # all kept as they were published (most often)
        codec, events = self.cursor.bus.codec, []
        for entry_id, item in zip(ids, held, strict=True):
            if not isinstance(item, Entry):
                events.append(item)
                continue
            try:
                events.append(codec.from_entry(item))
            except EventDecodeError as exc:
                log.error("%s entry %s skipped: %s", self._key, key_id(entry_id), exc)
        return events
