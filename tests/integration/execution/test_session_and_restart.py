"""DAY orders expire at POST; a restarted service reloads its orders from the registry."""

from __future__ import annotations

from decimal import Decimal

from integration.execution.harness import Harness, actions
from kit.event_base import SESSION_CLOSE_NS, T0
from kit.market_events import quote, session_clock, trade_print
from kit.order_events import intent
from kit.poll import eventually
from quantrail.execution.order import order_id_for_intent
from quantrail.execution.venues import VenueExpired
from quantrail.vocab import OrderStatus, Phase, TimeInForce

D = Decimal


async def test_day_orders_expire_at_post_and_gtc_orders_stay(harness: Harness) -> None:
    service = await harness.start()
    await harness.show(quote(bid="24.95", ask="25.05", bid_size=1000, ask_size=1000))
    await harness.publish(
        intent(intent_id="day", qty=100, limit_price="24.90"),
        intent(intent_id="gtc", qty=100, limit_price="24.80", tif=TimeInForce.GTC),
    )
    day, gtc = order_id_for_intent("day"), order_id_for_intent("gtc")
    await harness.wait_kind(gtc, "working")
    await harness.publish(session_clock(phase=Phase.LATE, minutes_to_close=10))
    await harness.publish(session_clock(phase=Phase.POST, minutes_to_close=0))
    events = await harness.wait_kind(day, "expired")
    assert actions(events) == ["submitted", "accepted", "working", "expired"]
    assert [o.order_id for o in service.open_orders()] == [gtc]
    assert (await harness.registry().get(day)).status is OrderStatus.EXPIRED


async def test_a_post_tick_of_an_older_session_expires_nothing(harness: Harness) -> None:
    service = await harness.start()
    await harness.show(quote(bid="24.95", ask="25.05", bid_size=1000, ask_size=1000))
    await harness.publish(intent(intent_id="today", qty=100, limit_price="24.90"))
    today = order_id_for_intent("today")
    await harness.wait_kind(today, "working")
    yesterday = SESSION_CLOSE_NS - 86_400 * 10**9
    await harness.publish(
        session_clock(phase=Phase.POST, close_ns=yesterday, open_ns=T0 - 86_400 * 10**9)
    )
    await harness.publish(intent(intent_id="marker", qty=100, limit_price="24.80"))
    await harness.wait_kind(order_id_for_intent("marker"), "working")
    assert today in [o.order_id for o in service.open_orders()]


async def test_restart_mid_order_reloads_it_and_a_later_print_fills_it(harness: Harness) -> None:
    await harness.start()
    await harness.show(quote(bid="24.95", ask="25.05", bid_size=1000, ask_size=1000))
    await harness.publish(intent(intent_id="survivor", qty=400, limit_price="24.90"))
    oid = order_id_for_intent("survivor")
    await harness.wait_kind(oid, "working")
    await harness.publish(trade_print(price="24.90", size=100))
    await harness.wait_kind(oid, "partially_filled")
    await harness.stop()

    service = await harness.start()  # a new service; its new venue restores the order
    assert [o.order_id for o in service.open_orders()] == [oid]
    assert service.pretrade.position("ACC1", "ACME") == 600
    await harness.publish(trade_print(price="24.85", size=1000))
    events = await harness.wait_kind(oid, "filled")
    assert actions(events) == ["submitted", "accepted", "working", "partially_filled", "filled"]
    first, last = events[3], events[4]
    assert first.fill_id == f"SIM-{oid}-F1" and last.fill_id == f"SIM-{oid}-F2"
    # 100 then 300 at 24.90: cents(max(0.35, 0.35)) = 0.35, then the order's total
    # cents(max(400 x 0.0035, 0.35)) = 1.40 less the 0.35 paid; 1.40 in all, as without a restart.
    assert (last.last_qty, last.cum_qty, last.leaves_qty, last.fees) == (300, 400, 0, D("1.05"))
    stored = await harness.registry().get(oid)
    assert stored.status is OrderStatus.FILLED and stored.fees == D("1.40")
    assert service.pretrade.position("ACC1", "ACME") == 900
    # The same intent again makes nothing; a new one does (once a quote shows size again).
    await harness.show(quote(bid="24.95", ask="25.05", bid_size=1000, ask_size=1000))
    await harness.publish(intent(intent_id="survivor", qty=400, limit_price="24.90"))
    await harness.publish(intent(intent_id="after", qty=100, limit_price="24.00"))
    await harness.wait_kind(order_id_for_intent("after"), "working")
    assert len([e for e in await harness.orders(oid) if e.kind.endswith("submitted")]) == 1


async def test_a_report_the_state_table_refuses_is_alerted_and_not_applied(
    harness: Harness,
) -> None:
    service = await harness.start()
    await harness.show(quote(bid="24.95", ask="25.05", bid_size=1000, ask_size=1000))
    await harness.publish(intent(intent_id="done", qty=100, limit_price="25.05"))
    oid = order_id_for_intent("done")
    await harness.wait_kind(oid, "filled")
    late = VenueExpired(order_id=oid, venue_order_id=f"SIM-{oid}", ts_ns=T0 + 10**9)
    await service.flow.apply(late)
    alerts = await eventually(lambda: harness.read("system.alert"), what="an alert")
    assert alerts[-1].severity == "ERROR"
    assert "invalid transition FILLED -> EXPIRED" in alerts[-1].message
    assert (await harness.registry().get(oid)).status is OrderStatus.FILLED
    assert actions(await harness.orders(oid))[-1] == "filled"
