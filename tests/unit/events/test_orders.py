"""Order lifecycle contracts: status pinned per kind, fill arithmetic, replace terms."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kit.order_events import (
    order_accepted,
    order_canceled,
    order_denied,
    order_fields,
    order_filled,
    order_partially_filled,
    order_rejected,
    order_replaced,
    order_submitted,
)
from quantrail.events import (
    OrderAccepted,
    OrderEvent,
    OrderExpired,
    OrderFilled,
    OrderPendingCancel,
    OrderPendingReplace,
    OrderWorking,
)
from quantrail.vocab import OrderStatus, OrderType


@pytest.mark.parametrize(
    ("event_type", "status"),
    [
        (OrderAccepted, OrderStatus.ACCEPTED),
        (OrderWorking, OrderStatus.WORKING),
        (OrderExpired, OrderStatus.EXPIRED),
        (OrderPendingCancel, OrderStatus.PENDING_CANCEL),
        (OrderPendingReplace, OrderStatus.PENDING_REPLACE),
    ],
)
def test_status_defaults_to_the_kind(event_type: type[OrderEvent], status: OrderStatus) -> None:
    assert event_type(**order_fields()).status is status


def test_each_fixed_kind_reports_its_own_status() -> None:
    assert order_submitted().status is OrderStatus.SUBMITTED
    assert order_partially_filled().status is OrderStatus.PARTIALLY_FILLED
    assert order_filled().status is OrderStatus.FILLED
    assert order_canceled().status is OrderStatus.CANCELED
    assert order_rejected().status is OrderStatus.REJECTED
    assert order_denied().status is OrderStatus.DENIED


def test_a_status_that_contradicts_the_kind_is_refused() -> None:
    with pytest.raises(ValueError, match=r"status: must be ACCEPTED .* got WORKING"):
        order_accepted(status=OrderStatus.WORKING)


def test_partial_fill_leaves_the_rest_working() -> None:
    fill = order_partially_filled(qty=100, last_qty=40)
    assert (fill.cum_qty, fill.leaves_qty) == (40, 60)


def test_second_partial_fill_accumulates() -> None:
    fill = order_partially_filled(qty=300, last_qty=100, cum_qty=200, avg_price="25.015")
    assert (fill.last_qty, fill.cum_qty, fill.leaves_qty) == (100, 200, 100)
    assert fill.avg_price == Decimal("25.015")


def test_fill_quantities_must_add_up_to_the_order() -> None:
    with pytest.raises(ValueError, match=r"cum_qty 100 \+ leaves_qty 10 must equal qty 100"):
        order_filled(leaves_qty=10)


def test_full_fill_must_leave_nothing() -> None:
    with pytest.raises(ValueError, match="leaves_qty: must be 0 for a full fill, got 40"):
        order_filled(qty=100, last_qty=60, cum_qty=60, leaves_qty=40)


def test_partial_fill_must_leave_something() -> None:
    with pytest.raises(ValueError, match="leaves_qty: must be > 0 for a partial fill"):
        order_partially_filled(qty=100, last_qty=100)


def test_last_qty_cannot_exceed_cum_qty() -> None:
    with pytest.raises(ValueError, match="last_qty: must be <= cum_qty 50, got 60"):
        order_partially_filled(qty=100, last_qty=60, cum_qty=50)


@pytest.mark.parametrize("bad", ["0", "-25.01", "NaN", "Infinity"])
def test_fill_price_must_be_finite_and_positive(bad: str) -> None:
    with pytest.raises(ValueError, match="last_price: must be a finite price > 0"):
        order_filled(last_price=bad)


def test_zero_last_qty_is_refused() -> None:
    with pytest.raises(ValueError, match="last_qty: must be > 0 shares, got 0"):
        order_filled(last_qty=0)


def test_fees_can_be_a_rebate_but_not_nan() -> None:
    assert order_filled(fees="-0.20").fees == Decimal("-0.20")
    with pytest.raises(ValueError, match="fees: must be a finite amount, got NaN"):
        order_filled(fees="NaN")


def test_market_order_events_carry_no_limit_price() -> None:
    fill = order_filled(order_type=OrderType.MARKET, limit_price=None)
    assert fill.limit_price is None
    with pytest.raises(ValueError, match=r"must be None for a MARKET order, got 25\.01"):
        order_working(order_type=OrderType.MARKET)


def order_working(**overrides: object) -> OrderWorking:
    return OrderWorking(**order_fields(**overrides))


def test_rejection_and_denial_need_a_reason() -> None:
    with pytest.raises(ValueError, match="reason: must not be empty"):
        order_rejected(reason="")
    with pytest.raises(ValueError, match="reason: must not be empty"):
        order_denied(reason="")


def test_cancel_records_what_had_filled() -> None:
    assert order_canceled(filled_qty=40).filled_qty == 40
    with pytest.raises(ValueError, match=r"filled_qty: must be in \[0, qty 100\), got 100"):
        order_canceled(filled_qty=100)


def test_replaced_names_old_and_new_orders_and_terms() -> None:
    replaced = order_replaced(new_qty=200, new_limit_price="25.03")
    assert (replaced.old_order_id, replaced.new_order_id) == ("ord-1", "ord-2")
    assert (replaced.new_qty, replaced.new_limit_price) == (200, Decimal("25.03"))
    assert replaced.status is OrderStatus.WORKING


def test_replaced_old_order_must_be_this_order() -> None:
    with pytest.raises(ValueError, match="old_order_id: must equal order_id 'ord-1', got 'ord-9'"):
        order_replaced(old_order_id="ord-9")


def test_replaced_cannot_be_terminal() -> None:
    with pytest.raises(ValueError, match="status: a replacement is live, got terminal FILLED"):
        order_replaced(status=OrderStatus.FILLED)


def test_float_money_is_refused_at_construction() -> None:
    with pytest.raises(TypeError, match=r"last_price: must be a Decimal, got 25.01 \(float\)"):
        order_filled(last_price=25.01)


def test_order_qty_must_be_positive() -> None:
    with pytest.raises(ValueError, match="qty: must be > 0 shares, got 0"):
        order_submitted(qty=0)


def test_fill_classification_defaults_empty_for_the_ledger_to_fill() -> None:
    fill = order_filled()
    assert fill.classification == ""
    assert isinstance(fill, OrderFilled)
    assert order_filled(classification="LT_LONG_INCREASE").classification == "LT_LONG_INCREASE"
