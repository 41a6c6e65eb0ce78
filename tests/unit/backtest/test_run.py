"""The run's steps: market data cut into moments of the clock, with their marks."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kit.backtest import DAY0, MINUTE_NS, bar
from quantrail.backtest.run import BacktestInputError, bar_market, in_window, tape_market
from quantrail.marketdata.types import Print, Quote


def test_tape_marks_take_the_last_print_else_the_quote_mid() -> None:
    second = 1_000_000_000
    quote = Quote(symbol="A", bid=Decimal("9.98"), ask=Decimal("10.02"), bid_size=1, ask_size=1,
                  ts_ns=DAY0)  # fmt: skip
    later = Quote(symbol="A", bid=Decimal("10.98"), ask=Decimal("11.02"), bid_size=1,
                  ask_size=1, ts_ns=DAY0 + 70 * second)  # fmt: skip
    trade = Print(symbol="B", price=Decimal("5.01"), size=100, ts_ns=DAY0 + 10 * second)
    market = tape_market([quote, trade, later], MINUTE_NS)
    marks = [step.mark for step in market.steps if step.mark is not None]
    assert [(m.ts_ns - DAY0, m.marks) for m in marks] == [
        (MINUTE_NS, {"A": Decimal("10.00"), "B": Decimal("5.01")}),
        (2 * MINUTE_NS, {"A": Decimal("11.00"), "B": Decimal("5.01")}),
    ]


def test_bar_steps_open_the_bars_then_the_path_then_mark_the_closes() -> None:
    bars = [bar(symbol="B"), bar(symbol="A", close=Decimal("9.95")),
            bar(symbol="A", start_ns=DAY0 + MINUTE_NS)]  # fmt: skip
    market = bar_market(bars, Decimal("0.01"))
    assert len(market.steps) == 10 and market.on_bars
    first = market.steps[0]
    assert [b.symbol for b in first.bars] == ["A", "B"] and first.ts_ns == DAY0
    assert [type(event).__name__ for event in first.events] == ["QuoteUpdated", "TradePrinted"] * 2
    assert all(not step.bars for step in market.steps[1:5])
    mark = market.steps[4].mark
    assert mark is not None and mark.ts_ns == DAY0 + MINUTE_NS
    assert mark.marks == {"A": Decimal("9.95"), "B": Decimal("10.10")}


def test_window_is_inclusive_and_checked() -> None:
    items = [1, 2, 3, 4]
    assert in_window(items, 2, 3, lambda x: x) == [2, 3]
    assert in_window(items, None, 2, lambda x: x) == [1, 2]
    with pytest.raises(BacktestInputError, match="--from: 3 is after --to 2"):
        in_window(items, 3, 2, lambda x: x)
