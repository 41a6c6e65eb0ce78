"""The risk kernel's book: what it follows taken at once is what it takes one by one."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kit.event_base import ACCOUNT, T0
from kit.kernel import NY
from kit.market_events import candle, price_tick, quote, trade_print
from kit.strategy_chain import issued_signal
from quantrail.events.base import Event
from quantrail.risk.kernel_state import KernelBook


def market(symbols: tuple[str, ...]) -> list[Event]:
    """Market data of each kind, times not in order (a late print, an old candle)."""
    events: list[Event] = []
    for offset, symbol in enumerate(symbols):
        events += [
            trade_print(symbol=symbol, ts_event=T0 + 9 + offset),
            quote(symbol=symbol, ts_event=T0 + 5 + offset),
            price_tick(symbol=symbol, ts_event=T0 + 7 + offset),
            candle(symbol=symbol, ts_event=T0 + 2 + offset),
        ]
    return events


@pytest.mark.parametrize("symbols", [("ACME",), ("ACME", "BETA")])
def test_apply_all_leaves_the_book_as_apply_of_each(symbols: tuple[str, ...]) -> None:
    events = [*market(symbols), issued_signal()]  # the last not market data: its own way
    one_by_one, at_once = (KernelBook({ACCOUNT: Decimal("100000")}, NY) for _ in range(2))
    for event in events:
        one_by_one.apply(event)
    at_once.apply_all(events[: len(events) // 2])
    at_once.apply_all(events[len(events) // 2 :])
    for symbol in symbols:
        signal = issued_signal(symbol=symbol)
        state = at_once.snapshot(signal, ACCOUNT, T0 + 100)
        assert state == one_by_one.snapshot(signal, ACCOUNT, T0 + 100)
        assert state.market_data_ns == T0 + 9 + symbols.index(symbol)  # the latest, not the last
