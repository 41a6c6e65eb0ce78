from __future__ import annotations

from decimal import Decimal

import pytest

from quantrail.ledger.lots import Lot, Origin, close_lots, open_pnl
from quantrail.vocab import Bucket


def lot(lot_id: str, origin: Origin, qty: int, price: str, ts: int) -> Lot:
    return Lot(lot_id, "XYZ", origin, Bucket.LT, qty, Decimal(price), ts)


def test_intraday_lots_close_first_in_booking_order_then_baseline() -> None:
    # The second intraday lot carries an EARLIER timestamp: FIFO follows booking order.
    lots = [
        lot("B:XYZ", Origin.BASELINE, 1000, "25.00", 0),
        lot("F:a", Origin.INTRADAY, 100, "25.10", 20),
        lot("F:b", Origin.INTRADAY, 100, "25.20", 10),
    ]

    left, closes = close_lots(lots, 250, Decimal("25.40"))

    assert [(c.lot_id, c.qty, c.realized) for c in closes] == [
        ("F:a", 100, Decimal("30.00")),  # (25.40 - 25.10) x 100
        ("F:b", 100, Decimal("20.00")),  # (25.40 - 25.20) x 100
        ("B:XYZ", 50, Decimal("20.00")),  # (25.40 - 25.00) x 50
    ]
    assert [(x.lot_id, x.qty) for x in left] == [("B:XYZ", 950)]
    assert [(c.qty_open_before, c.qty_open_after) for c in closes] == [
        (100, 0),
        (100, 0),
        (1000, 950),
    ]


def test_short_lots_realize_price_falls_as_profit() -> None:
    lots = [
        lot("B:XYZ", Origin.BASELINE, -500, "40.00", 0),
        lot("F:s", Origin.INTRADAY, -200, "39.80", 5),
    ]

    left, closes = close_lots(lots, 300, Decimal("39.60"))

    assert [(c.lot_id, c.origin, c.realized) for c in closes] == [
        ("F:s", Origin.INTRADAY, Decimal("40.00")),  # (39.80 - 39.60) x 200
        ("B:XYZ", Origin.BASELINE, Decimal("40.00")),  # (40.00 - 39.60) x 100
    ]
    assert [(x.lot_id, x.qty) for x in left] == [("B:XYZ", -400)]


def test_closing_more_than_is_open_is_refused() -> None:
    with pytest.raises(ValueError, match="qty: 150 shares to close but only 100 open"):
        close_lots([lot("F:a", Origin.INTRADAY, 100, "25.10", 0)], 150, Decimal("25"))


def test_open_pnl_never_reports_negative_zero() -> None:
    flat_short = open_pnl(Decimal("10.00"), Decimal("10.00"), -300)

    assert flat_short == 0
    assert str(flat_short) == "0.00"
    assert open_pnl(Decimal("10.00"), Decimal("9.90"), -300) == Decimal("30.00")
    assert open_pnl(Decimal("10.00"), Decimal("9.90"), 300) == Decimal("-30.00")
