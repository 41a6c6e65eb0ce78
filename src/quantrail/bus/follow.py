"""Reading a stream forward on demand: a service's view of "everything up to now".

A ``StreamFollower`` keeps its position in one stream and, on ``catch_up()``, feeds every newer
entry to its callback, oldest first. A service that must decide on the latest state (the risk
kernel before each evaluation: kill switch, modes, its own past evaluations) catches up right
before deciding, so nothing published before the decision can be missed, whichever process or
instance published it. The first catch-up replays everything the stream keeps.

An entry that does not decode, or that the callback refuses with ``ValueError``/``TypeError``,
is logged and skipped: the group consumers dead-letter such entries, and one bad entry must not
stop a service.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from quantrail.bus.bus import EventBus
from quantrail.bus.memory import MemoryTransport
from quantrail.events.base import Event
from quantrail.events.errors import EventDecodeError

log = logging.getLogger("quantrail.bus.follow")


class StreamFollower:
    def __init__(
        self, bus: EventBus, stream: str, take: Callable[[Event], object], page: int = 500
    ) -> None:
        self._bus = bus
        self.stream = stream
        self._take = take
        self._page = page
        self.position = "0-0"
        """The id of the last entry fed (``0-0``: none yet)."""
        # In process, "anything new?" is one look at the stream's last id: the risk kernel
        # catches up on eleven streams before every evaluation and every second, mostly for
        # nothing. (A sharded stream takes the read, which refuses it.)
        transport = bus.transport
        self._memory = (
            transport
            if isinstance(transport, MemoryTransport) and not bus.sharding.is_sharded(stream)
            else None
        )
        self._key = bus.names.key(stream)

    async def catch_up(self) -> int:
        """Feed every entry after ``position``; returns how many were read."""
        if self._memory is not None:
            last = self._memory.last_entry_id(self._key)
            if last is None or last == self.position:
                return 0  # what the read would find: nothing after ``position``
        read = 0
        while True:
            start = "-" if self.position == "0-0" else "(" + self.position
            entries = await self._bus.read_range(self.stream, start, "+", self._page)
            for entry in entries:
                self.position = entry.entry_id
                try:
                    self._take(self._bus.codec.from_entry(entry))
                except (EventDecodeError, ValueError, TypeError) as exc:
                    log.error("%s entry %s skipped: %s", self.stream, entry.entry_id, exc)
            read += len(entries)
            if len(entries) < self._page:
                return read
