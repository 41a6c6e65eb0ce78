"""A restart mid-order: the new simulated venue takes the order back as it was, so fill ids run
on and the per-order minimum fee is charged once, on both transports."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from integration.execution.harness import Driver, Harness, actions, execution_config
from kit.event_base import ACCOUNT
from kit.market_events import quote, trade_print
from kit.order_events import cancel_order, intent
from quantrail.bus.bus import EventBus
from quantrail.execution.order import order_id_for_intent
from quantrail.execution.registry import registry_for
from quantrail.execution.venues.base import order_fee
from quantrail.vocab import OrderStatus

D = Decimal
PER_SHARE, MIN_FEE = D("0.0035"), D("0.35")


async def fills_of(harness: Harness, order_id: str, count: int) -> list[Any]:
    events = await harness.wait(
        lambda evs: len([e for e in evs if hasattr(e, "fill_id")]) == count,
        order_id,
        f"{count} fills of {order_id}",
    )
    return [e for e in events if hasattr(e, "fill_id")]


async def order_events(driver: Driver) -> list[Any]:
    return await driver.bus.read_events("trades.order")


async def test_fill_ids_run_on_and_the_minimum_fee_is_paid_once_across_restarts(
    harness: Harness,
) -> None:
    """400 at 24.90 fills 40, restart, 60, restart, 300. Before restore, each new venue counted
    from F1 and charged its 0.35 minimum again: 0.35 + 0.35 + 1.05 = 1.75, not 1.40."""
    await harness.start()
    await harness.show(quote(bid="24.95", ask="25.05", bid_size=1000, ask_size=1000))
    await harness.publish(intent(intent_id="long-lived", qty=400, limit_price="24.90"))
    oid = order_id_for_intent("long-lived")
    await harness.wait_kind(oid, "working")
    for size, count in ((40, 1), (60, 2)):
        await harness.publish(trade_print(price="24.90", size=size))
        await fills_of(harness, oid, count)
        await harness.stop()
        await harness.start()  # a new service, a new venue, the same registry
    await harness.publish(trade_print(price="24.90", size=1000))
    fills = await fills_of(harness, oid, 3)
    # The intent again after the restarts makes nothing; a marker behind it shows it was read.
    await harness.show(quote(bid="24.95", ask="25.05", bid_size=1000, ask_size=1000))
    await harness.publish(intent(intent_id="long-lived", qty=400, limit_price="24.90"))
    await harness.publish(intent(intent_id="marker", qty=100, limit_price="24.00"))
    await harness.wait_kind(order_id_for_intent("marker"), "working")

    assert [f.fill_id for f in fills] == [f"SIM-{oid}-F1", f"SIM-{oid}-F2", f"SIM-{oid}-F3"]
    assert [(f.last_qty, f.cum_qty, f.fees) for f in fills] == [
        (40, 40, D("0.35")),
        (60, 100, D("0.00")),  # 100 x 0.0035 = 0.35: the minimum is already paid
        (300, 400, D("1.05")),  # 400 x 0.0035 = 1.40 less the 0.35 paid
    ]
    total = sum((f.fees for f in fills), D(0))
    assert total == order_fee(400, PER_SHARE, MIN_FEE) == D("1.40")
    stored = await harness.registry().get(oid)
    assert (stored.status, stored.filled_qty, stored.fees) == (OrderStatus.FILLED, 400, total)
    assert stored.fill_ids == [f.fill_id for f in fills]
    # One order for the intent, announced once, however often it was delivered or restarted.
    orders = await harness.registry().orders_for_account(ACCOUNT)
    assert [o.order_id for o in orders if o.intent_id == "long-lived"] == [oid]
    assert actions(await harness.orders(oid)).count("submitted") == 1
    assert actions(await harness.orders(oid)).count("accepted") == 1


async def test_a_cancel_pending_at_the_restart_is_sent_again_and_keeps_the_fills(
    bus: EventBus, tmp_path: Path
) -> None:
    config = execution_config(tmp_path)
    first = Driver(bus, config)
    await first.service.on_start()
    await first.feed(quote(bid="24.95", ask="25.05", bid_size=1000, ask_size=1000))
    await first.feed(intent(intent_id="going", qty=400, limit_price="24.90"))
    oid = order_id_for_intent("going")
    await first.feed(trade_print(price="24.90", size=40))
    await first.feed(cancel_order(order_id=oid), ticks=0)  # its answer dies with the venue
    assert (await registry_for(bus).get(oid)).status is OrderStatus.PENDING_CANCEL

    second = Driver(bus, config)
    await second.clock.advance_to(first.clock.now_ns())
    await second.service.on_start()
    await second.feed()
    events = [e for e in await order_events(second) if e.order_id == oid]
    assert actions(events)[-3:] == ["partially_filled", "pending_cancel", "canceled"]
    assert events[-1].filled_qty == 40
    stored = await registry_for(bus).get(oid)
    assert (stored.status, stored.filled_qty, stored.fees) == (OrderStatus.CANCELED, 40, MIN_FEE)
    assert second.service.venue.open_orders() == []
