"""Builders for the position state and exit brain tests.

Unit side: fills (``fill``), a strategy's opened position with a stop (``opened_with_stop``),
an exit brain on given rules (``brain``). Integration side: ``Chain`` runs the real execution
service (simulated venue) in one runner and the positions and exit brain services in another,
all on one simulated clock moved by a background task, so the trading services can be
restarted while execution keeps running; ``entry_request`` is a SubmitOrder as the sizer makes.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

from kit.event_base import ACCOUNT, SYMBOL, T0, MoneyLike, build, envelope
from kit.order_events import order_fields
from kit.poll import eventually
from kit.position_events import position_opened
from kit.risk_events import risk_evaluation
from quantrail.bus.bus import EventBus
from quantrail.config import Config, config_from_mapping
from quantrail.events import (
    Event,
    OrderFill,
    OrderFilled,
    OrderPartiallyFilled,
    PositionOpened,
    QuoteUpdated,
    SubmitOrder,
)
from quantrail.execution.service import ExecutionService
from quantrail.execution.services import build_execution_service
from quantrail.runtime.clock import SimulatedClock
from quantrail.runtime.runner import ServiceRunner
from quantrail.runtime.service import Service
from quantrail.strategy.config import ExitBrainConfig, ExitRules
from quantrail.strategy.exit_brain import ExitBrain
from quantrail.strategy.exit_service import build_exit_brain_service
from quantrail.strategy.position_service import build_positions_service
from quantrail.vocab import Bucket, Direction, OrderType, Side

SECOND = 1_000_000_000
POSITION = "pos:ACC1:ACME:fill-1"


def fill(
    side: Side = Side.BUY,
    qty: int = 100,
    price: MoneyLike = "25.00",
    fill_id: str = "fill-1",
    *,
    order_qty: int | None = None,
    cum_qty: int | None = None,
    **overrides: Any,
) -> OrderFill:
    """One execution of ``qty`` at ``price``; a partial fill when ``order_qty`` is larger."""
    total = order_qty or qty
    cum = qty if cum_qty is None else cum_qty
    fields = order_fields(
        side=side, qty=total, order_type=OrderType.MARKET, limit_price=None, fill_id=fill_id,
        last_qty=qty, last_price=price, cum_qty=cum, leaves_qty=total - cum, avg_price=price,
        fees="0",
    )  # fmt: skip
    kind = OrderPartiallyFilled if cum < total else OrderFilled
    return build(kind, fields, overrides)


def opened_with_stop(
    stop: MoneyLike = "24.50", entry: MoneyLike = "25.00", qty: int = 100, **overrides: Any
) -> PositionOpened:
    """A strategy's position (``breakout``) opened at ``entry`` with its stop."""
    direction = Direction.LONG if qty > 0 else Direction.SHORT
    defaults: dict[str, Any] = {
        "position_id": POSITION, "qty": abs(qty), "direction": direction, "entry_price": entry,
        "stop_loss": stop, "strategy": "breakout", "correlation_id": "sig-1", "ts_event": T0,
    }  # fmt: skip
    return position_opened(**{**defaults, **overrides})


def brain(max_exit_orders: int = 10, retry_after_s: float = 0, **rules: Any) -> ExitBrain:
    """An exit brain whose ``breakout`` rules are ``rules`` (no retry wait unless asked)."""
    config = ExitBrainConfig(
        strategies={"breakout": ExitRules(**rules)}, retry_after_s=retry_after_s,
        max_exit_orders=max_exit_orders,
    )  # fmt: skip
    return ExitBrain(config)


def entry_request(stop: MoneyLike = "24.50", qty: int = 100, **overrides: Any) -> SubmitOrder:
    """A MARKET buy as the sizer publishes it: ids of the chain, the stop, the strategy."""
    defaults = envelope(
        account=ACCOUNT, request_id="req:eval:sig-1", evaluation_id="eval:sig-1",
        signal_id="sig-1", correlation_id="sig-1", strategy="breakout", symbol=SYMBOL,
        side=Side.BUY, qty=qty, order_type=OrderType.MARKET, bucket=Bucket.MM_PURE,
        direction=Direction.LONG, entry_price="25.02", stop_loss=stop, risk_amount="52.00",
    )  # fmt: skip
    return build(SubmitOrder, defaults, overrides)


def chain_config(tmp_path: Path, **exit_rules: Any) -> Config:
    """One account with a baseline (500 OTHER) and the ``breakout`` exit rules given."""
    baseline = tmp_path / "acc1.csv"
    baseline.write_text("symbol,qty,bucket,prior_close\nOTHER,500,LT,40.00\n")
    return config_from_mapping(
        {
            "execution": {"latency_ms": 20, "seed": 7},
            "liquidity": {"min_interval_s": 0},
            "risk": {
                "accounts": [{"name": ACCOUNT, "equity": "1000000", "baseline": str(baseline)}]
            },
            "positions": {"update_interval_s": 0.05},
            "exit_brain": {"strategies": {"breakout": exit_rules}, "retry_after_s": 0},
        }
    )


class Chain:
    """Execution in one runner, positions and exit brain in another, on one simulated clock."""

    def __init__(self, bus: EventBus, config: Config) -> None:
        self.bus, self.config = bus, config
        self.clock = SimulatedClock(T0)
        self._runners: dict[str, tuple[ServiceRunner, asyncio.Task[int]]] = {}
        self._pump = asyncio.create_task(self._move_time())

    async def _move_time(self) -> None:
        while True:
            await self.clock.advance(0.01)
            await asyncio.sleep(0.001)

    async def start_execution(self) -> ExecutionService:
        service = build_execution_service(self.config, self.bus, self.clock)
        assert isinstance(service, ExecutionService)
        await self._start("execution", [service])
        self.execution = service
        return service

    async def show(self, quote: QuoteUpdated) -> None:
        """Publish a quote and wait until execution has it (so an order sent next can fill)."""
        await self.publish(quote)
        quotes = self.execution.pretrade.quotes
        await eventually(lambda: quotes.get(quote.symbol) == quote, what="quote at execution")

    async def start_trading(self) -> list[Service]:
        services = [build_positions_service(self.config), build_exit_brain_service(self.config)]
        await self._start("trading", services)
        return services

    async def _start(self, name: str, services: list[Service]) -> None:
        runner = ServiceRunner(
            self.bus, services, self.config, clock=self.clock, instance=name, heartbeats=False
        )
        task = asyncio.create_task(runner.run(install_signals=False))
        await runner.started.wait()
        self._runners[name] = (runner, task)

    def consumers(self, name: str) -> list[Any]:
        """The consumers of runner ``name`` (``execution`` or ``trading``)."""
        return list(self._runners[name][0].consumers)

    async def stop(self, name: str) -> None:
        runner, task = self._runners.pop(name)
        runner.request_stop()
        assert await task == 0

    async def close(self) -> None:
        for name in list(self._runners):
            await self.stop(name)
        self._pump.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._pump

    async def publish(self, *events: Event) -> None:
        await self.bus.publish_batch(list(events))

    async def events(self, stream: str, kind: str = "") -> list[Any]:
        return [e for e in await self.bus.read_events(stream) if e.kind.endswith(kind)]

    async def wait_for(self, stream: str, kind: str, count: int = 1) -> list[Any]:
        return await eventually(
            lambda: self.events(stream, kind), lambda found: len(found) >= count, what=kind
        )

    async def marked_update(self, price: QuoteUpdated) -> Any:
        """Show ``price`` until the position service publishes an update from it (a first
        quote may fall within ``update_interval_s`` of the last update)."""

        async def probe() -> list[Any]:
            await self.publish(price)
            updates = await self.events("position.state", "updated")
            return [u for u in updates if ":mark:" in u.idempotency_key]

        marks = await eventually(probe, interval=0.05, what="a mark update")
        return marks[-1]


def approved(request: SubmitOrder) -> list[Event]:
    """``request`` after the risk approval it trades on (execution refuses a request whose
    approval it has not seen): an evaluation for its account, symbol and direction."""
    evaluation = risk_evaluation(
        "APPROVED", evaluation_id=request.evaluation_id, signal_id=request.signal_id,
        account=request.account, symbol=request.symbol, direction=request.direction,
        approved_qty=request.qty, correlation_id=request.correlation_id,
        ts_event=request.ts_event,
    )  # fmt: skip
    return [evaluation, request]
