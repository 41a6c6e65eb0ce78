"""The candle service's quotes in runs, its timer's tick releases among them.

A backtest folds runs of quotes (``runtime/market_fold.py``). For most readers a run ends
where any timer wakes, but the candle service's own timer wakes at every tick release (ten
times a second by default), which would cut runs to a handful of quotes. So the candle service
walks a run with its timer as the backtest's plan would fire it (``TimerGrid``: the grid and
the next wake-up; a fire re-plans at the first grid point at or after the work's due time, and
a quote that sets a tick waiting pokes the plan, which moves only earlier and never within one
interval of now, as ``backtest/timers.py``). At each fire the throttle releases its waiting
ticks; the walk stops where anything else would happen: a candle closes (by a quote of a later
bucket, or by a fire at or after a bucket's end), a quote opens a candle, is late, or is sent
as a tick at once. The throttle rules are the live ones, run on a copy (``TickThrottle.copy``);
``apply`` makes the copy the service's and moves the candles.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from decimal import Decimal

from quantrail.events.base import Event
from quantrail.events.market import QuoteUpdated, TradePrinted
from quantrail.marketdata.candle_builder import CandleBook, PriceUpdate, TickThrottle, tick_event
from quantrail.money import ZERO
from quantrail.runtime.market_fold import TimerGrid


def data_ts(event: QuoteUpdated | TradePrinted) -> int:
    """The time a price belongs to: the venue's time when the feed gives one."""
    return event.ts_exchange_ns or event.ts_event


_UNSEEN = (0, 0)
"""A symbol the walk has not asked the book about yet."""

Logged = tuple[int, str, Decimal, int]
"""A quote the walk took: (its index in the run, symbol, bid + ask, data time)."""


def _quote_index(logged: Logged) -> int:
    return logged[0]


def _range_of(sums: list[Decimal]) -> list[Decimal]:
    """Mids (halved sums) standing for the run's: its highest, lowest and last (all that
    ``CandleBuilder.fold_prices`` takes of them), halved exactly as each mid would be."""
    return [max(sums) / 2, min(sums) / 2, sums[-1] / 2]


Commit = Callable[[TickThrottle, dict[str, list[Decimal]], dict[str, int], int], None]
"""Into the service: its throttle now, each symbol's mids in order and last time, ticks sent."""


class CandleRun:
    """One walk of a run of quotes (``TimedRun``): walked ahead on copies, then taken in
    order, up to a release (``apply_through``) or whole (``apply``)."""

    __slots__ = (
        "_after", "_book", "_commit", "_end_ns", "_fired_before", "_grid", "_last", "_log",
        "_origin", "_released_taken", "_source", "_taken", "_wake", "last_ts", "quiet",
        "released", "throttle",
    )  # fmt: skip

    def __init__(
        self, book: CandleBook, throttle: TickThrottle, grid: TimerGrid | None, commit: Commit,
        source: str,
    ) -> None:  # fmt: skip
        """``grid`` None: a run within which the timer does not fire (the caller ends the run
        before its wake-up)."""
        self._book, self._grid, self._commit, self._source = book, grid, commit, source
        self._origin = throttle
        self.throttle = throttle.copy()
        self.last_ts: dict[str, int] = {}
        self.released: list[tuple[int, Event]] = []
        self.quiet = 0
        self._fired_before: list[int] = []  # per release: the quote it went out before
        self._after: list[TickThrottle] = []  # per release: the throttle right after it
        self._log: list[Logged] = []
        self._taken = 0  # of _log
        self._released_taken = 0
        self._end_ns = book.next_end_ns()
        self._wake = None if grid is None else grid.wake_ns
        self._last: dict[str, Logged] = {}  # a waiting symbol's latest quote

    def walk(self, quotes: Sequence[QuoteUpdated]) -> CandleRun:
        self.quiet = self._walk(quotes)
        return self

    def fired_before(self, release: int) -> int:
        """The index of the quote release number ``release`` went out before."""
        return self._fired_before[release]

    def apply_through(self, release: int) -> list[tuple[int, Event]]:
        """Take the quotes before release ``release`` and the releases up to it."""
        upto = self._fired_before[release]
        return self._take(upto, self._after[release].copy(), release + 1)

    def apply(self, count: int) -> list[tuple[int, Event]]:
        """Take the rest: the first ``count`` (= ``quiet``) quotes and the releases before
        them."""
        if count != self.quiet:
            raise ValueError(f"count: a walk takes all its {self.quiet} quiet quotes, got {count}")
        return self._take(count, self.throttle, len(self.released))

    def _take(self, upto: int, throttle: TickThrottle, released: int) -> list[tuple[int, Event]]:
        log, at = self._log, self._taken
        end = bisect.bisect_left(log, upto, at, key=_quote_index)
        self._taken = end
        mids: dict[str, list[Decimal]] = {}
        last_ts: dict[str, int] = {}
        if len(self.last_ts) == 1 and end > at:  # one symbol (most runs): no grouping
            sums = [logged[2] for logged in log[at:end]]
            _index, symbol, _sum, ts = log[end - 1]
            mids[symbol], last_ts[symbol] = _range_of(sums), ts
        else:
            by_symbol: dict[str, list[Decimal]] = {}
            for _index, symbol, total, ts in log[at:end]:
                by_symbol.setdefault(symbol, []).append(total)
                last_ts[symbol] = ts
            mids = {symbol: _range_of(sums) for symbol, sums in by_symbol.items()}
        taken = self.released[self._released_taken : released]
        self._commit(throttle, mids, last_ts, len(taken))
        self._released_taken = released
        return taken

    def _walk(self, quotes: Sequence[QuoteUpdated]) -> int:
        try:
            return self._walk_quotes(quotes)
        finally:
            self._keep_last()

    def _walk_quotes(self, quotes: Sequence[QuoteUpdated]) -> int:
        # The hot loop of a backtest: the book's and the throttle's rules (``on_quote``'s,
        # ``quiet_window``, ``holds``, ``waits``) read straight from their state. A mid is
        # kept as bid + ask (halved where it is used: a candle needs only the highest, the
        # lowest and the last, a tick the last).
        book, last, log, last_ts = self._book, self._last, self._log, self.last_ts
        printed, interval = book.printed, self.throttle.min_interval_ns
        latest = self.throttle.latest_times  # before the walk (it keeps its own ``last_ts``)
        windows: dict[str, tuple[int, int] | None] = {}  # where each symbol's quotes are quiet
        throttle = self.throttle
        sent, waiting = throttle.sent_times, throttle.waiting_prices
        wake, grid = self._wake, self._grid
        fired = False
        for index, quote in enumerate(quotes):
            now = quote.ts_event
            if wake is not None and wake <= now:
                fired = True
                while wake is not None and wake <= now:
                    if not self._fire(wake, index):
                        return self._stopped_after_fires(quotes, index)
                    wake = self._wake
            elif fired:
                fired = False
            symbol, bid, ask = quote.symbol, quote.bid, quote.ask
            if symbol in printed or not ZERO < bid < ask:  # a Decimal 0: a third cheaper
                continue  # as ``CandleBook.on_quote``: the quote moves nothing
            ts = quote.ts_exchange_ns or now  # ``data_ts``
            window = windows.get(symbol, _UNSEEN)
            if window is _UNSEEN:
                window = windows[symbol] = book.quiet_window(symbol)
            floor = last_ts.get(symbol)
            sent_ns = sent.get(symbol)
            if (
                window is None
                or ts < (latest.get(symbol, ts) if floor is None else floor)
                or not window[0] <= ts < window[1]
                or sent_ns is None
                or now - sent_ns >= interval
            ):
                return self._stopped_after_fires(quotes, index) if fired else index
            logged = (index, symbol, bid + ask, ts)
            log.append(logged)
            last_ts[symbol] = ts
            if symbol in waiting:
                last[symbol] = logged  # the waiting price: kept at the next fire
                continue
            throttle.keep(PriceUpdate(symbol, (bid + ask) / 2, ts))
            if grid is not None and (wake is None or wake - now > grid.step_ns):  # ``_poke``
                due = self._due_wake(now)
                if due is not None and (wake is None or due < wake):
                    self._wake = wake = due
        return len(quotes)

    def _stopped_after_fires(self, quotes: Sequence[QuoteUpdated], index: int) -> int:
        """The walk stops at quote ``index`` with the timer fired just before it: those fires
        are not the run's (they happen at their time, after its last quote), so the walk is
        the one of the quotes before ``index`` alone (walked again: a stop is once a run)."""
        again = CandleRun(self._book, self._origin, self._grid, self._commit, self._source)
        again.walk(quotes[:index])
        for name in CandleRun.__slots__:
            setattr(self, name, getattr(again, name))
        return index

    def _keep_last(self) -> None:
        """Each symbol's latest price into the throttle (its waiting tick)."""
        for symbol, (_index, _symbol, total, ts) in self._last.items():
            self.throttle.keep(PriceUpdate(symbol, total / 2, ts))
        self._last.clear()

    def _fire(self, at_ns: int, before: int) -> bool:
        """The timer at ``at_ns`` (before quote ``before``): its waiting ticks go out; False
        (nothing done) when its flush would close a candle."""
        if self._end_ns is not None and self._end_ns <= at_ns:
            return False
        self._keep_last()
        ready = self.throttle.due(at_ns)
        after = self.throttle.copy() if ready else self.throttle
        for update in ready:
            self.released.append((at_ns, tick_event(update, self._source)))
            self._fired_before.append(before)
            self._after.append(after)
        self._wake = self._due_wake(at_ns)
        return True

    def _due_wake(self, now_ns: int) -> int | None:
        """The grid point the plan wakes at (``TimerPlan.due_wake``): the first at or after
        the work's due time (a candle's end, a waiting tick's) and after now."""
        grid = self._grid
        if grid is None:
            return None
        due, end = self.throttle.next_due_ns(), self._end_ns
        if due is None or (end is not None and end < due):
            due = end
        if due is None:
            return None
        return grid.at_or_after(due if due > now_ns else now_ns + 1)
