"""Replay: read a stream between two times or ids into a handler, at a chosen speed."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from quantrail.bus.bus import EventBus
from quantrail.bus.ids import id_at_ns
from quantrail.events.base import Event
from quantrail.events.errors import EventDecodeError


@dataclass(frozen=True, slots=True)
class ReplayResult:
    replayed: int
    undecodable: int
    first_ts_ns: int | None
    last_ts_ns: int | None


async def replay(
    bus: EventBus,
    stream: str,
    handler: Callable[[Event], Awaitable[None]],
    *,
    start: str = "-",
    end: str = "+",
    since_ns: int | None = None,
    until_ns: int | None = None,
    speed: float | None = None,
    page: int = 500,
) -> ReplayResult:
    """Feed a stream's events to ``handler`` in order.

    Bounds are entry ids (``start``/``end``) or times (``since_ns``/``until_ns``, by entry id
    time). ``speed`` paces by the events' own ``ts_event`` gaps: 1.0 is real time, 10.0 ten
    times faster, ``None`` as fast as possible.
    """
    if speed is not None and speed <= 0:
        raise ValueError(f"speed must be > 0 (or None for max), got {speed}")
    if since_ns is not None:
        start = id_at_ns(since_ns)
    if until_ns is not None:
        end = str(until_ns // 1_000_000)
    replayed = undecodable = 0
    first_ts: int | None = None
    last_ts: int | None = None
    wall_start = time.monotonic()
    cursor = start
    while True:
        entries = await bus.read_range(stream, cursor, end, page)
        for entry in entries:
            try:
                event = bus.codec.from_fields(entry.fields)
            except EventDecodeError:
                undecodable += 1
                continue
            if first_ts is None:
                first_ts = event.ts_event
            if speed is not None:
                due = wall_start + (event.ts_event - first_ts) / 1e9 / speed
                await asyncio.sleep(max(0.0, due - time.monotonic()))
            await handler(event)
            replayed += 1
            last_ts = event.ts_event
        if len(entries) < page:
            return ReplayResult(replayed, undecodable, first_ts, last_ts)
        cursor = "(" + entries[-1].entry_id
