"""The replayed clock: a past or synthetic day at N x wall speed, shared between processes.

One process owns the clock (``--clock replay``): a :class:`ReplayDriver` moves a
``SimulatedClock`` forward at ``speed`` x wall time (or, at ``max``, one step at a time as soon
as the hosted services have settled) and publishes the time on ``system.clock`` as
``system.clock.ticked``. Processes started with ``--clock replay --follow`` run a
``SimulatedClock`` that a :class:`ClockFollower` moves to every tick it reads, so their timers
and sleeps wake at the same replayed times as the owner's.

At a fixed speed both clocks are paced at it (``SimulatedClock.pace``, the owner's from its
driver, a follower's from the ticks' ``speed``), so staleness limits count wall seconds; at
``max`` they stay exact (runtime/clock.py).
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from quantrail.bus.bus import EventBus
from quantrail.events.system import ClockTicked
from quantrail.runtime.clock import NS_PER_SECOND, SimulatedClock

log = logging.getLogger("quantrail.runtime.replay")
CLOCK_STREAM = "system.clock"
MAX_SPEED = 0.0  # ``--speed max``: as fast as the hosted services settle


def parse_speed(text: str) -> float:
    """``max`` -> 0 (as fast as the services settle), else a positive multiple of wall speed."""
    if text.strip().lower() == "max":
        return MAX_SPEED
    try:
        speed = float(text)
    except ValueError:
        speed = -1.0
    if not speed > 0:
        raise ValueError(f"speed: must be a positive number or 'max' (value: {text!r})")
    return speed


def pace_of(tick: ClockTicked) -> float:
    """The pace a tick gives a clock: its fixed speed; at max (0) or unreadable, 1 (exact)."""
    fixed = math.isfinite(tick.speed) and tick.speed > 0
    return tick.speed if fixed else 1.0


@dataclass(frozen=True, slots=True)
class ReplayWindow:
    start_ns: int
    end_ns: int


class ReplayDriver:
    """Owns the replayed clock: advances it and publishes it until ``end_ns``, then holds."""

    def __init__(
        self,
        bus: EventBus,
        clock: SimulatedClock,
        window: ReplayWindow,
        speed: float,
        *,
        step_s: float = 1.0,
        settle: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        if speed == MAX_SPEED and settle is None:
            raise ValueError("speed: 'max' needs the services' settle step")
        self._bus, self._clock, self._window = bus, clock, window
        self._speed, self._step_ns = speed, int(step_s * NS_PER_SECOND)
        self._settle = settle
        self.finished = asyncio.Event()
        clock.pace(speed if speed != MAX_SPEED else 1.0)

    async def run(self) -> None:
        await self._tick()
        if self._speed == MAX_SPEED:
            await self._run_settled()
        else:
            await self._run_paced()
        log.info("replay reached its end; the clock holds there")
        self.finished.set()

    async def _run_paced(self) -> None:
        # Real time decides where the replayed clock should be; the clock moves there in steps
        # no longer than step_s, so every sleeper wakes at its own replayed time, in order.
        pause_s = min(0.05, max(0.005, 1.0 / self._speed))
        started_wall, started_ns = time.monotonic(), self._clock.now_ns()
        while self._clock.now_ns() < self._window.end_ns:
            elapsed_ns = int((time.monotonic() - started_wall) * self._speed * NS_PER_SECOND)
            target = min(self._window.end_ns, started_ns + elapsed_ns)
            while self._clock.now_ns() < target:
                await self._clock.advance_to(min(target, self._clock.now_ns() + self._step_ns))
            await self._tick()
            await asyncio.sleep(pause_s)

    async def _run_settled(self) -> None:
        assert self._settle is not None
        while self._clock.now_ns() < self._window.end_ns:
            await self._clock.advance_to(
                min(self._window.end_ns, self._clock.now_ns() + self._step_ns)
            )
            await self._settle()
            await self._tick()

    async def _tick(self) -> None:
        tick = ClockTicked(ts_event=self._clock.now_ns(), source="replay-clock", speed=self._speed)
        try:
            await self._bus.publish(tick)
        except Exception as exc:  # followers wait for the next tick; the replay goes on
            log.warning("clock tick not published: %s", exc)


class ClockFollower:
    """Moves a local ``SimulatedClock`` to the owner's ticks read from ``system.clock``."""

    def __init__(self, bus: EventBus, clock: SimulatedClock, *, block_ms: int = 200) -> None:
        self._bus, self._clock, self._block_ms = bus, clock, block_ms
        self._key = bus.names.key(CLOCK_STREAM)
        self._cursor = "0"
        self._went_back = False

    async def first_tick(self, within_s: float | None = None) -> int:
        """Wait for a tick (the latest one already published, else the next); returns its time."""
        deadline = None if within_s is None else time.monotonic() + within_s
        said = False
        while True:
            last = await self._bus.transport.last_id(self._key)
            if last and last != "0-0":
                entries = await self._bus.transport.range(self._key, last, last, 1)
                if entries:
                    self._cursor = last
                    tick = self._decode(entries[-1].fields)
                    self._pace(tick)
                    await self._clock.advance_to(max(tick.ts_event, self._clock.now_ns()))
                    return tick.ts_event
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"no replay clock tick on {self._key} within {within_s}s")
            if not said:
                log.info("waiting for the replay clock on %s", self._key)
                said = True
            await asyncio.sleep(0.05)

    async def run(self) -> None:
        """Follow the ticks for ever (cancel to stop)."""
        while True:
            try:
                entries = await self._bus.transport.read(
                    {self._key: self._cursor}, count=1000, block_ms=self._block_ms
                )
            except Exception as exc:  # Redis away: the clock stands still until it is back
                log.warning("replay clock not readable: %s", exc)
                await asyncio.sleep(0.5)
                continue
            if not entries:
                continue
            self._cursor = entries[-1].entry_id
            tick = self._decode(entries[-1].fields)
            self._pace(tick)
            await self._move_to(tick.ts_event)

    def _pace(self, tick: ClockTicked) -> None:
        """The owner's speed is this clock's too, for its staleness limits."""
        self._clock.pace(pace_of(tick))

    async def _move_to(self, ts_ns: int) -> None:
        if ts_ns < self._clock.now_ns():
            if not self._went_back:
                log.warning("replay clock went back (owner restarted?): ignoring earlier ticks")
                self._went_back = True
            return
        self._went_back = False
        while self._clock.now_ns() < ts_ns:  # in steps, so sleepers wake in order
            await self._clock.advance_to(min(ts_ns, self._clock.now_ns() + NS_PER_SECOND))

    def _decode(self, fields: Mapping[bytes, bytes]) -> ClockTicked:
        event = self._bus.codec.from_fields(fields)
        if not isinstance(event, ClockTicked):
            raise ValueError(f"{self._key}: expected system.clock.ticked, got {event.kind}")
        return event
