"""The execution service when its Redis forgets everything (in process, on simulated time).

The namespace's keys are deleted while an order rests at the venue and a fill's event sits on
``trades.order``: what a redis-server restarted without persistence does to them. The resting
order's next fill still reaches the stream (the registry gets the order back, no report is given
up), the lost fill is published again with its original id, and one ERROR alert names both.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from integration.execution.harness import Driver, execution_config
from kit.bus import make_bus
from kit.market_events import quote, trade_print
from kit.memloss import forget_namespace
from kit.order_events import intent
from kit.outage import outage_bus, persistent_redis
from quantrail.bus.bus import EventBus
from quantrail.events import AlertTriggered, OrderFill
from quantrail.execution.order import order_id_for_intent
from quantrail.execution.registry import registry_for
from quantrail.ops.redis_server import RedisServer
from quantrail.vocab import OrderStatus, OrderType

pytestmark = pytest.mark.redis
__all__ = ["outage_bus", "persistent_redis"]  # fixtures


async def _fills(bus: EventBus) -> list[OrderFill]:
    return [e for e in await bus.read_events("trades.order") if isinstance(e, OrderFill)]


async def _lost_alerts(bus: EventBus) -> list[AlertTriggered]:
    return [
        e
        for e in await bus.read_events("system.alert")
        if isinstance(e, AlertTriggered) and "redis_memory_lost" in e.alert_id
    ]


async def test_an_emptied_redis_loses_no_fill_and_gets_our_orders_back(
    redis_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "quantrail.execution")
    bus = make_bus("redis", redis_url)
    try:
        driver = Driver(bus, execution_config(tmp_path))
        await driver.service.on_start()
        await driver.feed(quote(bid="24.95", ask="25.05", bid_size=1000, ask_size=1000))
        await driver.feed(intent(intent_id="taken", qty=100, limit_price="25.05"))
        await driver.feed(intent(intent_id="resting", qty=200, limit_price="24.90"))
        taken, resting = order_id_for_intent("taken"), order_id_for_intent("resting")
        [lost_fill] = await _fills(bus)
        assert lost_fill.order_id == taken

        assert await forget_namespace(bus) > 0
        await driver.feed(trade_print(price="24.90", size=100), ticks=10)  # 1 s: watch is 0.5 s

        fills = await _fills(bus)
        assert sorted((f.order_id, f.fill_id) for f in fills) == sorted(
            [(taken, lost_fill.fill_id), (resting, f"SIM-{resting}-F1")]
        )
        again = next(f for f in fills if f.order_id == taken)
        assert (again.last_qty, again.last_price, again.fees, again.ts_event) == (
            lost_fill.last_qty, lost_fill.last_price, lost_fill.fees, lost_fill.ts_event,
        )  # fmt: skip
        assert again.idempotency_key == lost_fill.idempotency_key
        registry = registry_for(bus)
        kept = await registry.get(resting)
        assert kept is not None and kept.status is OrderStatus.PARTIALLY_FILLED
        assert [o.order_id for o in await registry.load_open()] == [resting]
        assert await registry.order_id_for_intent("taken") == taken
        [alert] = await _lost_alerts(bus)
        assert alert.severity == "ERROR"
        assert alert.details["fills_published_again"] == [lost_fill.fill_id]
        assert {taken, resting} <= set(alert.details["orders_written_back"])
        assert not [r for r in caplog.records if "given up" in r.getMessage()]

        await driver.feed(trade_print(price="24.90", size=100), ticks=10)
        assert len(await _lost_alerts(bus)) == 1  # one loss, said once
        assert driver.service.health()["fills_republished"] == 1
    finally:
        await bus.close()


async def test_a_redis_that_kept_everything_is_reconciled_with_nothing_to_do(
    redis_url: str, tmp_path: Path
) -> None:
    """A restart of the service (a new venue, nothing lost): no alert, nothing published."""
    bus = make_bus("redis", redis_url)
    try:
        config = execution_config(tmp_path)
        first = Driver(bus, config)
        await first.service.on_start()
        await first.feed(quote(bid="24.95", ask="25.05", bid_size=1000, ask_size=1000))
        market = intent(intent_id="m", qty=100, order_type=OrderType.MARKET, limit_price=None)
        await first.feed(market, ticks=10)
        before = await bus.read_events("trades.order")
        assert [f.fill_id for f in await _fills(bus)] == [f"SIM-{order_id_for_intent('m')}-F1"]
        second = Driver(bus, config)
        await second.service.on_start()
        await second.feed(ticks=10)
        assert await bus.read_events("trades.order") == before
        assert not await _lost_alerts(bus)
    finally:
        await bus.close()


async def test_after_an_outage_a_fill_saved_but_never_published_is_published(
    persistent_redis: RedisServer, outage_bus: EventBus, tmp_path: Path
) -> None:
    """A fill saved in the registry whose event never reached the stream (Redis went away
    between the two) is found by the reconciliation that follows every outage."""
    driver = Driver(outage_bus, execution_config(tmp_path))
    await driver.service.on_start()
    await driver.feed(quote(bid="24.95", ask="25.05", bid_size=1000, ask_size=1000))
    await driver.feed(intent(intent_id="resting", qty=200, limit_price="24.90"))
    await driver.feed(trade_print(price="24.90", size=100))
    [fill] = await _fills(outage_bus)
    entries = await outage_bus.iter_range("trades.order")
    [entry] = [e for e in entries if e.fields[b"kind"] == fill.kind.encode()]
    key = outage_bus.names.key("trades.order")
    assert await outage_bus.transport.delete(key, [entry.entry_id]) == 1  # never published

    persistent_redis.kill()
    await driver.feed(trade_print(price="24.90", size=100), ticks=2)  # its report is held
    persistent_redis.start()
    await driver.feed(ticks=60)  # the backoff is at most 5 s
    resting = order_id_for_intent("resting")
    assert [f.fill_id for f in await _fills(outage_bus)] == [
        f"SIM-{resting}-F2", fill.fill_id,
    ]  # fmt: skip
    [alert] = await _lost_alerts(outage_bus)
    assert alert.details["why"] == "after a Redis outage"
    assert alert.details["fills_published_again"] == [fill.fill_id]
    assert alert.details["orders_written_back"] == []
