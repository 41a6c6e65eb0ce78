"""The order registry on both transports: create-if-absent, indexes, saves, reload."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from kit.bus import make_bus
from kit.orders import new_order
from quantrail.bus.bus import EventBus
from quantrail.execution.order import Order, order_id_for_intent
from quantrail.execution.registry import MemoryOrderRegistry, RedisOrderRegistry, registry_for
from quantrail.vocab import OrderStatus

D = Decimal


def order_for(intent_id: str, **overrides: object) -> Order:
    fields: dict[str, object] = {"order_id": order_id_for_intent(intent_id), **overrides}
    return new_order(intent_id=intent_id, **fields)


async def test_registry_for_picks_by_transport(bus: EventBus) -> None:
    registry = registry_for(bus)
    expected = (
        RedisOrderRegistry
        if bus.transport.__class__.__name__ == "RedisTransport"
        else (MemoryOrderRegistry)
    )
    assert isinstance(registry, expected)
    if isinstance(registry, MemoryOrderRegistry):
        assert registry_for(bus) is registry  # a restarted service finds the same orders


async def test_create_is_once_per_intent(bus: EventBus) -> None:
    registry = registry_for(bus)
    first = order_for("I-1")
    stored, created = await registry.create(first)
    assert created and stored.to_dict() == first.to_dict()
    second = order_for("I-1", qty=200)  # a redelivered intent, even with other terms
    stored, created = await registry.create(second)
    assert not created and stored.qty == 1000
    assert await registry.order_id_for_intent("I-1") == first.order_id
    assert [o.order_id for o in await registry.orders_for_symbol("XYZ")] == [first.order_id]


async def test_racing_creates_make_exactly_one_order(bus: EventBus) -> None:
    registry = registry_for(bus)
    results = await asyncio.gather(*(registry.create(order_for("race")) for _ in range(20)))
    assert sum(created for _order, created in results) == 1
    assert len(await registry.orders_for_account("ACC-1")) == 1


async def test_successors_are_created_if_absent_by_order_id(bus: EventBus) -> None:
    registry = registry_for(bus)
    original = order_for("I-2")
    await registry.create(original)
    successor = order_for("I-2", order_id=f"{original.order_id}.r1", qty=300)
    assert (await registry.create(successor, by_intent=False))[1]
    assert not (await registry.create(successor, by_intent=False))[1]
    assert await registry.order_id_for_intent("I-2") == original.order_id  # index unchanged
    assert len(await registry.orders_for_symbol("XYZ")) == 2


async def test_save_moves_orders_in_and_out_of_the_open_set(bus: EventBus) -> None:
    registry = registry_for(bus)
    a, b = order_for("A", created_ns=2), order_for("B", created_ns=1, symbol="QQQ")
    for order in (a, b):
        await registry.create(order)
    assert [o.order_id for o in await registry.load_open()] == [b.order_id, a.order_id]
    a.move_to(OrderStatus.SUBMITTED, 5)
    a.accept("V-A", 6)
    a.move_to(OrderStatus.WORKING, 6)
    a.apply_fill("F1", 1000, D("10.00"), D("3.50"), 7)
    await registry.save(a)
    assert [o.order_id for o in await registry.open_orders("ACC-1")] == [b.order_id]
    stored = await registry.get(a.order_id)
    assert stored is not None and stored.status is OrderStatus.FILLED
    assert (stored.fees, stored.fill_ids, stored.avg_fill_price) == (D("3.50"), ["F1"], D("10"))
    assert await registry.accounts() == ["ACC-1"]
    assert [o.order_id for o in await registry.orders_for_account("ACC-1")] == [
        b.order_id,
        a.order_id,
    ]


async def test_save_of_an_order_never_created_is_refused(bus: EventBus) -> None:
    registry = registry_for(bus)
    with pytest.raises(KeyError, match="never created"):
        await registry.save(order_for("ghost"))
    assert await registry.get(order_for("ghost").order_id) is None


async def test_redis_registry_keys_are_the_documented_ones(redis_url: str) -> None:
    bus = make_bus("redis", redis_url, namespace="regkeys")
    try:
        client = bus.transport.client  # type: ignore[attr-defined]
        await client.delete(*(await client.keys("regkeys:*")) or ["none"])
        registry = registry_for(bus)
        order = order_for("K-1")
        await registry.create(order)
        keys = sorted(k.decode() for k in await client.keys("regkeys:*"))
        assert keys == [
            f"regkeys:order:{order.order_id}",
            "regkeys:orders:account:ACC-1",
            "regkeys:orders:accounts",
            "regkeys:orders:intent",
            "regkeys:orders:open:ACC-1",
            "regkeys:orders:symbol:XYZ",
        ]
        assert await client.hget(f"regkeys:order:{order.order_id}", "status") == b"NEW"
    finally:
        await bus.close()
