"""An intent through the execution service to fills, on both transports, with market data."""

from __future__ import annotations

from decimal import Decimal

from integration.execution.harness import Harness, actions
from kit.event_base import ACCOUNT
from kit.market_events import quote, trade_print
from kit.order_events import intent
from quantrail.execution.order import order_id_for_intent
from quantrail.vocab import OrderStatus, Side

D = Decimal


async def test_resting_limit_is_worked_then_filled_by_prints(harness: Harness) -> None:
    """BUY 400 @ 25.01 rests under a 25.02 ask; prints at or through 25.01 fill it at 25.01.

    Fees 0.0035/share, 0.35 minimum: after 100 shares cents(max(0.35, 0.35)) = 0.35; after 400,
    cents(1.40) = 1.40, so the second fill carries 1.40 - 0.35 = 1.05.
    """
    service = await harness.start()
    oid = order_id_for_intent("buy-1")
    await harness.show(quote(bid="25.00", ask="25.02", bid_size=1000, ask_size=1000))
    await harness.publish(intent(intent_id="buy-1", side=Side.BUY, qty=400, limit_price="25.01"))
    events = await harness.wait_kind(oid, "working")
    assert actions(events) == ["submitted", "accepted", "working"]
    submitted = events[0]
    assert (submitted.account, submitted.symbol, submitted.qty) == (ACCOUNT, "ACME", 400)
    assert submitted.limit_price == D("25.01") and submitted.intent_id == "buy-1"
    assert events[1].venue_order_id == f"SIM-{oid}" and events[1].venue == "simulated"

    await harness.publish(trade_print(price="25.01", size=100))
    events = await harness.wait_kind(oid, "partially_filled")
    partial = events[-1]
    assert partial.fill_id == f"SIM-{oid}-F1"
    assert (partial.last_qty, partial.last_price, partial.fees) == (100, D("25.01"), D("0.35"))
    assert (partial.cum_qty, partial.leaves_qty, partial.avg_price) == (100, 300, D("25.01"))
    assert partial.liquidity == "MAKER"
    assert partial.classification == "LT_LONG_INCREASE"  # +100 on a 500 LT long

    await harness.publish(trade_print(price="25.00", size=500))
    events = await harness.wait_kind(oid, "filled")
    assert actions(events) == ["submitted", "accepted", "working", "partially_filled", "filled"]
    filled = events[-1]
    assert filled.fill_id == f"SIM-{oid}-F2"
    assert (filled.last_qty, filled.last_price, filled.fees) == (300, D("25.01"), D("1.05"))
    assert (filled.cum_qty, filled.leaves_qty, filled.avg_price) == (400, 0, D("25.01"))
    assert sum(e.fees for e in events[3:]) == D("1.40")
    assert filled.classification == "LT_LONG_INCREASE"
    assert [e.ts_event for e in events] == sorted(e.ts_event for e in events)

    stored = await harness.registry().get(oid)
    assert stored.status is OrderStatus.FILLED and stored.fees == D("1.40")
    assert stored.fill_ids == [f"SIM-{oid}-F1", f"SIM-{oid}-F2"]
    assert service.pretrade.position(ACCOUNT, "ACME") == 500 + 400
    assert service.open_orders() == []


async def test_marketable_order_takes_the_touch(harness: Harness) -> None:
    """BUY 200 limit 25.02 against a 25.02 ask of 1,000: one TAKER fill of 200 at 25.02,
    fee cents(max(200 x 0.0035, 0.35)) = 0.70."""
    service = await harness.start()
    oid = order_id_for_intent("take-1")
    await harness.show(quote(bid="25.00", ask="25.02", bid_size=1000, ask_size=1000))
    await harness.publish(intent(intent_id="take-1", qty=200, limit_price="25.02"))
    events = await harness.wait_kind(oid, "filled")
    assert actions(events) == ["submitted", "accepted", "working", "filled"]
    filled = events[-1]
    assert (filled.last_qty, filled.last_price, filled.fees) == (200, D("25.02"), D("0.70"))
    assert filled.liquidity == "TAKER" and filled.fill_id == f"SIM-{oid}-F1"
    assert service.pretrade.position(ACCOUNT, "ACME") == 700


async def test_the_same_intent_twice_makes_one_order(harness: Harness) -> None:
    """Redelivered (same event) and re-sent (new event, same intent id): one order."""
    await harness.start()
    oid = order_id_for_intent("dup-1")
    first = intent(intent_id="dup-1", qty=100, limit_price="24.00")
    again = intent(intent_id="dup-1", qty=100, limit_price="24.00")
    assert first.event_id != again.event_id
    await harness.show(quote(bid_size=1000, ask_size=1000))
    await harness.publish(first, first, again)
    await harness.wait_kind(oid, "working")
    await harness.publish(intent(intent_id="after-dup", qty=100, limit_price="23.00"))
    await harness.wait_kind(order_id_for_intent("after-dup"), "working")
    events = await harness.orders(oid)
    assert actions(events) == ["submitted", "accepted", "working"]
    assert await harness.registry().order_id_for_intent("dup-1") == oid
    assert [o.order_id for o in await harness.registry().orders_for_symbol("ACME")] == [
        oid,
        order_id_for_intent("after-dup"),
    ]


async def test_a_fill_crossing_zero_is_classified_as_two_legs(harness: Harness) -> None:
    """SELL 800 against the 500 LT long, marketable at the 25.00 bid of 2,000 (the guard lets
    half the displayed size through): one fill that decreases the long to flat and opens a 300
    short."""
    await harness.start()
    oid = order_id_for_intent("sell-cross")
    await harness.show(quote(bid="25.00", ask="25.02", bid_size=2000, ask_size=2000))
    await harness.publish(
        intent(intent_id="sell-cross", side=Side.SELL, qty=800, limit_price="25.00")
    )
    events = await harness.wait_kind(oid, "filled")
    assert events[-1].last_qty == 800
    assert events[-1].classification == "LT_LONG_DECREASE+LT_SHORT_INCREASE"
