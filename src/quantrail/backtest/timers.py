"""Timers that sleep through the wake-ups where they would have nothing to do.

Live, a timer wakes every ``interval_s`` (the candle service's every 0.1 s). On a simulated
clock each wake-up costs the event loop a few turns, and over a backtest most of them find
nothing to do: a one-minute bar is 600 wake-ups of the candle timer for one candle close.
A timer that gives ``Timer.due_ns`` (the first time its callback has work, as things stand)
is run here on the same grid (start + k x interval) but wakes only at the first grid point
that is due; the callbacks that run are the ones that would have done something, at the same
simulated times, so the events are the same.

The plan holds while the service's state changes through its handlers and timers: after each
event any of its readers handled (a bus reader or a ``DirectReader``) and after each of its
timers ran, the runner ``poke``s the service's plans, and a plan whose due time moved earlier
wakes and plans again. A timer whose work depends on something else says so in its
``due_ns`` (the risk kernel's keep-warm catch-up is never due: every evaluation catches up
first, so it changes no verdict).

Order at an instant is kept too: live, a timer that fires every interval went to sleep at its
previous grid point, after the timers that fire at the same instant with longer intervals, so
it runs after them. A long skip therefore wakes once (doing nothing) one interval early and
sleeps the last interval from there.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from quantrail.runtime.clock import NS_PER_SECOND, SimulatedClock
from quantrail.runtime.service import Timer

log = logging.getLogger("quantrail.backtest")


@dataclass(slots=True)
class TimerPlan:
    timer: Timer
    clock: SimulatedClock
    grid_ns: int  # a grid point: the timer's start
    step_ns: int
    wake_ns: int | None = None  # the grid point the current nap aims at (None: until poked)
    poked: asyncio.Future[None] | None = field(default=None, repr=False)

    @classmethod
    def start(cls, timer: Timer, clock: SimulatedClock) -> TimerPlan:
        return cls(timer, clock, clock.now_ns(), max(int(timer.interval_s * NS_PER_SECOND), 1))

    def due_wake(self) -> int | None:
        """The first grid point after now that is at or after the callback's due time."""
        assert self.timer.due_ns is not None
        due = self.timer.due_ns()
        if due is None:
            return None
        target = max(due, self.clock.now_ns() + 1)
        steps = -(-(target - self.grid_ns) // self.step_ns)  # ceil
        return self.grid_ns + steps * self.step_ns

    def poke(self) -> None:
        """The service's state changed: wake to plan again if work came due earlier."""
        if self.poked is None or self.poked.done():
            return
        if self.wake_ns is not None and self.wake_ns - self.clock.now_ns() <= self.step_ns:
            return  # it already wakes at the first grid point after now: none is earlier
        wake = self.due_wake()
        if wake is not None and (self.wake_ns is None or wake < self.wake_ns):
            self.poked.set_result(None)

    async def run(self, stopped: asyncio.Event) -> None:
        while not stopped.is_set():
            wake = self.due_wake()
            now = self.clock.now_ns()
            early = wake is not None and wake - now > self.step_ns
            if not await self._nap(wake, wake - self.step_ns if early and wake else wake):
                continue  # poked: plan again
            if early or stopped.is_set():
                continue  # the wake-up one interval early: sleep the last one from here
            try:
                await self.timer.callback()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("timer %s failed", self.timer.name)

    async def _nap(self, wake: int | None, until: int | None) -> bool:
        """Sleep until ``until`` (None: until poked); True when the clock woke it."""
        self.wake_ns = wake
        self.poked = asyncio.get_running_loop().create_future()
        sleeper = None if until is None else asyncio.ensure_future(self.clock.sleep_until(until))
        waiting: set[asyncio.Future[None]] = {self.poked}
        if sleeper is not None:
            waiting.add(sleeper)
        try:
            await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
        finally:
            if sleeper is not None and not sleeper.done():
                sleeper.cancel()
            self.poked = None
        return sleeper is not None and sleeper.done() and not sleeper.cancelled()
