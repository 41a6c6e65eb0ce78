"""A run of prices taken as marks by one day's P&L at once: does any reach the loss limit, and
the day after all of them.

The kill switch marks a held symbol at its prints (ticks included) and checks the day's P&L
against its limit after each (``KillSwitchService.on_market``); a backtest hands it runs of
ticks (``runtime/market_fold.py``). Figured one by one, each tick costs a pass over the
holdings. With one symbol held (the common case), the day's P&L moves one way with that
price (up with it for a long, down for a short: every step of ``DailyPnl.pnl_pct_with`` is
monotone, rounding included), so:

* a price no worse than one already figured cannot be at the limit when that one was not
  (``LimitWatch.reached_by`` figures only new worst prices); with nothing held (every symbol
  flat) no price moves it, and it is figured once;
* the high-water mark after the run is the one after its best price, and the mark is its last
  (``take_prints`` marks the best, then the last, instead of every one).

With more than one symbol held every price is figured and marked, in order.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from quantrail.risk.daily_pnl import DailyPnl, breached


def usable(price: Decimal) -> bool:
    """A price ``DailyPnl.on_print`` takes as a mark."""
    return price.is_finite() and price > 0


class LimitWatch:
    """Whether prints, in order, take ``day`` to ``limit_pct`` (each figured as the day would
    be after it and the ones before)."""

    def __init__(self, day: DailyPnl, limit_pct: Decimal) -> None:
        self._day, self._limit, self.booked = day, limit_pct, day.booked
        self._prints: dict[str, Decimal] = {}
        held = [(symbol, h.qty) for symbol, h in day.holdings.items() if h.qty]
        self._only: str | None = held[0][0] if len(held) == 1 else None
        self._long = len(held) == 1 and held[0][1] > 0
        self._safe: Decimal | None = None  # the worst price of ``_only`` figured, not at it
        self._flat = not held  # every symbol flat: no print moves the day
        self._flat_answer: bool | None = None

    def again(self, day: DailyPnl) -> LimitWatch | None:
        """This watch for another run of ``day``'s prints, when what it learnt still holds:
        nothing booked since (only marks moved), and one symbol held (its worst safe price is
        still safe) or none (no price moves the day). It takes the day's marks as now."""
        if day is not self._day or day.booked != self.booked:
            return None
        if self._only is None and not self._flat:
            return None
        self._prints = {}
        return self

    def reached_by(self, symbol: str, price: Decimal) -> bool:
        """Whether the day is at its limit after a print of ``symbol`` at ``price`` (a
        symbol the day holds: held or flat)."""
        if self._flat:  # figured once: no price moves a day that holds nothing
            if self._flat_answer is None:
                self._flat_answer = breached(self._day.pnl_pct_with({}), self._limit)
            return self._flat_answer
        if usable(price):
            self._prints[symbol] = price
            if symbol == self._only:
                safe = self._safe
                if safe is not None and (price >= safe if self._long else price <= safe):
                    return False
                if breached(self._day.pnl_pct_with(self._prints), self._limit):
                    return True
                self._safe = price
                return False
        return breached(self._day.pnl_pct_with(self._prints), self._limit)


def take_prints(day: DailyPnl, prints: Sequence[tuple[str, Decimal]]) -> None:
    """The prices of held symbols as marks, in order, as ``on_print`` of each (the others'
    are for the caller: they move no figure)."""
    held = {symbol: h.qty for symbol, h in day.holdings.items() if h.qty}
    ours = [(symbol, price) for symbol, price in prints if symbol in held and usable(price)]
    if len(held) != 1 or not ours:
        for symbol, price in ours:
            day.on_print(symbol, price)
        return
    (symbol, qty), prices = next(iter(held.items())), [price for _symbol, price in ours]
    day.on_print(symbol, max(prices) if qty > 0 else min(prices))  # the high-water mark's
    day.on_print(symbol, prices[-1])
