"""The order model: fields checked, fills exact, overfill and duplicates refused, storage."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kit.orders import T0, new_order, working_order
from quantrail.execution.order import (
    Order,
    OverfillError,
    order_id_for_intent,
    replacement_id,
)
from quantrail.execution.state_machine import InvalidTransition
from quantrail.vocab import Mode, OrderStatus, OrderType, Side, TimeInForce

S = OrderStatus
D = Decimal


def test_a_new_order_defaults() -> None:
    order = new_order()
    assert order.status is S.NEW
    assert order.client_order_id == "O-1"
    assert order.updated_ns == T0
    assert (order.filled_qty, order.leaves_qty, order.unfilled_qty) == (0, 1000, 1000)
    assert order.avg_fill_price is None
    assert order.fees == D("0")


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"qty": 0}, "qty"),
        ({"qty": -5}, "qty"),
        ({"qty": True}, "qty"),
        ({"qty": 10.5}, "qty"),
        ({"limit_price": None}, "limit_price"),
        ({"limit_price": D("0")}, "limit_price"),
        ({"limit_price": D("NaN")}, "limit_price"),
        ({"order_type": OrderType.MARKET}, "limit_price"),
        ({"symbol": ""}, "symbol"),
        ({"account": ""}, "account"),
        ({"order_id": ""}, "order_id"),
        ({"side": "BUY"}, "side"),
        ({"filled_qty": 1001}, "filled_qty"),
        ({"filled_qty": 10}, "filled_notional"),
        ({"created_ns": -1}, "created_ns"),
        ({"replace_price": D("10.01")}, "replace_price"),
    ],
)
def test_bad_fields_are_refused_naming_the_field(overrides: dict[str, object], field: str) -> None:
    with pytest.raises(ValueError, match=rf"^{field}: "):
        new_order(**overrides)


def test_partial_fills_keep_the_average_price_exact() -> None:
    order = working_order(qty=400)
    assert order.apply_fill("F1", 100, D("10.00"), D("0.35"), T0 + 10)
    assert order.status is S.PARTIALLY_FILLED
    assert order.apply_fill("F2", 200, D("10.03"), D("0.70"), T0 + 20)
    assert order.status is S.PARTIALLY_FILLED
    assert order.leaves_qty == 100
    assert order.apply_fill("F3", 100, D("10.05"), D("0.35"), T0 + 30)
    # 100*10.00 + 200*10.03 + 100*10.05 = 1000.00 + 2006.00 + 1005.00 = 4011.00; / 400 = 10.0275
    assert order.status is S.FILLED
    assert order.filled_notional == D("4011.00")
    assert order.avg_fill_price == D("10.0275")
    assert order.fees == D("1.40")
    assert order.leaves_qty == 0
    assert order.updated_ns == T0 + 30
    assert order.fill_ids == ["F1", "F2", "F3"]


def test_a_repeating_average_is_derived_from_the_exact_notional() -> None:
    order = working_order(qty=3)
    order.apply_fill("F1", 1, D("10.00"), D("0"), T0 + 1)
    order.apply_fill("F2", 2, D("10.01"), D("0"), T0 + 2)
    assert order.filled_notional == D("30.02")  # 10.00 + 2 * 10.01
    assert order.avg_fill_price == D("10.00666666666666666666666667")


def test_overfill_is_refused_and_changes_nothing() -> None:
    order = working_order()
    order.apply_fill("F1", 300, D("10.00"), D("1.05"), T0 + 1)
    with pytest.raises(OverfillError, match=r"^qty: fill 'F2' of 800 shares exceeds the 700"):
        order.apply_fill("F2", 800, D("10.00"), D("2.80"), T0 + 2)
    assert (order.filled_qty, order.status, order.fees) == (300, S.PARTIALLY_FILLED, D("1.05"))
    assert order.fill_ids == ["F1"]


def test_a_duplicate_fill_id_is_a_no_op() -> None:
    order = working_order()
    assert order.apply_fill("F1", 300, D("10.00"), D("1.05"), T0 + 1)
    assert not order.apply_fill("F1", 300, D("10.00"), D("1.05"), T0 + 2)
    assert (order.filled_qty, order.fees, order.updated_ns) == (300, D("1.05"), T0 + 1)


def test_a_duplicate_fill_after_the_order_filled_is_still_a_no_op() -> None:
    order = working_order(qty=100)
    order.apply_fill("F1", 100, D("10.00"), D("0.35"), T0 + 1)
    assert not order.apply_fill("F1", 100, D("10.00"), D("0.35"), T0 + 2)
    assert order.status is S.FILLED


@pytest.mark.parametrize(
    ("qty", "price", "fee", "field"),
    [(0, D("10"), D("0"), "qty"), (1, D("-1"), D("0"), "price"), (1, D("10"), D("Inf"), "fee")],
)
def test_bad_fill_values_are_refused(qty: int, price: Decimal, fee: Decimal, field: str) -> None:
    with pytest.raises(ValueError, match=rf"^{field}: "):
        working_order().apply_fill("F1", qty, price, fee, T0)


def test_a_fill_on_a_new_or_canceled_order_raises() -> None:
    with pytest.raises(InvalidTransition, match="NEW -> PARTIALLY_FILLED"):
        new_order().apply_fill("F1", 10, D("10.00"), D("0.35"), T0)
    canceled = working_order()
    canceled.move_to(S.CANCELED, T0 + 5)
    with pytest.raises(InvalidTransition, match="CANCELED -> PARTIALLY_FILLED"):
        canceled.apply_fill("F1", 10, D("10.00"), D("0.35"), T0 + 6)
    assert canceled.filled_qty == 0


def test_leaves_qty_is_zero_once_terminal_but_fills_are_kept() -> None:
    order = working_order()
    order.apply_fill("F1", 300, D("10.00"), D("1.05"), T0 + 1)
    order.move_to(S.CANCELED, T0 + 2)
    assert (order.leaves_qty, order.unfilled_qty, order.filled_qty) == (0, 700, 300)
    assert not order.is_open


def test_a_late_ack_records_the_venue_id_only() -> None:
    order = new_order()
    order.move_to(S.SUBMITTED, T0)
    order.apply_fill("F1", 1000, D("10.00"), D("3.50"), T0 + 1)  # the fill overtook the ack
    assert not order.accept("V-9", T0 + 2)
    assert (order.status, order.venue_order_id) == (S.FILLED, "V-9")


def test_an_ack_with_a_different_venue_id_is_refused() -> None:
    order = working_order()
    with pytest.raises(ValueError, match=r"^venue_order_id: "):
        order.accept("OTHER", T0 + 5)


def test_an_ack_on_a_rejected_order_raises() -> None:
    order = new_order()
    order.move_to(S.REJECTED, T0)
    with pytest.raises(InvalidTransition, match="REJECTED -> ACCEPTED"):
        order.accept("V-1", T0 + 1)


def test_replace_needs_a_total_above_what_filled() -> None:
    order = working_order()
    order.apply_fill("F1", 300, D("10.00"), D("1.05"), T0 + 1)
    with pytest.raises(ValueError, match=r"^new_qty: 300 is not above the 300 already filled"):
        order.request_replace(300, D("10.01"), T0 + 2)
    assert order.status is S.PARTIALLY_FILLED
    market = working_order(order_type=OrderType.MARKET, limit_price=None)
    with pytest.raises(ValueError, match=r"^order_type: only LIMIT"):
        market.request_replace(1000, D("10.01"), T0 + 2)


def test_to_dict_has_only_strings_and_round_trips_a_fresh_order() -> None:
    order = new_order(order_type=OrderType.MARKET, limit_price=None, tif=TimeInForce.IOC)
    stored = order.to_dict()
    assert all(isinstance(key, str) and isinstance(value, str) for key, value in stored.items())
    assert stored["limit_price"] == ""
    assert stored["avg_fill_price"] == ""
    assert Order.from_dict(stored) == order
    assert Order.from_dict(stored).to_dict() == stored


def test_to_dict_round_trips_an_order_mid_life() -> None:
    order = working_order(side=Side.SELL, reduce_only=True, mode=Mode.SOFT_DERISK)
    order.apply_fill("F1", 1, D("10.00"), D("0.35"), T0 + 1)
    order.apply_fill("F,2", 2, D("10.01"), D("0.0035"), T0 + 2)
    order.request_replace(900, D("10.0100"), T0 + 3)
    stored = order.to_dict()
    assert stored["filled_notional"] == "30.02"
    assert stored["replace_price"] == "10.0100"
    assert stored["reduce_only"] == "true"
    back = Order.from_dict(stored)
    assert back == order
    assert back.replace_price is not None and str(back.replace_price) == "10.0100"
    assert back.to_dict() == stored


def test_from_dict_names_the_bad_or_unknown_field() -> None:
    stored = new_order().to_dict()
    with pytest.raises(ValueError, match=r"^qty: cannot read 'ten'"):
        Order.from_dict({**stored, "qty": "ten"})
    with pytest.raises(ValueError, match=r"^status: cannot read 'DONE'"):
        Order.from_dict({**stored, "status": "DONE"})
    with pytest.raises(ValueError, match=r"^colour: unknown order field"):
        Order.from_dict({**stored, "colour": "red"})
    missing = {key: value for key, value in stored.items() if key != "symbol"}
    with pytest.raises(ValueError, match=r"^symbol: missing"):
        Order.from_dict(missing)


def test_from_dict_fills_defaults_for_fields_added_later() -> None:
    stored = new_order().to_dict()
    del stored["mode"], stored["fill_ids"]
    back = Order.from_dict(stored)
    assert (back.mode, back.fill_ids) == (Mode.NORMAL, [])


def test_the_same_intent_gives_the_same_order_id() -> None:
    first = order_id_for_intent("intent-abc")
    assert first == order_id_for_intent("intent-abc")
    assert first != order_id_for_intent("intent-abd")
    assert first.startswith("O") and len(first) == 25
    with pytest.raises(ValueError, match=r"^intent_id: "):
        order_id_for_intent("")


def test_replacement_ids_count_up() -> None:
    assert replacement_id("O-1") == "O-1.r1"
    assert replacement_id("O-1.r1") == "O-1.r2"
    assert replacement_id("O-1.r9") == "O-1.r10"
