"""The order registry on memory, a single Redis and the Redis Cluster: create-if-absent,
indexes, saves, reload; its key layout and the move from the older untagged one."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest

from kit.bus import make_bus, new_namespace
from kit.cluster import make_cluster_bus
from kit.orders import new_order
from quantrail.bus.bus import EventBus
from quantrail.bus.cluster import slot_of
from quantrail.bus.redis import RedisTransport
from quantrail.execution.order import Order, order_id_for_intent
from quantrail.execution.registry import MemoryOrderRegistry, RedisOrderRegistry, registry_for
from quantrail.vocab import OrderStatus

D = Decimal


def order_for(intent_id: str, **overrides: object) -> Order:
    fields: dict[str, object] = {"order_id": order_id_for_intent(intent_id), **overrides}
    return new_order(intent_id=intent_id, **fields)


async def test_registry_for_picks_by_transport(three_way_bus: EventBus) -> None:
    registry = registry_for(three_way_bus)
    redis = isinstance(three_way_bus.transport, RedisTransport)  # the cluster's is one too
    expected = RedisOrderRegistry if redis else MemoryOrderRegistry
    assert isinstance(registry, expected)
    if isinstance(registry, MemoryOrderRegistry):
        assert registry_for(three_way_bus) is registry  # a restarted service finds the same orders


async def test_create_is_once_per_intent(three_way_bus: EventBus) -> None:
    registry = registry_for(three_way_bus)
    first = order_for("I-1")
    stored, created = await registry.create(first)
    assert created and stored.to_dict() == first.to_dict()
    second = order_for("I-1", qty=200)  # a redelivered intent, even with other terms
    stored, created = await registry.create(second)
    assert not created and stored.qty == 1000
    assert await registry.order_id_for_intent("I-1") == first.order_id
    assert [o.order_id for o in await registry.orders_for_symbol("XYZ")] == [first.order_id]


async def test_racing_creates_make_exactly_one_order(three_way_bus: EventBus) -> None:
    registry = registry_for(three_way_bus)
    results = await asyncio.gather(*(registry.create(order_for("race")) for _ in range(20)))
    assert sum(created for _order, created in results) == 1
    assert len(await registry.orders_for_account("ACC-1")) == 1


async def test_successors_are_created_if_absent_by_order_id(three_way_bus: EventBus) -> None:
    registry = registry_for(three_way_bus)
    original = order_for("I-2")
    await registry.create(original)
    successor = order_for("I-2", order_id=f"{original.order_id}.r1", qty=300)
    assert (await registry.create(successor, by_intent=False))[1]
    assert not (await registry.create(successor, by_intent=False))[1]
    assert await registry.order_id_for_intent("I-2") == original.order_id  # index unchanged
    assert len(await registry.orders_for_symbol("XYZ")) == 2


async def test_save_moves_orders_in_and_out_of_the_open_set(three_way_bus: EventBus) -> None:
    registry = registry_for(three_way_bus)
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


async def test_save_of_an_order_never_created_is_refused(three_way_bus: EventBus) -> None:
    registry = registry_for(three_way_bus)
    with pytest.raises(KeyError, match="never created"):
        await registry.save(order_for("ghost"))
    assert await registry.get(order_for("ghost").order_id) is None


async def test_an_intent_has_one_order_across_accounts(three_way_bus: EventBus) -> None:
    registry = registry_for(three_way_bus)
    first = order_for("I-X")
    assert (await registry.create(first))[1]
    # The same intent again for another account (a malformed duplicate): the first order.
    stored, created = await registry.create(order_for("I-X", account="ACC-2"))
    assert not created and stored.account == "ACC-1"
    assert await registry.accounts() == ["ACC-1"]
    assert await registry.orders_for_account("ACC-2") == []


async def test_orders_for_symbol_spans_accounts(three_way_bus: EventBus) -> None:
    registry = registry_for(three_way_bus)
    a = order_for("S-1", created_ns=1)
    b = order_for("S-2", account="ACC-2", created_ns=2)
    for order in (a, b, order_for("S-3", symbol="QQQ")):
        await registry.create(order)
    found = await registry.orders_for_symbol("XYZ")
    expected = [(a.order_id, "ACC-1"), (b.order_id, "ACC-2")]
    assert [(o.order_id, o.account) for o in found] == expected
    assert await registry.accounts() == ["ACC-1", "ACC-2"]
    assert [o.order_id for o in await registry.load_open()][:2] == [a.order_id, b.order_id]


@pytest.fixture(params=["redis", "cluster"])
async def redis_bus(request: pytest.FixtureRequest) -> AsyncIterator[EventBus]:
    """A bus on the single Redis, then on the Redis Cluster."""
    if request.param == "cluster":
        bus = make_cluster_bus(request.getfixturevalue("redis_cluster").startup_nodes)
    else:
        bus = make_bus("redis", request.getfixturevalue("redis_url"))
    yield bus
    await bus.close()


async def test_a_claim_without_its_order_is_no_order(redis_bus: EventBus) -> None:
    """A crash between the claim and the record: the claim alone is not an order, and the
    redelivered intent creates it."""
    registry = registry_for(redis_bus)
    assert isinstance(registry, RedisOrderRegistry)
    order = order_for("C-1")
    client: Any = redis_bus.transport.client  # type: ignore[attr-defined]
    await client.hset(registry.keys.index, "intent:C-1", order.order_id)
    await client.hset(registry.keys.index, f"order:{order.order_id}", "ACC-1")
    assert await registry.order_id_for_intent("C-1") is None
    assert await registry.get(order.order_id) is None
    _stored, created = await registry.create(order)
    assert created and await registry.order_id_for_intent("C-1") == order.order_id


async def test_every_script_touches_one_slot(redis_bus: EventBus) -> None:
    """The claim's keys share a slot, and so do the record's and the save's (one account)."""
    registry = registry_for(redis_bus)
    assert isinstance(registry, RedisOrderRegistry)
    keys, order = registry.keys, order_for("T-1")
    await registry.create(order)
    account = [
        keys.order("ACC-1", order.order_id),
        keys.open("ACC-1"),
        keys.every("ACC-1"),
        keys.symbol("ACC-1", "XYZ"),
    ]
    assert {slot_of(key) for key in account} == {slot_of("{acct:ACC-1}")}
    assert slot_of(keys.index) == slot_of(keys.accounts)
    order.move_to(OrderStatus.CANCELED, 9)
    await registry.save(order)
    assert await registry.open_orders("ACC-1") == []


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
            f"regkeys:order:{{acct:ACC-1}}:{order.order_id}",
            "regkeys:orders:accounts:{regkeys:orders}",
            "regkeys:orders:all:{acct:ACC-1}",
            "regkeys:orders:index:{regkeys:orders}",
            "regkeys:orders:open:{acct:ACC-1}",
            "regkeys:orders:symbol:{acct:ACC-1}:XYZ",
        ]
        status = await client.hget(f"regkeys:order:{{acct:ACC-1}}:{order.order_id}", "status")
        assert status == b"NEW"
    finally:
        await bus.close()


async def write_legacy(client: Any, ns: str, orders: list[Order], indexed: list[Order]) -> None:
    """What a registry of the release before the tagged layout wrote."""
    for order in orders:
        await client.hset(f"{ns}:order:{order.order_id}", mapping=order.to_dict())
        await client.sadd(f"{ns}:orders:account:{order.account}", order.order_id)
        await client.sadd(f"{ns}:orders:symbol:{order.symbol}", order.order_id)
        await client.sadd(f"{ns}:orders:accounts", order.account)
        if order.is_open:
            await client.sadd(f"{ns}:orders:open:{order.account}", order.order_id)
    for order in indexed:
        await client.hset(f"{ns}:orders:intent", order.intent_id, order.order_id)


async def test_an_older_store_is_moved_to_the_tagged_layout(redis_url: str) -> None:
    bus = make_bus("redis", redis_url, namespace=new_namespace())
    ns = bus.names.namespace
    client: Any = bus.transport.client  # type: ignore[attr-defined]
    try:
        a, b = order_for("L-1", created_ns=1), order_for("L-2", account="ACC-2", created_ns=2)
        successor = order_for("L-1", order_id=f"{a.order_id}.r1", created_ns=3)
        b.move_to(OrderStatus.CANCELED, 5)
        await write_legacy(client, ns, [a, b, successor], indexed=[a, b])
        registry = registry_for(bus)
        assert await registry.accounts() == ["ACC-1", "ACC-2"]
        assert [o.order_id for o in await registry.load_open()] == [a.order_id, successor.order_id]
        assert await registry.order_id_for_intent("L-2") == b.order_id
        assert [o.order_id for o in await registry.orders_for_symbol("XYZ")] == [
            a.order_id,
            b.order_id,
            successor.order_id,
        ]
        assert not (await registry.create(order_for("L-1")))[1]  # the intent is still claimed
        assert await client.keys(f"{ns}:orders:intent") == []
        legacy = [k for k in await client.keys(f"{ns}:*") if b"{" not in k]
        assert legacy == []
        # A crash before the old keys were gone: the next registry moves them again, and an
        # order saved since (a filled, here canceled) is not overwritten by its old state.
        a.move_to(OrderStatus.CANCELED, 7)
        await registry.save(a)
        await write_legacy(client, ns, [order_for("L-1", created_ns=1)], indexed=[])
        again = registry_for(bus)
        assert await again.open_orders("ACC-1") == [successor]
        stored = await again.get(a.order_id)
        assert stored is not None and stored.status is OrderStatus.CANCELED
    finally:
        await bus.close()
