"""``trades.order.cancel_rejected``: every refused cancel is an order event carrying the status
the order stays in; the refusal itself moves the order nowhere new. Both transports."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from integration.execution.harness import Driver, actions, execution_config
from kit.market_events import quote, trade_print
from kit.order_events import cancel_order, intent, replace_order
from quantrail.bus.bus import EventBus
from quantrail.events import CancelOrder, OrderCancelRejected
from quantrail.execution.order import order_id_for_intent
from quantrail.execution.registry import registry_for
from quantrail.execution.venues import Liquidity, VenueCancelRejected, VenueFill
from quantrail.vocab import OrderStatus, Side

S = OrderStatus


async def started(bus: EventBus, tmp_path: Path, fill: int = 0) -> tuple[Driver, str]:
    """An order of 400 at 24.90 working (``fill`` shares of it filled by a print)."""
    driver = Driver(bus, execution_config(tmp_path))
    await driver.service.on_start()
    await driver.feed(quote(bid="24.95", ask="25.05", bid_size=1000, ask_size=1000))
    await driver.feed(intent(intent_id="held", qty=400, limit_price="24.90"))
    if fill:
        await driver.feed(trade_print(price="24.90", size=fill))
    return driver, order_id_for_intent("held")


async def read(driver: Driver, stream: str) -> list[Any]:
    return await driver.bus.read_events(stream)


async def of_order(driver: Driver, order_id: str) -> list[Any]:
    return [e for e in await read(driver, "trades.order") if e.order_id == order_id]


async def refused_by_the_venue(driver: Driver, order_id: str) -> None:
    """Our cancel goes out, and the venue (a real one may: "too late to cancel") refuses it.
    The simulated venue's own answer is never applied: no tick runs after it."""
    await driver.feed(cancel_order(order_id=order_id), ticks=0)
    assert (await registry_for(driver.bus).get(order_id)).status is S.PENDING_CANCEL
    refusal = VenueCancelRejected(
        order_id=order_id,
        reason="too late to cancel",
        ts_ns=driver.clock.now_ns(),
        venue_order_id=f"SIM-{order_id}",
    )
    await driver.service.flow.apply(refusal)


async def test_a_refused_cancel_puts_a_working_order_back_to_working(
    bus: EventBus, tmp_path: Path
) -> None:
    driver, oid = await started(bus, tmp_path)
    await refused_by_the_venue(driver, oid)
    events = await of_order(driver, oid)
    # One event for the refusal: no OrderWorking beside it.
    assert actions(events) == [
        "submitted", "accepted", "working", "pending_cancel", "cancel_rejected",
    ]  # fmt: skip
    rejected = events[-1]
    assert isinstance(rejected, OrderCancelRejected)
    assert (rejected.status, rejected.reason) == (S.WORKING, "too late to cancel")
    assert (rejected.intent_id, rejected.symbol, rejected.account) == ("held", "ACME", "ACC1")
    assert (await registry_for(driver.bus).get(oid)).status is S.WORKING
    [kept] = driver.service.open_orders()
    assert (kept.order_id, kept.status) == (oid, S.WORKING)


async def test_a_refused_cancel_puts_a_partly_filled_order_back_to_partially_filled(
    bus: EventBus, tmp_path: Path
) -> None:
    driver, oid = await started(bus, tmp_path, fill=100)
    await refused_by_the_venue(driver, oid)
    rejected = (await of_order(driver, oid))[-1]
    assert (rejected.kind, rejected.status) == ("trades.order.cancel_rejected", S.PARTIALLY_FILLED)
    stored = await registry_for(driver.bus).get(oid)
    assert (stored.status, stored.filled_qty) == (S.PARTIALLY_FILLED, 100)
    alerts = await read(driver, "system.alert")
    assert alerts[-1].severity == "WARNING" and alerts[-1].details["status"] == "PARTIALLY_FILLED"


async def test_a_refused_replace_after_a_partial_fill_drops_the_replace_for_good(
    bus: EventBus, tmp_path: Path
) -> None:
    """A fill leaves the order PARTIALLY_FILLED with the replace still asked; the refusal changes
    no status but must still be saved, or a later cancel ack would bring a successor."""
    driver, oid = await started(bus, tmp_path)
    await driver.feed(replace_order(order_id=oid, qty=400, limit_price="24.85"), ticks=0)
    now, venue_id = driver.clock.now_ns(), f"SIM-{oid}"
    fill = VenueFill(
        order_id=oid, venue_order_id=venue_id, fill_id=f"{venue_id}-F1", symbol="ACME",
        side=Side.BUY, qty=100, price=Decimal("24.90"), fee=Decimal("0.35"),
        liquidity=Liquidity.MAKER, ts_ns=now,
    )  # fmt: skip
    await driver.service.flow.apply(fill)
    assert (await registry_for(driver.bus).get(oid)).replace_qty == 400
    refusal = VenueCancelRejected(
        order_id=oid, reason="too late", ts_ns=now, venue_order_id=venue_id
    )
    await driver.service.flow.apply(refusal)
    rejected = (await of_order(driver, oid))[-1]
    assert (rejected.kind, rejected.status) == ("trades.order.cancel_rejected", S.PARTIALLY_FILLED)
    stored = await registry_for(driver.bus).get(oid)
    assert (stored.status, stored.replace_qty, stored.replace_price) == (
        S.PARTIALLY_FILLED,
        0,
        None,
    )


async def test_a_cancel_racing_the_fill_is_rejected_and_the_order_ends_filled(
    bus: EventBus, tmp_path: Path
) -> None:
    driver, oid = await started(bus, tmp_path)
    # The print fills all 400 at the venue; our cancel reaches it after that.
    await driver.feed(trade_print(price="24.90", size=400), cancel_order(order_id=oid))
    events = await of_order(driver, oid)
    assert actions(events)[-3:] == ["pending_cancel", "filled", "cancel_rejected"]
    assert (events[-1].status, events[-1].reason) == (S.FILLED, "order already filled")
    stored = await registry_for(driver.bus).get(oid)
    assert (stored.status, stored.filled_qty) == (S.FILLED, 400)
    assert driver.service.pretrade.position("ACC1", "ACME") == 900
    # The ordinary race: nothing is left working, so it is said, not warned about.
    refused = [a for a in await read(driver, "system.alert") if "cancel_rejected" in a.alert_id]
    assert [(a.severity, a.details["status"]) for a in refused] == [("INFO", "FILLED")]


async def test_a_cancel_of_an_order_that_has_ended_is_refused_here_with_the_event(
    bus: EventBus, tmp_path: Path
) -> None:
    driver, oid = await started(bus, tmp_path)
    await driver.feed(trade_print(price="24.90", size=400))
    request = cancel_order(order_id=oid, reason="too late")
    await driver.feed(request)
    rejected = (await of_order(driver, oid))[-1]
    assert isinstance(rejected, OrderCancelRejected)
    assert rejected.status is S.FILLED and "order FILLED" in rejected.reason
    assert (rejected.causation_id, rejected.idempotency_key) == (
        request.event_id,
        f"{oid}:cancel_rejected:{request.event_id}:{rejected.ts_event}",
    )
    # A second refused request is a second event, not a repeat of the first.
    await driver.feed(cancel_order(order_id=oid))
    assert actions(await of_order(driver, oid)).count("cancel_rejected") == 2
    assert (await registry_for(driver.bus).get(oid)).status is S.FILLED


async def test_a_cancel_of_an_unknown_order_is_only_alerted(bus: EventBus, tmp_path: Path) -> None:
    driver, _oid = await started(bus, tmp_path)
    await driver.feed(CancelOrder(ts_event=driver.clock.now_ns(), order_id="nope"))
    assert await of_order(driver, "nope") == []
    alerts = await read(driver, "system.alert")
    assert "refused: order unknown" in alerts[-1].message
