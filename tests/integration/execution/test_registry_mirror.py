"""The registry with this process's copy of its orders, on both registries: when the registry
forgets (a Redis restarted empty), nothing of ours is lost and no intent gets a second order."""

from __future__ import annotations

from kit.memloss import forget_namespace
from kit.orders import T0, new_order, working_order
from quantrail.bus.bus import EventBus
from quantrail.bus.redis import RedisTransport
from quantrail.execution.order import order_id_for_intent, replacement_id
from quantrail.execution.registry import MemoryOrderRegistry, registry_for
from quantrail.execution.registry_mirror import MirroredRegistry
from quantrail.vocab import OrderStatus


async def _forget(bus: EventBus, mirror: MirroredRegistry) -> None:
    if isinstance(bus.transport, RedisTransport):
        await forget_namespace(bus)
    else:
        mirror.inner = MemoryOrderRegistry()


def _by_intent(intent_id: str, **fields: object) -> dict[str, object]:
    return {"intent_id": intent_id, "order_id": order_id_for_intent(intent_id), **fields}


async def test_a_save_of_an_order_the_registry_forgot_writes_it_back(bus: EventBus) -> None:
    mirror = MirroredRegistry(registry_for(bus))
    order = working_order(**_by_intent("I-1"))
    await mirror.create(order)
    await _forget(bus, mirror)
    order.apply_fill("F1", 100, order.limit_price, order.fees, T0 + 5)
    await mirror.save(order)
    stored = await mirror.inner.get(order.order_id)
    assert stored is not None and stored.fill_ids == ["F1"]
    assert stored.status is OrderStatus.PARTIALLY_FILLED
    assert await mirror.inner.order_id_for_intent("I-1") == order.order_id
    assert mirror.missing == {order.order_id}


async def test_reads_fall_back_to_our_copy_and_an_intent_never_gets_a_second_order(
    bus: EventBus,
) -> None:
    mirror = MirroredRegistry(registry_for(bus))
    order = new_order(**_by_intent("I-2"))
    await mirror.create(order)
    await _forget(bus, mirror)
    found = await mirror.get(order.order_id)
    assert found is not None and found.order_id == order.order_id
    assert await mirror.order_id_for_intent("I-2") == order.order_id
    again, created = await mirror.create(new_order(**_by_intent("I-2", qty=5)))
    assert not created and again.qty == order.qty
    assert await mirror.get("never-made") is None


async def test_restore_writes_back_every_order_with_its_indexes(bus: EventBus) -> None:
    mirror = MirroredRegistry(registry_for(bus))
    first = working_order(**_by_intent("I-3"))
    await mirror.create(first)
    successor = new_order(order_id=replacement_id(first.order_id), intent_id="I-3",
                          created_ns=T0 + 10)  # fmt: skip
    await mirror.create(successor, by_intent=False)
    first.move_to(OrderStatus.CANCELED, T0 + 20)
    await mirror.save(first)
    await _forget(bus, mirror)
    written = await mirror.restore()
    assert written == [first.order_id, successor.order_id]
    inner = mirror.inner
    assert await inner.order_id_for_intent("I-3") == first.order_id
    assert [o.order_id for o in await inner.load_open()] == [successor.order_id]
    canceled = await inner.get(first.order_id)
    assert canceled is not None and canceled.status is OrderStatus.CANCELED
    assert not mirror.missing
    assert await mirror.restore() == []  # nothing lost twice


async def test_orders_read_at_start_are_held_too(bus: EventBus) -> None:
    registry = registry_for(bus)
    order = new_order(**_by_intent("I-4"))
    await registry.create(order)
    mirror = MirroredRegistry(registry)  # a restarted service: it finds the order at start
    assert [o.order_id for o in await mirror.orders_for_account(order.account)] == [order.order_id]
    await _forget(bus, mirror)
    assert await mirror.restore() == [order.order_id]
    assert await mirror.inner.order_id_for_intent("I-4") == order.order_id
