"""The execution service under a real runner, on either transport, on simulated time.

``Harness`` (a ``kit.running.Running``) starts a ``ServiceRunner`` hosting one execution service
on a ``SimulatedClock`` that a background task moves 10 ms at a time (so the 100 ms venue timer
and the 20 ms venue latency pass quickly and every timestamp starts from the kit's T0),
publishes events, and reads
``trades.order`` back. A restart is ``stop()`` then ``start()``: a new service, a new venue.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kit.event_base import ACCOUNT, T0
from kit.poll import eventually
from kit.running import Running
from quantrail.bus.bus import EventBus
from quantrail.bus.delivery import Delivery
from quantrail.config import Config, config_from_mapping
from quantrail.events import (
    Event,
    KillSwitchActivated,
    KillSwitchReset,
    QuoteUpdated,
    RiskModeChanged,
    SessionClockTicked,
    TradePrinted,
)
from quantrail.execution.registry import registry_for
from quantrail.execution.service import ExecutionService
from quantrail.execution.services import build_execution_service
from quantrail.runtime.clock import SimulatedClock
from quantrail.runtime.service import ServiceContext

BASELINE = "symbol,qty,bucket,prior_close\nACME,500,LT,25.00\n"
"""ACC1 starts the day 500 ACME long in the LT book."""


def execution_config(tmp_path: Path, **liquidity: Any) -> Config:
    baseline = tmp_path / "acc1.csv"
    baseline.write_text(BASELINE)
    return config_from_mapping(
        {
            "execution": {"latency_ms": 20, "seed": 7},
            # No rate limit unless a test asks: the tests send orders close together.
            "liquidity": {"min_interval_s": 0, **liquidity},
            "risk": {
                "accounts": [{"name": ACCOUNT, "equity": "1000000", "baseline": str(baseline)}]
            },
        }
    )


class Harness(Running):
    def __init__(self, bus: EventBus, config: Config) -> None:
        super().__init__(bus, config)
        self.service: ExecutionService | None = None

    async def start(self) -> ExecutionService:
        service = build_execution_service(self.config, self.bus, self.clock)
        assert isinstance(service, ExecutionService)
        self.service = service
        await self.run([service])
        return service

    async def show(self, quote: QuoteUpdated) -> None:
        """Publish a quote and wait until the service has it (quotes and intents arrive on
        different consumers, so an intent published next could otherwise overtake it)."""
        await self.publish(quote)
        assert self.service is not None
        quotes = self.service.pretrade.quotes
        await eventually(
            lambda: quotes.get(quote.symbol), lambda q: q is quote or q == quote, what="quote"
        )

    async def orders(self, order_id: str | None = None) -> list[Any]:
        """``trades.order`` events, of one order when ``order_id`` is given."""
        events = await self.read("trades.order")
        return [e for e in events if order_id is None or e.order_id == order_id]

    async def wait(
        self, until: Callable[[list[Any]], bool], order_id: str | None = None, what: str = ""
    ) -> list[Any]:
        return await eventually(lambda: self.orders(order_id), until, what=what or "events")

    async def wait_kind(self, order_id: str, action: str) -> list[Any]:
        """Events of the order once one of them is ``trades.order.<action>``."""
        return await self.wait(
            lambda events: action in actions(events), order_id, f"{order_id} {action}"
        )

    def registry(self) -> Any:
        return registry_for(self.bus)


class Driver:
    """The service without a runner: each event handed to its handler, then time moved and
    the venue timer run by hand, so a test decides exactly what happens in which order."""

    def __init__(self, bus: EventBus, config: Config) -> None:
        self.bus = bus
        self.clock = SimulatedClock(T0)
        service = build_execution_service(config, bus, self.clock)
        assert isinstance(service, ExecutionService)
        self.service = service
        service.bind(ServiceContext(bus, self.clock, config, service.name, "t"))

    async def feed(self, *events: Event, ticks: int = 3, deliveries: int = 1) -> None:
        delivery = dataclasses.replace(DELIVERY, deliveries=deliveries)
        for event in events:
            if isinstance(event, QuoteUpdated | TradePrinted):
                await self.service.on_market(event, delivery)
            elif isinstance(event, SessionClockTicked):
                await self.service.on_session(event, delivery)
            elif isinstance(event, RiskModeChanged | KillSwitchActivated | KillSwitchReset):
                await self.service.on_state(event, delivery)
            else:
                await self.service.on_order_flow(event, delivery)
        for _ in range(ticks):
            await self.clock.advance(0.1)
            await self.service.tick()


DELIVERY = Delivery("test", "0-1", None, None, 1, None, 0)


def actions(events: list[Any]) -> list[str]:
    return [event.kind.rsplit(".", 1)[1] for event in events]
