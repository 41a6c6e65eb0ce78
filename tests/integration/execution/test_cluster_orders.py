"""Execution end to end on the private Redis Cluster (3 masters, 3 replicas) with
``bus.shards: 4``: intents on four symbols (one per shard, so their orders are written to
streams on different masters) become orders, some fill at once, the others rest; a restarted
execution service reads its orders back from the registry and the resting ones fill later."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from integration.execution.harness import Harness, execution_config
from kit.market_events import quote, trade_print
from kit.order_events import intent
from kit.shards import SPREAD, shard_keys_written, sharded_cluster_bus
from quantrail.bus.cluster import slot_of
from quantrail.execution.order import order_id_for_intent
from quantrail.execution.registry import RedisOrderRegistry
from quantrail.ops.redis_cluster import RedisClusterServer
from quantrail.vocab import OrderStatus

TAKERS, RESTING = SPREAD[:2], SPREAD[2:]


@pytest.fixture
async def harness(redis_cluster: RedisClusterServer, tmp_path: Path) -> AsyncIterator[Harness]:
    bus = sharded_cluster_bus(redis_cluster.startup_nodes)
    running = Harness(bus, execution_config(tmp_path))
    yield running
    await running.close()
    await bus.close()


async def test_orders_fill_and_survive_a_restart_on_the_cluster(harness: Harness) -> None:
    await harness.start()
    for symbol in SPREAD:
        await harness.show(quote(symbol, "25.00", "25.02", bid_size=1000, ask_size=1000))
    for symbol in TAKERS:  # marketable: filled at the ask
        await harness.publish(
            intent(intent_id=f"take:{symbol}", symbol=symbol, limit_price="25.02")
        )
    for symbol in RESTING:  # below the ask: rests
        await harness.publish(
            intent(intent_id=f"rest:{symbol}", symbol=symbol, limit_price="24.90")
        )
    for symbol in TAKERS:
        await harness.wait_kind(order_id_for_intent(f"take:{symbol}"), "filled")
    for symbol in RESTING:
        await harness.wait_kind(order_id_for_intent(f"rest:{symbol}"), "working")
    assert len(await shard_keys_written(harness.bus, "trades.order")) == len(SPREAD)
    await harness.stop()

    service = await harness.start()  # a new service reads its orders back from the cluster
    resting = sorted(order_id_for_intent(f"rest:{s}") for s in RESTING)
    assert sorted(o.order_id for o in service.open_orders()) == resting
    for symbol in TAKERS:
        assert service.pretrade.position("ACC1", symbol) == 100
    for symbol in RESTING:
        await harness.publish(trade_print(symbol, price="24.85", size=500))
    for symbol in RESTING:
        await harness.wait_kind(order_id_for_intent(f"rest:{symbol}"), "filled")
    # A redelivered intent makes no second order, after the restart too.
    await harness.show(quote(TAKERS[1], "25.00", "25.02", bid_size=1000, ask_size=1000))
    await harness.publish(intent(intent_id=f"take:{TAKERS[0]}", symbol=TAKERS[0]))
    await harness.publish(intent(intent_id="marker", symbol=TAKERS[1], limit_price="24.00"))
    await harness.wait_kind(order_id_for_intent("marker"), "working")
    taken = await harness.orders(order_id_for_intent(f"take:{TAKERS[0]}"))
    assert [e.kind.rsplit(".", 1)[1] for e in taken].count("submitted") == 1

    registry: Any = harness.registry()
    assert isinstance(registry, RedisOrderRegistry)
    orders = await registry.orders_for_account("ACC1")
    assert len(orders) == len(SPREAD) + 1
    assert all(o.status is OrderStatus.FILLED for o in orders if o.intent_id != "marker")
    slots = {slot_of(registry.keys.order("ACC1", o.order_id)) for o in orders}
    assert slots == {slot_of(registry.keys.open("ACC1"))}  # one account, one slot
