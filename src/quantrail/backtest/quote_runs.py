"""Runs of quotes folded at once: the backtest's fast path for quiet market data.

Most quotes set nothing off: no order works in their symbol, no position is held in it, no
candle opens or closes and no tick goes out on them. Such a run of quote-only steps is published
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
from collections.abc import Sequence
from typing import TYPE_CHECKING, cast

from quantrail.backtest.feed import QUOTES, TICKS, BacktestRunner, CountingBus
from quantrail.events.base import Event
from quantrail.events.market import QuoteUpdated
from quantrail.runtime.clock import SimulatedClock
from quantrail.runtime.market_fold import TimerGrid

if TYPE_CHECKING:
    from quantrail.backtest.run import Step

WINDOW = (4096, 8)
"""The longest run of quotes folded at once, and the run tried after a reader stopped one."""


class QuoteRuns:
    """Folds runs of quote steps for one backtest (module doc)."""

    def __init__(self, clock: SimulatedClock, bus: CountingBus, runner: BacktestRunner) -> None:
        self._clock, self._bus, self._runner = clock, bus, runner
        self._window = WINDOW[1]
        self.folded = 0  # quotes folded so far
        self.released = 0  # ticks released inside runs

    async def fold(self, steps: Sequence[Step], index: int) -> tuple[int, int]:
        """Fold the quiet steps from ``index`` on: (steps taken, quotes published)."""
        timed = self._runner.timed_reader(QUOTES)
        plan = timed[1] if timed is not None else None
        wake = self._clock.next_wake_ns_except(plan.entry if plan is not None else None)
        quotes, ends = _run_of(steps, index, wake, self._window)
        if not quotes:
            return 0, 0
        quiet = self._runner.quiet(QUOTES, quotes, skip=timed[0] if timed else None)
        walk = None
        if timed is not None and plan is not None and quiet:
            grid = TimerGrid(plan.grid_ns, plan.step_ns, plan.wake_ns)
            walk = timed[0].timed(quotes[:quiet], grid)
            quiet = self._quiet_ticks(walk.quiet, walk.released, quotes)
        taken = bisect.bisect_right(ends, quiet)
        longest, short = WINDOW  # after a stop, short runs until quiet again (no re-scans)
        self._window = short if taken < len(ends) else min(2 * self._window, longest)
        if taken == 0:
            return 0, 0
        if plan is not None and walk is not None:
            plan.pause()  # its wake-ups within the run are the walk's; planned again below
        if not self._clock.skip_to(steps[index + taken - 1].ts_ns):
            if plan is not None:
                plan.replan()
            return 0, 0
        run = quotes[: ends[taken - 1]]
        ticks = walk.apply(len(run)) if walk is not None else []
        await self._bus.publish_batch(run)
        self._runner.fold(QUOTES, run, skip=timed[0] if timed else None)
        if ticks:
            await self._bus.publish_folded(ticks)
            self._runner.fold(TICKS, ticks)
        if plan is not None and walk is not None:
            plan.replan()
        self.folded += len(run)
        self.released += len(ticks)
        return taken, len(run)

    def _quiet_ticks(
        self, quiet: int, released: Sequence[tuple[int, Event]], quotes: Sequence[QuoteUpdated]
    ) -> int:
        """``quiet`` cut before the release of the first tick a tick reader would act on."""
        if not released:
            return quiet
        ticks = [event for _at, event in released]
        calm = self._runner.quiet(TICKS, ticks)
        if calm == len(ticks):
            return quiet
        stop_ns = released[calm][0]  # the quotes before that release are still quiet
        return min(quiet, bisect.bisect_left([q.ts_event for q in quotes[:quiet]], stop_ns))


def _run_of(
    steps: Sequence[Step], index: int, wake: int | None, window: int
) -> tuple[list[QuoteUpdated], list[int]]:
    """The quotes of the quote-only steps from ``index`` before ``wake`` (at most about
    ``window``), and the quote count after each step."""
    quotes: list[QuoteUpdated] = []
    ends: list[int] = []
    for at in range(index, len(steps)):
        step = steps[at]
        if not step.quotes_only or (wake is not None and step.ts_ns >= wake):
            break
        quotes.extend(cast("list[QuoteUpdated]", step.events))
        ends.append(len(quotes))
        if len(quotes) >= window:
            break
    return quotes, ends
