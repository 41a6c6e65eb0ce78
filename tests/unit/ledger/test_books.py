from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from kit.ledger import ACCOUNT, baseline, example_day, example_snapshot, fill, money, snapshot
from quantrail.ledger.books import (
    AccountDay,
    BefDaySnapshot,
    Fill,
    FillConflictError,
    LedgerInputError,
)
from quantrail.ledger.lots import Origin
from quantrail.money import cents
from quantrail.vocab import Bucket, Side

MARKS = {"XYZ": money("25.50"), "ABC": money("39.00"), "DEF": money("9.80")}


def test_worked_example_reduction_closes_intraday_lot_first_then_baseline() -> None:
    books = AccountDay(example_snapshot())
    buy = books.book_fill(fill("f1", Side.BUY, 300, "25.10", at_s=10))
    sell = books.book_fill(fill("f2", Side.SELL, 800, "25.30", at_s=20))

    assert [(leg.name, leg.qty) for leg in buy.legs] == [("LT_LONG_INCREASE", 300)]
    assert [(leg.name, leg.qty) for leg in sell.legs] == [("LT_LONG_DECREASE", 800)]
    assert [(c.lot_id, c.origin, c.qty) for c in sell.closes] == [
        ("F:f1", Origin.INTRADAY, 300),
        ("B:XYZ", Origin.BASELINE, 500),
    ]
    assert sell.realized_intraday == money("60.00")  # (25.30 - 25.10) x 300
    assert sell.baseline_reduction == money("150.00")  # (25.30 - 25.00) x 500
    assert (sell.position_before, sell.position_after) == (1300, 500)


def test_worked_example_day_totals_net_the_fees() -> None:
    totals = example_day().totals()

    assert totals.realized_intraday == money("60.00")
    assert totals.baseline_reduction == money("150.00")
    assert totals.fees == money("0.70")
    assert totals.net == money("209.30")  # 60.00 + 150.00 - 0.70


def test_a_rebate_is_a_negative_fee_netted_into_the_totals() -> None:
    books = AccountDay(example_snapshot())
    books.book_fill(fill("r1", Side.BUY, 100, "25.00", fee="0.35"))
    books.book_fill(fill("r2", Side.SELL, 100, "25.10", fee="-0.20", at_s=60))  # maker rebate

    totals = books.totals()
    assert totals.realized_intraday == money("10.00")
    assert totals.fees == money("0.15")  # 0.35 paid - 0.20 rebated
    assert totals.net == money("9.85")


def test_worked_example_unrealized_marks_baseline_against_prior_close() -> None:
    open_pnl = example_day().unrealized(MARKS)

    assert open_pnl.by_symbol["XYZ"].baseline == money("250.00")  # (25.50 - 25.00) x 500
    assert open_pnl.by_symbol["ABC"].baseline == money("500.00")  # (40.00 - 39.00) x 500 short
    assert open_pnl.baseline == money("750.00")
    assert open_pnl.intraday == 0
    assert open_pnl.total == money("750.00")


def test_short_intraday_round_trip_realizes_only_intraday() -> None:
    books = AccountDay(example_snapshot())
    opened = books.book_fill(
        fill("s1", Side.SELL, 200, "10.00", symbol="DEF", bucket=Bucket.MM_PURE)
    )
    closed = books.book_fill(fill("s2", Side.BUY, 200, "9.90", symbol="DEF", bucket=Bucket.MM_PURE))

    assert [leg.name for leg in opened.legs] == ["MM_SHORT_INCREASE"]
    assert [leg.name for leg in closed.legs] == ["MM_SHORT_DECREASE"]
    assert closed.realized_intraday == money("20.00")  # (10.00 - 9.90) x 200
    assert closed.baseline_reduction == 0
    assert books.totals("DEF").net == money("19.30")  # 20.00 - 0.70
    assert books.position("DEF") == 0
    assert "DEF" not in books.unrealized(MARKS).by_symbol


def test_fill_crossing_zero_reduces_baseline_then_opens_intraday_on_other_side() -> None:
    books = AccountDay(example_snapshot())
    result = books.book_fill(fill("x1", Side.BUY, 800, "39.50", symbol="ABC"))

    assert [(leg.name, leg.qty) for leg in result.legs] == [
        ("LT_SHORT_DECREASE", 500),
        ("LT_LONG_INCREASE", 300),
    ]
    assert result.baseline_reduction == money("250.00")  # (40.00 - 39.50) x 500 short
    assert result.realized_intraday == 0
    assert result.opened is not None
    assert (result.opened.lot_id, result.opened.qty, result.opened.price) == (
        "F:x1",
        300,
        money("39.50"),
    )
    split = books.unrealized(MARKS).by_symbol["ABC"]
    # The baseline lot is gone; the new lot: (39.00 - 39.50) x 300.
    assert (split.baseline, split.intraday) == (money("0"), money("-150.00"))


def test_short_baseline_reduction_closes_intraday_short_first() -> None:
    books = AccountDay(example_snapshot())
    books.book_fill(fill("a1", Side.SELL, 200, "39.80", symbol="ABC"))
    result = books.book_fill(fill("a2", Side.BUY, 300, "39.60", symbol="ABC"))

    assert result.realized_intraday == money("40.00")  # (39.80 - 39.60) x 200
    assert result.baseline_reduction == money("40.00")  # (40.00 - 39.60) x 100
    assert books.position("ABC") == -400


def test_full_day_reconciles_start_plus_fills_to_end_per_symbol() -> None:
    books = example_day()
    books.book_fill(fill("s1", Side.SELL, 200, "10.00", symbol="DEF", bucket=Bucket.MM_PURE))
    books.book_fill(fill("s2", Side.BUY, 200, "9.90", symbol="DEF", bucket=Bucket.MM_PURE))
    books.book_fill(fill("x1", Side.BUY, 800, "39.50", symbol="ABC"))

    start, filled, end = books.start_positions(), books.filled_qty(), books.positions()
    assert start == {"ABC": -500, "XYZ": 1000}
    assert filled == {"ABC": 800, "DEF": 0, "XYZ": -500}
    assert end == {"ABC": 300, "XYZ": 500}
    for symbol in start.keys() | filled.keys():
        assert start.get(symbol, 0) + filled.get(symbol, 0) == end.get(symbol, 0)
    totals = books.totals()
    assert (totals.realized_intraday, totals.baseline_reduction) == (
        money("80.00"),
        money("400.00"),
    )
    assert (totals.fees, totals.net) == (money("1.75"), money("478.25"))
    assert books.unrealized(MARKS).total == money("100.00")  # 250.00 baseline - 150.00 intraday


def test_sub_penny_prices_stay_exact_until_reported() -> None:
    books = AccountDay(snapshot(baseline("XYZ", 100, "25.00")))
    books.book_fill(fill("p1", Side.BUY, 333, "25.0037", fee="0.0041"))
    result = books.book_fill(fill("p2", Side.SELL, 333, "25.1151", fee="0.0041"))

    assert result.realized_intraday == money("37.0962")  # 0.1114 x 333
    assert cents(books.totals().net) == money("37.09")  # 37.0962 - 0.0082 = 37.0880


def test_duplicate_fill_id_is_booked_once() -> None:
    books = AccountDay(example_snapshot())
    first = books.book_fill(fill("f1", Side.BUY, 300, "25.10"))
    again = books.book_fill(fill("f1", Side.BUY, 300, "25.10"))

    assert not first.duplicate and again.duplicate
    assert again.legs == first.legs
    assert books.position("XYZ") == 1300
    assert len(books.results()) == 1
    assert books.totals().fees == money("0.35")


def test_same_fill_id_with_other_content_is_a_conflict() -> None:
    books = AccountDay(example_snapshot())
    books.book_fill(fill("f1", Side.BUY, 300, "25.10"))

    with pytest.raises(FillConflictError, match="'f1': already booked with different content"):
        books.book_fill(fill("f1", Side.BUY, 300, "25.11"))
    assert books.position("XYZ") == 1300


def test_fill_of_another_account_is_refused() -> None:
    books = AccountDay(example_snapshot())

    with pytest.raises(LedgerInputError, match="account 'IBKR_GUN'"):
        books.book_fill(fill("g1", Side.BUY, 100, "25.00", account="IBKR_GUN"))
    assert books.results() == ()


def test_unrealized_needs_a_mark_for_every_open_symbol() -> None:
    with pytest.raises(LedgerInputError, match=r"marks: no mark for open symbol \(value: 'ABC'\)"):
        example_day().unrealized({"XYZ": money("25.50")})


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"qty": 0}, r"qty must be >= 1 \(value: 0\)"),
        ({"qty": 1.0}, r"qty must be an integer \(value: 1.0\)"),
        ({"price": 25.1}, r"price must be a finite Decimal \(value: 25.1\)"),
        ({"price": Decimal("0")}, r"price must be > 0 \(value: Decimal\('0'\)\)"),
        ({"price": Decimal("NaN")}, r"price must be a finite Decimal"),
        ({"fee": Decimal("-100000")}, r"fee \(a rebate when negative\) must be >= -notional"),
        ({"fee": Decimal("Infinity")}, r"fee must be a finite Decimal"),
        ({"side": "BUY"}, r"side must be a Side \(value: 'BUY'\)"),
        ({"symbol": ""}, r"symbol must be a non-empty word \(value: ''\)"),
        ({"ts_ns": -1}, r"ts_ns must be >= 0 \(value: -1\)"),
    ],
)
def test_bad_fill_names_the_field_and_value(changes: dict[str, object], message: str) -> None:
    fields: dict[str, object] = {
        "fill_id": "f1", "account": ACCOUNT, "ts_ns": 1, "symbol": "XYZ", "side": Side.BUY,
        "qty": 100, "price": Decimal("25.10"), "fee": Decimal("0.35"), "bucket": Bucket.LT,
    }  # fmt: skip

    with pytest.raises(LedgerInputError, match=message):
        Fill(**{**fields, **changes})  # type: ignore[arg-type]


def test_bad_snapshot_names_the_field_and_value() -> None:
    with pytest.raises(LedgerInputError, match=r"positions repeat symbols \(value: \['XYZ'\]\)"):
        snapshot(baseline("XYZ", 100, "25.00"), baseline("XYZ", 200, "25.00"))
    with pytest.raises(LedgerInputError, match=r"qty must be non-zero"):
        baseline("XYZ", 0, "25.00")
    with pytest.raises(LedgerInputError, match=r"day must be a datetime.date"):
        BefDaySnapshot(ACCOUNT, dt.datetime(2025, 3, 3), (), 0)
