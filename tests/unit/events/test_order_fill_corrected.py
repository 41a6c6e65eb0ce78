"""``trades.order.fill_corrected``: names the fill and its correction, carries both values."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kit.order_events import order_fill_corrected
from quantrail.events import OrderFill, default_codec
from quantrail.vocab import OrderStatus


def test_it_round_trips_and_is_not_a_fill() -> None:
    event = order_fill_corrected()
    back = default_codec().decode(default_codec().encode(event))
    assert back == event and not isinstance(back, OrderFill)
    assert (back.previous_price, back.last_price) == (Decimal("25.01"), Decimal("25.03"))
    assert back.status is OrderStatus.FILLED  # the order's status, unchanged


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"correction_id": "fill-1"}, "correction_id"),
        ({"last_qty": 0}, "last_qty"),
        ({"previous_price": "0"}, "previous_price"),
        ({"cum_qty": 50}, "cum_qty"),
    ],
)
def test_bad_values_are_refused_naming_the_field(overrides: dict[str, object], field: str) -> None:
    with pytest.raises(ValueError, match=field):
        order_fill_corrected(**overrides)
