"""Cancel, replace (cancel -> ack -> new, linked ids), and intents that replace intents."""

from __future__ import annotations

from decimal import Decimal

from integration.execution.harness import Harness, actions
from kit.market_events import quote, trade_print
from kit.order_events import cancel_order, intent, replace_order
from kit.poll import eventually
from quantrail.execution.order import order_id_for_intent
from quantrail.vocab import OrderStatus, OrderType, Side

D = Decimal


async def working(harness: Harness, intent_id: str, qty: int = 400, price: str = "24.90") -> str:
    await harness.publish(intent(intent_id=intent_id, qty=qty, limit_price=price))
    order_id = order_id_for_intent(intent_id)
    await harness.wait_kind(order_id, "working")
    return order_id


async def test_replace_cancels_then_submits_a_linked_successor(harness: Harness) -> None:
    await harness.start()
    await harness.show(quote(bid="24.95", ask="25.05", bid_size=1000, ask_size=1000))
    old = await working(harness, "rp-1")
    new = f"{old}.r1"
    await harness.publish(replace_order(order_id=old, qty=300, limit_price="24.95"))
    await harness.wait_kind(new, "working")
    assert actions(await harness.orders(old)) == [
        "submitted",
        "accepted",
        "working",
        "pending_replace",
        "canceled",
        "replaced",
    ]
    replaced = (await harness.orders(old))[-1]
    assert (replaced.old_order_id, replaced.new_order_id) == (old, new)
    assert (replaced.new_qty, replaced.new_limit_price) == (300, D("24.95"))
    submitted = (await harness.orders(new))[0]
    assert submitted.kind == "trades.order.submitted"
    assert (submitted.qty, submitted.limit_price, submitted.intent_id) == (300, D("24.95"), "rp-1")
    everything = await harness.orders()
    positions = [i for i, e in enumerate(everything) if e.order_id in (old, new)]
    order_of = [everything[i].order_id + ":" + actions([everything[i]])[0] for i in positions]
    assert order_of.index(f"{old}:canceled") < order_of.index(f"{new}:submitted")

    registry = harness.registry()
    stored_old, stored_new = await registry.get(old), await registry.get(new)
    assert stored_old.status is OrderStatus.CANCELED and stored_old.replaced_by_order_id == new
    assert stored_new.replaces_order_id == old and stored_new.status is OrderStatus.WORKING

    await harness.publish(cancel_order(order_id=new, reason="done"))
    events = await harness.wait_kind(new, "canceled")
    assert actions(events)[-2:] == ["pending_cancel", "canceled"]
    assert (await registry.get(new)).status is OrderStatus.CANCELED


async def test_a_fill_during_the_replace_leaves_the_successor_the_rest(harness: Harness) -> None:
    """New total 300 with 100 filled before the cancel ack: the successor works 200."""
    await harness.start()
    await harness.show(quote(bid="24.80", ask="25.05", bid_size=1000, ask_size=1000))
    old = await working(harness, "rp-2")
    await harness.publish(trade_print(price="24.90", size=100))
    await harness.wait_kind(old, "partially_filled")
    await harness.publish(replace_order(order_id=old, qty=300, limit_price="24.85"))
    submitted = (await harness.wait_kind(f"{old}.r1", "submitted"))[0]
    assert submitted.qty == 200
    canceled = next(e for e in await harness.orders(old) if e.kind.endswith("canceled"))
    assert canceled.filled_qty == 100


async def test_replace_of_a_finished_order_is_refused_with_an_alert(harness: Harness) -> None:
    await harness.start()
    await harness.show(quote(bid="24.95", ask="25.05", bid_size=1000, ask_size=1000))
    old = await working(harness, "rp-3")
    await harness.publish(cancel_order(order_id=old))
    await harness.wait_kind(old, "canceled")
    await harness.publish(replace_order(order_id=old, qty=300, limit_price="24.95"))
    alerts = await eventually(lambda: harness.read("system.alert"), what="an alert")
    assert "refused: order CANCELED" in alerts[-1].message
    events = await harness.orders(old)
    assert actions(events)[-2:] == ["canceled", "cancel_rejected"]
    assert events[-1].status is OrderStatus.CANCELED
    assert "replace of" in events[-1].reason


async def test_an_intent_replacing_an_intent_waits_for_the_cancel_ack(harness: Harness) -> None:
    await harness.start()
    await harness.show(quote(bid="24.95", ask="25.05", bid_size=1000, ask_size=1000))
    old = await working(harness, "step-1")
    await harness.publish(
        intent(intent_id="step-2", qty=300, limit_price="24.93", replaces_intent_id="step-1")
    )
    new = order_id_for_intent("step-2")
    await harness.wait_kind(new, "working")
    assert actions(await harness.orders(old))[-3:] == ["pending_cancel", "canceled", "replaced"]
    canceled = (await harness.orders(old))[-2]
    assert canceled.reason == "canceled on request"
    replaced = (await harness.orders(old))[-1]
    assert (replaced.new_order_id, replaced.new_qty) == (new, 300)
    registry = harness.registry()
    assert (await registry.get(old)).replaced_by_order_id == new
    assert (await registry.get(new)).replaces_order_id == old


async def test_a_replacing_intent_is_denied_when_the_old_order_filled_first(
    harness: Harness,
) -> None:
    await harness.start()
    await harness.show(quote(bid="24.95", ask="25.05", bid_size=1000, ask_size=1000))
    old = await working(harness, "late-1", qty=100)
    await harness.publish(trade_print(price="24.90", size=100))
    await harness.wait_kind(old, "filled")
    await harness.publish(
        intent(intent_id="late-2", qty=100, limit_price="24.95", replaces_intent_id="late-1")
    )
    denied = (await harness.wait_kind(order_id_for_intent("late-2"), "denied"))[-1]
    assert denied.reason_code == "DENIED_REPLACED_ORDER_FILLED"


async def test_a_market_order_is_not_replaced(harness: Harness) -> None:
    """A reduce-only market SELL rests while no bid is displayed (the guard lets one lot of a
    reduce-only order through); a replace of it is refused and it keeps working."""
    await harness.start()
    await harness.show(quote(bid="24.95", ask="25.05", bid_size=0, ask_size=1000))
    market = intent(
        intent_id="mkt", side=Side.SELL, qty=100, order_type=OrderType.MARKET,
        limit_price=None, reduce_only=True,
    )  # fmt: skip
    await harness.publish(market)
    order_id = order_id_for_intent("mkt")
    await harness.wait_kind(order_id, "working")
    await harness.publish(replace_order(order_id=order_id, qty=100, limit_price="24.95"))
    alerts = await eventually(lambda: harness.read("system.alert"), what="an alert")
    assert "only LIMIT orders are replaced" in alerts[-1].message
    assert actions(await harness.orders(order_id)) == ["submitted", "accepted", "working"]


async def test_a_market_buy_with_no_ask_displayed_is_denied(harness: Harness) -> None:
    await harness.start()
    await harness.show(quote(bid="24.95", ask="25.05", bid_size=1000, ask_size=0))
    await harness.publish(
        intent(intent_id="mkt", qty=100, order_type=OrderType.MARKET, limit_price=None)
    )
    denied = (await harness.wait_kind(order_id_for_intent("mkt"), "denied"))[-1]
    assert denied.reason_code == "BELOW_MIN" and "DISPLAYED_CAP" in denied.reason
