"""Messages that cross (a fill racing a cancel or a replace) and redeliveries, step by step."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from integration.execution.harness import Driver, actions, execution_config
from kit.bus import make_bus
from kit.market_events import quote, trade_print
from kit.order_events import cancel_order, intent, replace_order
from kit.orders import new_order
from quantrail.execution.order import order_id_for_intent
from quantrail.execution.registry import registry_for
from quantrail.vocab import OrderStatus

D = Decimal


async def started(tmp_path: Path) -> Driver:
    driver = Driver(make_bus("memory", None), execution_config(tmp_path))
    await driver.service.on_start()
    await driver.feed(quote(bid="24.95", ask="25.05", bid_size=1000, ask_size=1000))
    await driver.feed(intent(intent_id="race", qty=100, limit_price="24.95"))
    return driver


async def order_events(driver: Driver, order_id: str) -> list[Any]:
    events = await driver.bus.read_events("trades.order")
    return [e for e in events if getattr(e, "order_id", None) == order_id]


async def alerts_of(driver: Driver) -> list[Any]:
    return await driver.bus.read_events("system.alert")


async def test_a_fill_that_beats_the_cancel_wins_and_the_refusal_is_published(
    tmp_path: Path,
) -> None:
    driver = await started(tmp_path)
    oid = order_id_for_intent("race")
    # The print fills the order at the venue; our cancel goes out before we hear of it.
    await driver.feed(trade_print(price="24.95", size=100), cancel_order(order_id=oid))
    events = await order_events(driver, oid)
    assert actions(events) == [
        "submitted", "accepted", "working", "pending_cancel", "filled", "cancel_rejected",
    ]  # fmt: skip
    rejected = events[-1]
    assert (rejected.status, rejected.reason) == (OrderStatus.FILLED, "order already filled")
    assert (rejected.intent_id, rejected.symbol, rejected.account) == ("race", "ACME", "ACC1")
    alerts = [
        driver.bus.codec.from_fields(e.fields) for e in await driver.bus.iter_range("system.alert")
    ]
    assert len(alerts) == 1 and "order already filled" in alerts[0].message
    assert alerts[0].details["status"] == "FILLED"
    assert (await registry_for(driver.bus).get(oid)).status is OrderStatus.FILLED
    assert driver.service.pretrade.position("ACC1", "ACME") == 600


async def test_a_repeated_cancel_changes_nothing(tmp_path: Path) -> None:
    """Two cancels in one step: the second finds the order PENDING_CANCEL and sends nothing."""
    driver = await started(tmp_path)
    oid = order_id_for_intent("race")
    await driver.feed(cancel_order(order_id=oid), cancel_order(order_id=oid))
    events = await order_events(driver, oid)
    assert actions(events)[-2:] == ["pending_cancel", "canceled"]  # the second was a no-op
    assert await driver.bus.iter_range("system.alert") == []


async def test_a_fill_that_completes_the_replace_total_brings_no_successor(
    tmp_path: Path,
) -> None:
    driver = await started(tmp_path)
    oid = order_id_for_intent("race")
    # The old order's 100 fill at 24.95 at the venue before our replace (to a new total of 100
    # at 24.90) reaches it: the venue refuses the cancel, the fill stands, no successor.
    replace = replace_order(order_id=oid, qty=100, limit_price="24.90")
    await driver.feed(trade_print(price="24.95", size=100), replace)
    events = await order_events(driver, oid)
    assert actions(events) == [
        "submitted", "accepted", "working", "pending_replace", "filled", "cancel_rejected",
    ]  # fmt: skip
    assert events[-1].status is OrderStatus.FILLED
    assert "order already filled" in (await alerts_of(driver))[0].message
    assert await order_events(driver, f"{oid}.r1") == []
    stored = await registry_for(driver.bus).get(oid)
    assert stored.status is OrderStatus.FILLED and stored.fees == D("0.35")


async def test_a_redelivered_intent_sends_the_order_a_failure_left_unsent(
    tmp_path: Path,
) -> None:
    """A failure after the SUBMITTED save (say, Redis gone at the publish) leaves the order
    stored but unannounced and unsent; the redelivery (deliveries 2) finishes the job. A mere
    duplicate (deliveries 1) does nothing."""
    driver = Driver(make_bus("memory", None), execution_config(tmp_path))
    await driver.service.on_start()
    await driver.feed(quote(bid="24.95", ask="25.05", bid_size=1000, ask_size=1000))
    event = intent(intent_id="half", qty=100, limit_price="24.90")
    oid = order_id_for_intent("half")
    left = new_order(order_id=oid, intent_id="half", account="ACC1", symbol="ACME", qty=100,
                     limit_price=D("24.90"), created_ns=driver.clock.now_ns())  # fmt: skip
    left.move_to(OrderStatus.SUBMITTED, driver.clock.now_ns())
    await registry_for(driver.bus).create(left)

    await driver.feed(event)
    assert await order_events(driver, oid) == []
    await driver.feed(event, deliveries=2)
    assert actions(await order_events(driver, oid)) == ["submitted", "accepted", "working"]
    assert [r.order_id for r in driver.service.venue.open_orders()] == [oid]
