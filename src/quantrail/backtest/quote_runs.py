"""Runs of quotes folded at once: the backtest's fast path for quiet market data.

Most quotes set nothing off: no order works in their symbol, no position is held in it, no
candle opens or closes and no tick goes out on them. The tape's quotes were checked as the
steps were built (``Step.quotes_only``), so the readers are asked only what their state decides
(``MarketFold.quiet_checked``). Such a run of quote-only steps is published
as one batch and handed to every reader of ``market.quote`` at once through its ``MarketFold``
(``runtime/market_fold.py``), with the clock moved to the run's last step. A run ends before
the next timer's wake-up (a timer at a step's time runs before the step), at a step that is not
quotes only, at ``window`` quotes, and where any reader stops calling it quiet; that step then
goes the per-event way (``backtest/run.py``), so the events are the per-event ones.

The candle service's own timer releases a throttled tick every interval; a run may go past its
wake-ups when the candle service walks the run with that timer (``MarketFold.timed``,
``marketdata/candle_run.py``): the ticks it releases are published after the run's quotes and
folded into the tick readers, provided every tick reader calls them quiet (no position held,
a strategy that takes no ticks); otherwise the run ends before the first such release.

A folded run's bus entries carry the run's last time in their ids (the clock stands there when
they are appended); their events are the ones the per-event way publishes.
"""

from __future__ import annotations

import bisect
import dataclasses
import functools
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, cast

from quantrail.backtest.feed import QUOTES, TICKS, BacktestRunner, CountingBus, DirectReader
from quantrail.backtest.timers import TimerPlan
from quantrail.events.base import Event
from quantrail.events.market import QuoteUpdated
from quantrail.runtime.clock import SimulatedClock, loop_idle, run_until_idle
from quantrail.runtime.market_fold import TimedRun, TimerGrid

if TYPE_CHECKING:
    from quantrail.backtest.run import Step

WINDOW = (4096, 8)
"""The longest run of quotes folded at once, and the run tried after a reader stopped one."""


class QuoteRuns:
    """Folds runs of quote steps for one backtest (module doc)."""

    def __init__(self, clock: SimulatedClock, bus: CountingBus, runner: BacktestRunner) -> None:
        self._clock, self._bus, self._runner = clock, bus, runner
        self._window = WINDOW[1]
        self._others_stopped = False  # the last run was stopped by a reader, not the walk
        self.folded = 0  # quotes folded so far
        self.released = 0  # ticks released inside runs

    async def fold(self, tape: QuoteTape, index: int) -> tuple[int, int]:
        """Fold the quiet steps from ``index`` on: (steps taken, quotes published)."""
        timed = self._runner.timed_reader(QUOTES)
        entry = timed[1].entry if timed is not None else None
        wake = self._clock.next_wake_ns_except(entry)
        grid = None
        if timed is not None:  # its walk cannot go past its horizon: nor can the run
            plan = timed[1]
            grid = TimerGrid(plan.grid_ns, plan.step_ns, plan.wake_ns)
            horizon = timed[0].horizon(grid)
            wake = horizon if wake is None or (horizon is not None and horizon < wake) else wake
        quotes, ends = _run_of(tape, index, wake, self._window)
        if not quotes:
            return 0, 0
        walk: TimedRun | None = None
        if timed is not None and grid is not None:
            walk, whole = self._walk_and_ask(quotes, ends, timed[0], grid)
        else:
            whole = _whole(ends, self._runner.quiet(QUOTES, quotes, checked=True))
            self._others_stopped = True
        taken = bisect.bisect_right(ends, whole)
        # After a reader's stop, short runs until quiet again (no long re-scans); the walk's
        # stops (a candle to open) cost nothing to find again, and leave the window as it is.
        longest, short = WINDOW
        if taken < len(ends) and self._others_stopped:
            self._window = short
        elif taken == len(ends):
            self._window = min(2 * self._window, longest)
        if taken == 0:
            return 0, 0
        if timed is None or walk is None:
            await self._take(quotes[:whole], [], None)
            return taken, whole
        return await self._take_walked(quotes[:whole], ends, walk, timed)

    def _walk_and_ask(
        self, quotes: Sequence[QuoteUpdated], ends: Sequence[int], reader: DirectReader,
        grid: TimerGrid,
    ) -> tuple[TimedRun | None, int]:  # fmt: skip
        """The walk of the run and how many quotes of whole steps every reader calls quiet.
        When the other readers are idle (``MarketFold.idle``: only a bad quote could stop
        them) the walk goes first and they follow over what it took, the quotes then at
        hand; else they go first (they stop runs, and a walk past their stop is wasted) and
        the walk follows. The walk is made again when fewer are taken than it walked."""
        if self._runner.idle(QUOTES, skip=reader):
            walk = reader.timed(quotes, grid)
            quiet = self._runner.quiet(QUOTES, quotes[: walk.quiet], skip=reader, checked=True)
            self._others_stopped = quiet < walk.quiet
        else:
            quiet = self._runner.quiet(QUOTES, quotes, skip=reader, checked=True)
            walk = reader.timed(quotes[:quiet], grid)
            self._others_stopped = walk.quiet == quiet < len(quotes)
        whole = _whole(ends, min(quiet, walk.quiet))
        if not whole:
            return None, 0
        if whole != walk.quiet:
            walk = reader.timed(quotes[:whole], grid)
        return walk, whole

    async def _take_walked(
        self,
        quotes: Sequence[QuoteUpdated],
        ends: Sequence[int],
        walk: TimedRun,
        timed: tuple[DirectReader, TimerPlan],
    ) -> tuple[int, int]:
        """Take a walked run: in segments, each up to a release a tick reader acts on (that
        tick goes through the readers one by one, at its time); the run stops after one
        that set something off."""
        reader, plan = timed
        plan.pause()  # its wake-ups within the run are the walk's; planned again after
        released = walk.released
        done = release = 0  # quotes taken; releases handled
        while True:
            calm = self._runner.quiet_released(TICKS, released[release:])
            acting = release + calm
            if acting == len(released):
                break
            last = acting  # the ticks of one fire go out together
            while last + 1 < len(released) and released[last + 1][0] == released[acting][0]:
                last += 1
            upto = walk.fired_before(acting)
            ticks = walk.apply_through(last)
            take_quotes = functools.partial(self._take, quotes[done:upto], [], reader)
            if not await self._deliver(released[acting][0], ticks, calm, plan, take_quotes):
                return bisect.bisect_right(ends, upto), upto
            plan.pause()
            release = last + 1
        await self._take(quotes[done:], walk.apply(len(quotes)), reader)
        plan.replan()
        return bisect.bisect_right(ends, len(quotes)), len(quotes)

    async def _take(
        self,
        quotes: Sequence[QuoteUpdated],
        ticks: Sequence[tuple[int, Event]],
        walked: DirectReader | None,
    ) -> None:
        """Publish and fold quiet quotes (``walked`` took them already) and then the quiet
        ticks released among them, the clock at the last quote (or later)."""
        if quotes:
            last_ns = quotes[-1].ts_event
            if last_ns > self._clock.now_ns() and not self._clock.skip_to(last_ns):
                raise RuntimeError(f"a folded run passed a wake-up before {last_ns}")
            await self._bus.publish_run(quotes, checked=True)  # as built: ``Step.quotes_only``
            self._runner.fold(QUOTES, quotes, skip=walked)
            self.folded += len(quotes)
        if ticks:
            await self._bus.publish_folded([event for _at, event in ticks])
            self._runner.fold_released(TICKS, ticks)
            self.released += len(ticks)

    async def _deliver(
        self,
        at_ns: int,
        ticks: Sequence[tuple[int, Event]],
        calm: int,
        plan: TimerPlan,
        take_quotes: Callable[[], Awaitable[None]],
    ) -> bool:
        """Ticks (the first ``calm`` quiet, folded) some reader acts on, at their release
        time, through the readers one by one
        (as the timer's relay does); then the timer planned again. True when they set
        nothing off and no other wake-up came before the run's end. The quiet quotes before
        them are taken only when they did set something off, before it runs (the tick
        readers' handling does not see them: they were quiet for every reader)."""
        bus, wake = self._bus, self._clock.next_wake_ns_except(plan.entry)
        if not self._clock.skip_to(at_ns):
            raise RuntimeError(f"a folded run passed a wake-up before {at_ns}")
        if calm:
            await self._take([], ticks[:calm], None)  # released before these: quiet
        before = bus.unrelayed
        await bus.publish_batch([event for _at, event in ticks[calm:]])
        await self._runner.relay()
        self.released += len(ticks) - calm
        plan.replan()  # as the timer's own wake-up: its callback, its plan, then the loop
        calm = bus.unrelayed == before and not bus.held and loop_idle()
        calm = calm and self._clock.next_wake_ns_except(plan.entry) == wake
        if not calm:
            await take_quotes()
            if not loop_idle():
                await run_until_idle()
        return calm


def _whole(ends: Sequence[int], count: int) -> int:
    """The quotes of the whole steps among the first ``count``."""
    taken = bisect.bisect_right(ends, count)
    return ends[taken - 1] if taken else 0


@dataclasses.dataclass(frozen=True, slots=True)
class QuoteTape:
    """The quotes of a market's quote-only steps in one list (built with the steps, before
    the clock runs): step ``i``'s are ``quotes[starts[i] : starts[i + 1]]`` (none for any
    other step); ``streak_end[i]`` is the first step from ``i`` on that is not quote-only;
    ``times[i]`` is step ``i``'s time."""

    quotes: list[QuoteUpdated]
    starts: list[int]
    streak_end: list[int]
    times: list[int]


def quote_tape(steps: Sequence[Step]) -> QuoteTape:
    quotes: list[QuoteUpdated] = []
    starts: list[int] = []
    for step in steps:
        starts.append(len(quotes))
        if step.quotes_only:
            quotes.extend(cast("list[QuoteUpdated]", step.events))
    starts.append(len(quotes))
    streak_end = [0] * len(steps)
    end = len(steps)
    for at in range(len(steps) - 1, -1, -1):
        if not steps[at].quotes_only:
            end = at
        streak_end[at] = end
    return QuoteTape(quotes, starts, streak_end, [step.ts_ns for step in steps])


def _run_of(
    tape: QuoteTape, index: int, wake: int | None, window: int
) -> tuple[list[QuoteUpdated], list[int]]:
    """The quotes of the quote-only steps from ``index`` before ``wake`` (at most about
    ``window``: the step that reaches it is the last), and the quote count after each step."""
    end = tape.streak_end[index]
    if wake is not None:
        end = bisect.bisect_left(tape.times, wake, index, end)
    starts, first = tape.starts, tape.starts[index]
    if end > index and starts[end] - first > window:
        end = bisect.bisect_left(starts, first + window, index + 1, end)
    ends = [start - first for start in starts[index + 1 : end + 1]]
    return tape.quotes[first : starts[end]], ends
