"""Replay: read a stream into a handler, at a chosen speed, bounded by entry ids and event time.

Two kinds of bounds, never confused:

* **Entry ids** (``start``/``end``, the CLI's ``--from-id``/``--to-id``): where the entry sits
  in the stream, i.e. when Redis stored it (inclusive, like XRANGE).
* **Event time** (``since_ns``/``until_ns``, the CLI's ``--since``/``--until``): the event's own
  ``ts_event``, the envelope's time (exchange time for market data). A day replayed or simulated
  on Redis (a paper day, a backtest, the scenario runner) has event times unrelated to its entry
  ids, so only this bound finds "the events of 09:30 to 10:00". The window is half-open,
  ``since <= ts_event < until``, so consecutive windows neither overlap nor leave a gap. Event
  times need not rise along the stream, so a time window reads the whole id range.

``TimeWindow`` is the one filter every time-taking verb uses (replay, ``dlq list``,
``audit list``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from quantrail.bus.bus import EventBus
from quantrail.bus.cursor import ShardedCursor
from quantrail.events.base import Event
from quantrail.events.errors import EventDecodeError


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """``since_ns <= ts < until_ns`` in event time (int ns UTC); None leaves that side open."""

    since_ns: int | None = None
    until_ns: int | None = None

    def __post_init__(self) -> None:
        for name in ("since_ns", "until_ns"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                raise TypeError(f"{name}: must be int nanoseconds or None, got {value!r}")
        since, until = self.since_ns, self.until_ns
        if since is not None and until is not None and until <= since:
            raise ValueError(f"until: must be after since ({since} ns), got {until} ns")

    @property
    def is_open(self) -> bool:
        """No bound at all: everything is inside."""
        return self.since_ns is None and self.until_ns is None

    def contains_ns(self, ts_ns: int) -> bool:
        if self.since_ns is not None and ts_ns < self.since_ns:
            return False
        return self.until_ns is None or ts_ns < self.until_ns

    def contains(self, event: Event) -> bool:
        """Whether the event happened inside the window (by its ``ts_event``)."""
        return self.contains_ns(event.ts_event)

    def contains_fields(self, fields: Mapping[bytes, bytes]) -> bool | None:
        """By an entry's plain ``ts_event`` field, without decoding; None when it has none."""
        raw = fields.get(b"ts_event")
        try:
            return None if raw is None else self.contains_ns(int(raw))
        except ValueError:
            return None


def in_time_window(event: Event, since_ns: int | None, until_ns: int | None) -> bool:
    """Whether ``event`` happened in ``[since_ns, until_ns)`` (event time; None = open)."""
    return TimeWindow(since_ns, until_ns).contains(event)


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
    """Feed a stream's events to ``handler`` in stream order.

    ``start``/``end`` bound entry ids (inclusive); ``since_ns``/``until_ns`` bound the events'
    ``ts_event`` (``[since, until)``, see the module doc). ``speed`` paces by the events' own
    ``ts_event`` gaps: 1.0 is real time, 10.0 ten times faster, ``None`` as fast as possible.
    """
    if speed is not None and speed <= 0:
        raise ValueError(f"speed must be > 0 (or None for max), got {speed}")
    window = TimeWindow(since_ns, until_ns)
    replayed = undecodable = 0
    first_ts: int | None = None
    last_ts: int | None = None
    wall_start = time.monotonic()
    # A sharded stream's shards are merged by entry id (one symbol's events in their order).
    async for entry in ShardedCursor(bus, stream, first=start, page=page).entries(end):
        if window.contains_fields(entry.fields) is False:
            continue
        try:
            event = bus.codec.from_fields(entry.fields)
        except EventDecodeError:
            undecodable += 1
            continue
        if not window.contains(event):
            continue
        if first_ts is None:
            first_ts = event.ts_event
        if speed is not None:
            due = wall_start + (event.ts_event - first_ts) / 1e9 / speed
            await asyncio.sleep(max(0.0, due - time.monotonic()))
        await handler(event)
        replayed += 1
        last_ts = event.ts_event
    return ReplayResult(replayed, undecodable, first_ts, last_ts)
