"""Intents and requests: quantities, limit prices and the required risk evaluation."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kit.order_events import cancel_order, intent, replace_order, submit_order
from quantrail.vocab import Mode, OrderType, TimeInForce


def test_intent_defaults() -> None:
    made = intent()
    assert made.tif is TimeInForce.DAY
    assert (made.reduce_only, made.step, made.replaces_intent_id, made.urgency) == (
        False,
        0,
        None,
        "MEDIUM",
    )


def test_derisk_intent_carries_mode_step_and_replacement() -> None:
    made = intent(mode=Mode.HARD_DERISK, reduce_only=True, step=3, replaces_intent_id="int-0")
    assert (made.mode, made.step, made.replaces_intent_id) == (Mode.HARD_DERISK, 3, "int-0")


def test_limit_intent_needs_a_limit_price() -> None:
    with pytest.raises(ValueError, match="limit_price: required for a LIMIT order, got None"):
        intent(limit_price=None)


def test_market_intent_without_price_is_fine() -> None:
    assert intent(order_type=OrderType.MARKET, limit_price=None).limit_price is None


def test_intent_qty_and_step_are_checked() -> None:
    with pytest.raises(ValueError, match="qty: must be > 0 shares, got -100"):
        intent(qty=-100)
    with pytest.raises(ValueError, match="step: must be >= 0, got -1"):
        intent(step=-1)


def test_submit_order_requires_a_risk_evaluation() -> None:
    with pytest.raises(ValueError, match="evaluation_id: must not be empty, got ''"):
        submit_order(evaluation_id="")


def test_submit_order_keeps_the_seed_sizing_fields() -> None:
    order = submit_order(
        entry_price="25.01", stop_loss="24.51", risk_amount="50.00", risk_percent=0.5
    )
    # 100 shares x (25.01 - 24.51) = 50.00 at risk
    assert order.entry_price is not None and order.stop_loss is not None
    assert order.qty * (order.entry_price - order.stop_loss) == order.risk_amount
    assert order.risk_amount == Decimal("50.00")


def test_submit_order_refuses_a_negative_stop() -> None:
    with pytest.raises(ValueError, match="stop_loss: must be a finite price > 0, got -1"):
        submit_order(stop_loss="-1")


def test_cancel_needs_an_order_id() -> None:
    assert cancel_order("ord-7").order_id == "ord-7"
    with pytest.raises(ValueError, match="order_id: must not be empty"):
        cancel_order("")


def test_replace_states_full_new_terms() -> None:
    replace = replace_order(qty=200, limit_price="25.03")
    assert (replace.qty, replace.limit_price) == (200, Decimal("25.03"))
    with pytest.raises(ValueError, match="limit_price: must be a finite price > 0, got 0"):
        replace_order(limit_price="0")
