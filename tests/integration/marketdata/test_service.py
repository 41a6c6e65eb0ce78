"""The market-data publisher on the simulated clock."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from kit.bus import make_bus
from kit.poll import eventually
from quantrail.config import Config
from quantrail.events.market import QuoteUpdated, TradePrinted
from quantrail.marketdata.service import MarketDataService
from quantrail.marketdata.types import Print, Quote
from quantrail.runtime.clock import NS_PER_SECOND, SimulatedClock
from quantrail.runtime.runner import ServiceRunner

T0 = 1_795_000_000 * NS_PER_SECOND


def items() -> list[Quote | Print]:
    return [
        Quote("PFA", Decimal("24.99"), Decimal("25.01"), 500, 300, T0),
        Print("PFA", Decimal("25.01"), 200, T0 + NS_PER_SECOND // 2),
        Quote("PFA", Decimal("25.00"), Decimal("25.02"), 400, 300, T0 + 3 * NS_PER_SECOND),
    ]


async def test_events_are_published_when_due_on_the_clock() -> None:
    clock = SimulatedClock(T0)
    bus = make_bus("memory", None)
    service = MarketDataService(iter(items()), tick_s=1.0)
    runner = ServiceRunner(bus, [service], Config(), clock=clock, heartbeats=False)
    task = asyncio.create_task(runner.run(install_signals=False))
    await runner.started.wait()
    assert service.published == 1  # only the quote at T0 is due at start
    await clock.advance(1.0)
    await eventually(lambda: service.published, lambda n: n == 2)
    await clock.advance(1.0)
    assert service.published == 2 and not service.exhausted
    await clock.advance(1.0)
    await eventually(lambda: service.exhausted)
    runner.request_stop()
    await task
    quotes = [bus.codec.from_fields(e.fields) for e in await bus.read_range("market.quote")]
    prints = [bus.codec.from_fields(e.fields) for e in await bus.read_range("market.trade")]
    assert [type(q) for q in quotes] == [QuoteUpdated, QuoteUpdated]
    assert isinstance(prints[0], TradePrinted)
    assert prints[0].price == Decimal("25.01") and prints[0].ts_event == T0 + NS_PER_SECOND // 2
