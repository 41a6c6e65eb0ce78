"""The gate and the LiquidityGuard on the order path: denials and resizes are events."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from integration.execution.harness import Harness, actions
from kit.event_base import ACCOUNT
from kit.market_events import quote
from kit.order_events import intent, submit_order
from kit.poll import eventually
from kit.risk_events import risk_evaluation
from quantrail.events import RiskModeChanged
from quantrail.execution.order import order_id_for_intent
from quantrail.vocab import Mode, OrderStatus, Side


async def test_throttle_denies_an_increasing_intent_and_passes_a_reducing_one(
    harness: Harness,
) -> None:
    """ACC1 is 500 ACME long. In THROTTLE_NEW_ORDERS a BUY adds exposure: denied, stored
    DENIED; a SELL of 100 reduces it: submitted."""
    service = await harness.start()
    await harness.show(quote(bid_size=1000, ask_size=1000))
    throttle = RiskModeChanged(
        ts_event=1, account=ACCOUNT, previous_mode=Mode.NORMAL,
        mode=Mode.THROTTLE_NEW_ORDERS, reason="POTENTIAL_ABOVE_TOLERANCE",
    )  # fmt: skip
    await harness.publish(throttle)
    await eventually(lambda: service.pretrade.mode(ACCOUNT), lambda m: m != Mode.NORMAL)
    await harness.publish(intent(intent_id="up", side=Side.BUY, qty=100, limit_price="24.00"))
    await harness.publish(intent(intent_id="down", side=Side.SELL, qty=100, limit_price="26.00"))

    up, down = order_id_for_intent("up"), order_id_for_intent("down")
    denied = (await harness.wait_kind(up, "denied"))[-1]
    assert denied.reason_code == "DENIED_INCREASES_EXPOSURE"
    assert "THROTTLE_NEW_ORDERS" in denied.reason and denied.status is OrderStatus.DENIED
    assert actions(await harness.wait_kind(down, "working")) == [
        "submitted",
        "accepted",
        "working",
    ]
    stored = await harness.registry().get(up)
    assert stored.status is OrderStatus.DENIED
    assert await harness.registry().open_orders(ACCOUNT) == [await harness.registry().get(down)]


async def test_a_submit_request_passes_the_same_gate(harness: Harness) -> None:
    """``trades.request.submit`` is an order path too: a reduce-only BUY against a long
    position would increase it and is denied, approval or not."""
    await harness.start()
    await harness.show(quote(bid_size=1000, ask_size=1000))
    await harness.publish(risk_evaluation())  # eval-1: LONG up to 400, so the gate decides
    request = submit_order(request_id="r-9", intent_id="", qty=100, reduce_only=True)
    await harness.publish(request)
    denied = (await harness.wait_kind(order_id_for_intent("r-9"), "denied"))[-1]
    assert denied.reason_code == "DENIED_REDUCE_ONLY_INCREASES"
    assert "position 500" in denied.reason


async def test_liquidity_guard_resizes_and_denies_with_reasons(harness: Harness) -> None:
    """Ask size 300, max_displayed_fraction 0.5: a cap of 150 shares, cut to the 100 lot.
    BUY 400 -> RESIZE to 100 (audited, submitted at 100); BUY 40 -> 0 lots -> BELOW_MIN."""
    await harness.start()
    await harness.show(quote(bid_size=500, ask_size=300))
    await harness.publish(intent(intent_id="big", qty=400, limit_price="24.00"))
    await harness.publish(intent(intent_id="odd", qty=40, limit_price="24.00"))
    big, odd = order_id_for_intent("big"), order_id_for_intent("odd")

    submitted = (await harness.wait_kind(big, "working"))[0]
    assert submitted.qty == 100
    denied = (await harness.wait_kind(odd, "denied"))[-1]
    assert denied.reason_code == "BELOW_MIN" and "ROUND_LOT" in denied.reason

    audits = await eventually(
        lambda: harness.read("audit.decision"), lambda a: len(a) == 2, what="two audits"
    )
    resize, deny = audits
    assert resize.decision_type == "liquidity_guard" and resize.account == ACCOUNT
    assert resize.output["action"] == "RESIZE" and resize.output["qty"] == 100
    assert [r["code"] for r in resize.output["reasons"]] == ["DISPLAYED_CAP", "ROUND_LOT"]
    assert deny.output["action"] == "DENY" and deny.output["requested_qty"] == 40
    assert (await harness.registry().get(big)).qty == 100


async def test_no_quote_means_nothing_displayed_and_the_order_is_denied(harness: Harness) -> None:
    await harness.start()
    await harness.publish(intent(intent_id="blind", symbol="ZZZ", qty=100, limit_price="5.00"))
    denied = (await harness.wait_kind(order_id_for_intent("blind"), "denied"))[-1]
    assert denied.reason_code == "BELOW_MIN" and "DISPLAYED_CAP" in denied.reason


async def test_rate_limit_denies_a_second_order_too_soon(
    make_harness: Callable[..., Harness],
) -> None:
    harness = make_harness(min_interval_s=3600)
    try:
        await harness.start()
        await harness.show(quote(bid_size=1000, ask_size=1000))
        await harness.publish(intent(intent_id="first", qty=100, limit_price="24.00"))
        await harness.wait_kind(order_id_for_intent("first"), "working")
        await harness.publish(intent(intent_id="second", qty=100, limit_price="24.00"))
        denied = (await harness.wait_kind(order_id_for_intent("second"), "denied"))[-1]
        assert denied.reason_code == "RATE_LIMIT"
    finally:
        await harness.close()


async def test_an_intent_without_account_is_denied_by_name(harness: Harness) -> None:
    await harness.start()
    await harness.show(quote(bid_size=1000, ask_size=1000))
    await harness.publish(intent(intent_id="nobody", account=None, qty=100))
    denied: Any = (await harness.wait_kind(order_id_for_intent("nobody"), "denied"))[-1]
    assert denied.reason_code == "DENIED_INVALID_ORDER"
    assert denied.reason.startswith("account:")
    assert await harness.registry().get(order_id_for_intent("nobody")) is None
