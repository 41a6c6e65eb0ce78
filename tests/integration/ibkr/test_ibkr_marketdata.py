"""IB market data onto the bus: the simulator's quotes arrive as quotes and prints."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from kit.ledger import running
from kit.poll import eventually
from quantrail.bus.bus import EventBus
from quantrail.events import QuoteUpdated, TradePrinted
from quantrail.ibkr.config import IbkrConfig
from quantrail.ibkr.ibsim import IbGatewaySimulator
from quantrail.marketdata.ibkr_source import IbkrMarketDataService


@pytest.fixture
async def ibsim() -> AsyncIterator[IbGatewaySimulator]:
    simulator = await IbGatewaySimulator().start()
    yield simulator
    await simulator.stop()


async def test_l1_quotes_and_prints_reach_the_bus(ibsim: IbGatewaySimulator, bus: EventBus) -> None:
    service = IbkrMarketDataService(IbkrConfig(port=ibsim.port), ["AAPL", "MSFT"])
    async with running(bus, service):
        first = await eventually(
            lambda: bus.read_events("market.quote"),
            until=lambda events: (
                {e.symbol for e in events if isinstance(e, QuoteUpdated)} == {"AAPL", "MSFT"}
            ),
        )
        start = ibsim.book.quote("AAPL")
        assert any(isinstance(e, QuoteUpdated) and e.bid == start.bid for e in first)
        await ibsim.set_quote("AAPL", Decimal("50.10"), Decimal("50.12"))
        moved = await eventually(
            lambda: bus.read_events("market.quote"),
            until=lambda events: any(
                isinstance(e, QuoteUpdated) and e.bid == Decimal("50.1") for e in events
            ),
        )
        assert moved[-1].source == "marketdata"
        prints = await bus.read_events("market.trade")
        assert {e.symbol for e in prints if isinstance(e, TradePrinted)} == {"AAPL", "MSFT"}


async def test_a_quote_change_is_not_a_print_and_a_print_is_one(
    ibsim: IbGatewaySimulator, bus: EventBus
) -> None:
    service = IbkrMarketDataService(IbkrConfig(port=ibsim.port), ["AAPL"])
    async with running(bus, service):
        await eventually(lambda: bus.read_events("market.trade"), what="the snapshot's print")
        for cents in range(5):
            await ibsim.set_quote("AAPL", Decimal("50.00") + cents, Decimal("50.02") + cents)
        await ibsim.print_trade("AAPL", Decimal("54.01"), 300)
        prints = await eventually(
            lambda: bus.read_events("market.trade"), lambda found: len(found) >= 2
        )
        top = Decimal("54")
        await eventually(
            lambda: bus.read_events("market.quote"),
            lambda quotes: any(isinstance(q, QuoteUpdated) and q.bid == top for q in quotes),
        )
    assert [(p.price, p.size) for p in prints if isinstance(p, TradePrinted)][1:] == [
        (Decimal("54.01"), 300)
    ]


async def test_tick_by_tick_prints_carry_the_exchange_and_the_conditions(
    ibsim: IbGatewaySimulator, bus: EventBus
) -> None:
    config = IbkrConfig(port=ibsim.port, tick_by_tick=True)
    service = IbkrMarketDataService(config, ["MSFT"])
    async with running(bus, service):
        await eventually(lambda: any(s.tick_by_tick for s in ibsim.sessions), what="subscribed")
        await ibsim.print_trade("MSFT", Decimal("410.25"), 200, exchange="ARCA", conditions="T I")
        prints = await eventually(lambda: bus.read_events("market.trade"))
    assert [
        (p.price, p.size, p.venue, p.conditions) for p in prints if isinstance(p, TradePrinted)
    ] == [(Decimal("410.25"), 200, "ARCA", ["T", "I"])]
