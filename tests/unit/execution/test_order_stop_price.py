"""``Order.stop_price``: an exit's stop level, carried to the venue, stored and replaced."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kit.orders import new_order
from quantrail.execution.order import Order
from quantrail.vocab import OrderStatus


def test_stop_price_survives_storage_and_defaults_to_none() -> None:
    order = new_order(stop_price=Decimal("9.80"))
    assert Order.from_dict(order.to_dict()).stop_price == Decimal("9.80")
    stored = new_order().to_dict()
    stored.pop("stop_price")  # an order stored before the field existed
    assert Order.from_dict(stored).stop_price is None


def test_a_replacement_keeps_the_stop() -> None:
    order = new_order(stop_price=Decimal("9.80"))
    for status in (OrderStatus.SUBMITTED, OrderStatus.ACCEPTED, OrderStatus.WORKING):
        order.move_to(status, 1)
    order.request_replace(1000, Decimal("9.90"), 2)
    successor = order.confirm_cancel(3)
    assert successor is not None and successor.stop_price == Decimal("9.80")


def test_a_bad_stop_is_refused() -> None:
    with pytest.raises(ValueError, match="stop_price: must be a finite Decimal price > 0"):
        new_order(stop_price=Decimal("0"))
