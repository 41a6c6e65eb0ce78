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
