"""An order restates its fills when the venue corrects one: totals move, the status does not."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kit.orders import T0, new_order
from quantrail.execution.order import Order, OverfillError
from quantrail.execution.venues.base import (
    Liquidity,
    VenueFill,
    VenueFillCorrected,
    apply_report,
)
from quantrail.vocab import OrderStatus, Side

D = Decimal


def _filled() -> Order:
    """1,000 XYZ bought as 600 @ 10.00 (fee 3.00) and 400 @ 10.01 (fee 2.00)."""
    order = new_order()
    order.move_to(OrderStatus.SUBMITTED, T0)
    order.apply_fill("E.01", 600, D("10.00"), D("3.00"), T0)
    order.apply_fill("F.01", 400, D("10.01"), D("2.00"), T0)
    return order


def _fill(fill_id: str, qty: int, price: str, fee: str) -> VenueFill:
    return VenueFill(
        order_id="O-1", venue_order_id="1", fill_id=fill_id, symbol="XYZ", side=Side.BUY,
        qty=qty, price=D(price), fee=D(fee), liquidity=Liquidity.TAKER, ts_ns=T0,
    )  # fmt: skip


def _correction(qty: int = 600, price: str = "9.99", fee: str = "3.10") -> VenueFillCorrected:
    return VenueFillCorrected(
        order_id="O-1", fill_id="E.01", previous=_fill("E.01", 600, "10.00", "3.00"),
        corrected=_fill("E.02", qty, price, fee), ts_ns=T0 + 1,
    )  # fmt: skip


def test_a_price_correction_moves_the_average_and_fees_once() -> None:
    order = _filled()
    applied = apply_report(order, _correction())
    assert applied.transitions == (OrderStatus.FILLED,)  # one event, the status unchanged
    # (600 x 9.99 + 400 x 10.01) / 1000 = 9.998; fees 3.10 + 2.00
    assert (order.filled_qty, order.avg_fill_price, order.fees) == (1000, D("9.998"), D("5.10"))
    assert order.fill_ids == ["E.01", "F.01", "E.02"]
    assert not apply_report(order, _correction()).changed  # a repeat changes nothing
    assert order.fees == D("5.10")


def test_a_quantity_correction_moves_the_filled_total_within_the_order() -> None:
    order = _filled()
    apply_report(order, _correction(qty=500, price="10.00", fee="2.50"))
    assert (order.status, order.filled_qty, order.leaves_qty) == (OrderStatus.FILLED, 900, 0)
    with pytest.raises(OverfillError):
        apply_report(_filled(), _correction(qty=700))


def test_a_correction_of_a_fill_the_order_never_had_is_refused() -> None:
    order = new_order()
    order.move_to(OrderStatus.SUBMITTED, T0)
    with pytest.raises(ValueError, match="fill_id"):
        apply_report(order, _correction())
    with pytest.raises(ValueError, match="side"):
        VenueFillCorrected(
            order_id="O-1", fill_id="E.01", previous=_fill("E.01", 600, "10.00", "3.00"),
            corrected=_sold(), ts_ns=T0,
        )  # fmt: skip


def _sold() -> VenueFill:
    return VenueFill(
        order_id="O-1", venue_order_id="1", fill_id="E.02", symbol="XYZ", side=Side.SELL,
        qty=600, price=D("9.99"), fee=D("3.10"), liquidity=Liquidity.TAKER, ts_ns=T0,
    )  # fmt: skip
