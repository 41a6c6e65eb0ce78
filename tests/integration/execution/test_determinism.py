"""Same events and seed, same events out: the service driven step by step, twice."""

from __future__ import annotations

from pathlib import Path

import msgspec

from integration.execution.harness import Driver, execution_config
from kit.bus import make_bus
from kit.market_events import quote, session_clock, trade_print
from kit.order_events import intent
from quantrail.events import Event
from quantrail.events.ids import seeded_ids
from quantrail.execution.config import ExecutionConfig
from quantrail.vocab import Phase, Side, TimeInForce


def script() -> list[Event]:
    return [
        quote(bid="24.95", ask="25.05", bid_size=1000, ask_size=1000),
        intent(intent_id="a", qty=300, limit_price="25.00"),
        intent(intent_id="b", side=Side.SELL, qty=200, limit_price="25.10", tif=TimeInForce.GTC),
        trade_print(price="25.00", size=100),
        quote(bid="25.00", ask="25.04", bid_size=1000, ask_size=1000),
        intent(intent_id="c", qty=100, limit_price="25.04"),
        trade_print(price="25.12", size=300),
        session_clock(phase=Phase.POST, minutes_to_close=0),
    ]


async def run_once(tmp_path: Path, fill_model: str) -> list[bytes]:
    execution = ExecutionConfig(seed=11, fill_model=fill_model)  # type: ignore[arg-type]
    config = msgspec.structs.replace(execution_config(tmp_path), execution=execution)
    bus = make_bus("memory", None, namespace="det")
    with seeded_ids(7):
        driver = Driver(bus, config)
        await driver.service.on_start()
        for event in script():
            await driver.feed(event)
    entries = await bus.iter_range("trades.order")
    return [entry.fields[b"payload"] for entry in entries]


async def test_same_events_and_seed_give_the_same_events(tmp_path: Path) -> None:
    for fill_model in ("touch", "probabilistic"):
        first = await run_once(tmp_path, fill_model)
        second = await run_once(tmp_path, fill_model)
        assert len(first) >= 10
        assert first == second
        assert any(b"trades.order.filled" in payload for payload in first)
