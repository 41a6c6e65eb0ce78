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

A plan does not sleep in a task of its own: it schedules its next wake-up on the simulated
clock (``SimulatedClock.call_at``), which runs the callback when time gets there, in the same
deadline order as every other sleeper. A wake-up costs a call, not event-loop turns.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from quantrail.runtime.clock import NS_PER_SECOND, Scheduled, SimulatedClock
from quantrail.runtime.logs import current_service
from quantrail.runtime.service import Timer

log = logging.getLogger("quantrail.backtest")


@dataclass(slots=True)
class TimerPlan:
    timer: Timer
    clock: SimulatedClock
    service: str
    grid_ns: int  # a grid point: the timer's start
    step_ns: int
    wake_ns: int | None = None  # the grid point the plan aims at (None: until poked)
    entry: Scheduled | None = field(default=None, repr=False)
    firing: bool = False
    stopped: bool = False

    @classmethod
    def start(cls, timer: Timer, clock: SimulatedClock, service: str) -> TimerPlan:
        step_ns = max(int(timer.interval_s * NS_PER_SECOND), 1)
        plan = cls(timer, clock, service, clock.now_ns(), step_ns)
        plan.plan()
        return plan

    def due_wake(self) -> int | None:
        """The first grid point after now that is at or after the callback's due time."""
        assert self.timer.due_ns is not None
        due = self.timer.due_ns()
        if due is None:
            return None
        target = max(due, self.clock.now_ns() + 1)
        steps = -(-(target - self.grid_ns) // self.step_ns)  # ceil
        return self.grid_ns + steps * self.step_ns

    def plan(self) -> None:
        """Schedule the next wake-up: at the due grid point, or one interval before it when
        that is further than one interval away (the order at an instant, module doc)."""
        wake = self.due_wake()
        self.wake_ns = wake
        if wake is None:
            self.entry = None
            return
        if wake - self.clock.now_ns() > self.step_ns:
            self.entry = self.clock.call_at(wake - self.step_ns, self._woke_early)
        else:
            self.entry = self.clock.call_at(wake, self._fire)

    def poke(self) -> None:
        """The service's state changed: plan again if work came due earlier."""
        if self.firing or self.stopped:
            return
        if self.wake_ns is not None and self.wake_ns - self.clock.now_ns() <= self.step_ns:
            return  # it already wakes at the first grid point after now: none is earlier
        wake = self.due_wake()
        if wake is not None and (self.wake_ns is None or wake < self.wake_ns):
            if self.entry is not None:
                self.entry.cancel()
            self.plan()

    def pause(self) -> None:
        """Drop the scheduled wake-up until ``replan``."""
        if self.entry is not None:
            self.entry.cancel()
            self.entry = None

    def replan(self) -> None:
        """Plan again from now: the service's state moved outside its handlers and timers
        (a folded run, ``backtest/quote_runs.py``)."""
        if self.stopped or self.firing:
            return
        if self.entry is not None:
            self.entry.cancel()
        self.plan()

    def stop(self) -> None:
        self.stopped = True
        if self.entry is not None:
            self.entry.cancel()

    async def _woke_early(self) -> None:
        if not self.stopped:
            self.plan()

    async def _fire(self) -> None:
        if self.stopped:
            return
        self.firing = True
        token = current_service.set(self.service)
        try:
            await self.timer.callback()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("timer %s failed", self.timer.name)
        finally:
            current_service.reset(token)
            self.firing = False
        if not self.stopped:
            self.plan()
