"""Injected clocks: wall time for live runs, simulated time for scenarios and backtests.

Time inside quantrail is int nanoseconds UTC. Services never call ``time.time()`` directly; they
ask their clock, so a simulated day runs in seconds and gives the same events every time.

Staleness limits (a feed, an exposure snapshot or a heartbeat too old) guard against something
that has fallen behind in real time, so an age compared with such a limit is measured by
``Clock.wall_seconds``: a replayed day at N x wall speed counts a span of its time as 1/N of
it (a lag of L wall seconds shows as N x L replayed seconds). Everywhere else (wall time,
backtests, scenarios, ``--speed max``) the span is counted exactly (docs/operations.md).
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import math
import time
from collections.abc import Awaitable, Callable
from typing import Protocol

NS_PER_SECOND = 1_000_000_000
COMPACT_AT = 1024
"""A simulated clock drops its cancelled callbacks once it holds more entries than this."""

# What a span of clock time (ns) counts for against a staleness limit, in seconds.
WallSeconds = Callable[[int], float]


def exact_seconds(span_ns: int) -> float:
    """A span in seconds as it is: the measure of every clock but a paced replay."""
    return span_ns / NS_PER_SECOND


class Clock(Protocol):
    def now_ns(self) -> int: ...

    async def sleep(self, seconds: float) -> None: ...

    def wall_seconds(self, span_ns: int) -> float:
        """``span_ns`` of this clock's time in wall seconds, for staleness limits."""
        ...


class WallClock:
    """Real time: UTC epoch nanoseconds and asyncio sleeps."""

    def now_ns(self) -> int:
        return time.time_ns()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))

    def wall_seconds(self, span_ns: int) -> float:
        return exact_seconds(span_ns)


class Scheduled:
    """A callback ``SimulatedClock.call_at`` runs when time reaches it (``cancel`` drops it)."""

    __slots__ = ("callback", "finished")

    def __init__(self, callback: Callable[[], Awaitable[None]]) -> None:
        self.callback = callback
        self.finished = False

    def done(self) -> bool:
        return self.finished

    def cancel(self) -> None:
        self.finished = True


class SimulatedClock:
    """Time that moves only when advanced; sleepers wake in deadline order.

    ``advance_to`` moves time forward and yields to the event loop after each wake-up so the
    woken tasks run before time moves past them. A callback scheduled with ``call_at`` is
    awaited by the mover itself at its time, in the same deadline order as the sleepers: no
    task switch, so a backtest's planned timers cost a call, not event-loop turns.

    ``speed``: how many of its seconds pass per wall second when something paces it at a fixed
    multiple of wall time (a replay's owner, and its followers from the owner's ticks); 1
    otherwise (backtests, scenarios, ``--speed max``), where a span is exact: work settles
    before time moves, so no processing lag shows in the clock's time.
    """

    def __init__(self, start_ns: int, *, speed: float = 1.0) -> None:
        self._now_ns = start_ns
        self._sleepers: list[tuple[int, int, asyncio.Future[None] | Scheduled]] = []
        self._order = itertools.count()
        self._compact_at = COMPACT_AT
        self._speed = 1.0
        self.pace(speed)

    def now_ns(self) -> int:
        return self._now_ns

    @property
    def speed(self) -> float:
        return self._speed

    def pace(self, speed: float) -> None:
        """The clock is now moved at ``speed`` x wall time (1: exact, no wall meaning)."""
        if not (math.isfinite(speed) and speed > 0):
            raise ValueError(f"speed: must be a positive number (value: {speed!r})")
        self._speed = float(speed)

    def wall_seconds(self, span_ns: int) -> float:
        if self._speed == 1.0:
            return exact_seconds(span_ns)  # bit for bit what backtests always compared
        return span_ns / (NS_PER_SECOND * self._speed)

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        wake_at = self._now_ns + int(seconds * NS_PER_SECOND)
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (wake_at, next(self._order), future))
        await future

    async def sleep_until(self, wake_ns: int) -> None:
        """Sleep until exactly ``wake_ns`` (no float round trip)."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (max(wake_ns, self._now_ns), next(self._order), future))
        await future

    def call_at(self, wake_ns: int, callback: Callable[[], Awaitable[None]]) -> Scheduled:
        """Run ``callback`` when time reaches ``wake_ns`` (now at the earliest), awaited by
        whoever moves the clock there."""
        entry = Scheduled(callback)
        heapq.heappush(self._sleepers, (max(wake_ns, self._now_ns), next(self._order), entry))
        if len(self._sleepers) > self._compact_at:
            # Replanned callbacks leave cancelled entries behind: drop them when the heap has
            # doubled since the last time.
            self._sleepers = [item for item in self._sleepers if not item[2].done()]
            heapq.heapify(self._sleepers)
            self._compact_at = max(COMPACT_AT, 2 * len(self._sleepers))
        return entry

    @property
    def next_wake_ns(self) -> int | None:
        while self._sleepers and self._sleepers[0][2].done():
            heapq.heappop(self._sleepers)
        return self._sleepers[0][0] if self._sleepers else None

    def next_wake_ns_except(self, entry: Scheduled | None) -> int | None:
        """The first wake-up but ``entry``'s (for a caller that plans around it)."""
        first = self.next_wake_ns
        if entry is None or first is None or self._sleepers[0][2] is not entry:
            return first
        top = heapq.heappop(self._sleepers)  # put back as it was (same time and order)
        try:
            return self.next_wake_ns
        finally:
            heapq.heappush(self._sleepers, top)

    def skip_to(self, target_ns: int) -> bool:
        """Move time to ``target_ns`` at once when no sleeper wakes on the way (nothing to
        hand the event loop); False, time unmoved, when one does (``advance_to`` then)."""
        wake = self.next_wake_ns
        if target_ns < self._now_ns or (wake is not None and wake <= target_ns):
            return False
        self._now_ns = target_ns
        return True

    async def advance_to(self, target_ns: int) -> None:
        if target_ns < self._now_ns:
            raise ValueError(f"time cannot go back: {target_ns} < {self._now_ns}")
        while (wake := self.next_wake_ns) is not None and wake <= target_ns:
            wake_at, _, woken = heapq.heappop(self._sleepers)
            self._now_ns = max(self._now_ns, wake_at)
            if isinstance(woken, Scheduled):
                woken.finished = True
                await woken.callback()
                if loop_idle():
                    continue
            else:
                woken.set_result(None)
            await run_until_idle()
        self._now_ns = target_ns

    async def advance(self, seconds: float) -> None:
        await self.advance_to(self._now_ns + int(seconds * NS_PER_SECOND))


def loop_idle() -> bool:
    """True when the running loop has no ready callback (CPython's ready queue; False when
    there is no queue to look at): ``run_until_idle`` would return at once."""
    ready = getattr(asyncio.get_running_loop(), "_ready", None)
    return ready is not None and not ready


async def run_until_idle(max_rounds: int = 10_000) -> None:
    """Yield until the event loop has nothing ready to run but us.

    After a simulated wake-up, everything it set off (a publish, the handlers that read it, the
    events they publish in turn) must finish before time moves on, or a timer at a later
    simulated time would see work that, in real time, would long be done. In-process work is
    all ready callbacks, so "nothing ready" means it is done. (This reads CPython's ready queue;
    work waiting on sockets, as with Redis, is settled by the simulation between steps.)
    """
    loop = asyncio.get_running_loop()
    ready = getattr(loop, "_ready", None)
    for _ in range(max_rounds):
        await asyncio.sleep(0)
        if ready is not None and not ready:
            return
        if ready is None and _ > 8:  # no ready queue to look at: a fixed number of turns
            return
