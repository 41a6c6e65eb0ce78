"""Reading a stream on from where the last read stopped (restart rebuilds, catch-up reads).

The position and exit services rebuild their state from streams at start and, for streams
they do not follow live, pull what is new when they need it. ``StreamCursor`` remembers the
last entry id read; an entry that does not decode is logged and skipped (the live consumers
dead-letter such entries; one bad entry must not stop a start-up).
"""

from __future__ import annotations

import logging

from quantrail.bus.bus import EventBus
from quantrail.events import Event, EventDecodeError

log = logging.getLogger("quantrail.strategy")

PAGE = 500


class StreamCursor:
    def __init__(self, bus: EventBus, stream: str, last_id: str = "0-0") -> None:
        self.bus = bus
        self.stream = stream
        self.last_id = last_id

    async def read_new(self, since_ns: int = 0) -> list[Event]:
        """Every event after ``last_id`` with ``ts_event >= since_ns``, oldest first."""
        events: list[Event] = []
        while True:
            entries = await self.bus.read_range(self.stream, f"({self.last_id}", "+", PAGE)
            for entry in entries:
                self.last_id = entry.entry_id
                try:
                    event = self.bus.codec.from_fields(entry.fields)
                except EventDecodeError as exc:
                    log.error("%s entry %s skipped: %s", self.stream, entry.entry_id, exc)
                    continue
                if event.ts_event >= since_ns:
                    events.append(event)
            if len(entries) < PAGE:
                return events
