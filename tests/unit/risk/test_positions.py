"""Positions: fills open, add, reduce, close and flip; the book per account."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from kit.risk import ACCOUNT, D, position
from quantrail.risk.positions import Position, PositionBook, PositionError, apply_fill
from quantrail.vocab import Bucket, Side


def test_opening_and_adding_average_the_cost() -> None:
    opened = apply_fill(position("AAPL", 0), Side.BUY, 100, D("10.00"))
    assert (opened.qty, opened.avg_price) == (100, D("10.00"))
    added = apply_fill(opened, Side.BUY, 300, D("12.00"))
    # (100 x 10 + 300 x 12) / 400 = 4600 / 400 = 11.50
    assert (added.qty, added.avg_price) == (400, D("11.50"))


def test_short_opening_and_adding() -> None:
    short = apply_fill(position("XOM", -200, avg_price="50"), Side.SELL, 200, D("60"))
    # (200 x 50 + 200 x 60) / 400 = 55
    assert (short.qty, short.avg_price) == (-400, D(55))


def test_reducing_keeps_the_average_and_flat_clears_it() -> None:
    start = position("AAPL", 400, avg_price="11.50")
    reduced = apply_fill(start, Side.SELL, 150, D("20"))
    assert (reduced.qty, reduced.avg_price) == (250, D("11.50"))
    flat = apply_fill(reduced, Side.SELL, 250, D("20"))
    assert (flat.qty, flat.avg_price, flat.is_flat) == (0, D(0), True)
    assert flat.bucket is Bucket.LT


def test_a_fill_crossing_zero_flips_at_the_fill_price() -> None:
    start = position("AAPL", 100, avg_price="10")
    flipped = apply_fill(start, Side.SELL, 250, D("12.34"))
    assert (flipped.qty, flipped.avg_price) == (-150, D("12.34"))
    back = apply_fill(flipped, Side.BUY, 200, D("11"))
    assert (back.qty, back.avg_price) == (50, D(11))


@pytest.mark.parametrize(
    ("qty", "price", "message"),
    [
        (0, D(1), "qty must be a positive integer number of shares, got 0"),
        (-5, D(1), "qty must be a positive integer number of shares, got -5"),
        (True, D(1), "qty must be a positive integer number of shares, got True"),
        (10, D(0), "price must be a finite Decimal > 0, got Decimal('0')"),
    ],
)
def test_bad_fill_names_the_field(qty: int, price: Decimal, message: str) -> None:
    with pytest.raises(PositionError) as caught:
        apply_fill(position("AAPL", 100), Side.BUY, qty, price)
    assert str(caught.value) == message


def test_float_price_is_refused() -> None:
    with pytest.raises(
        PositionError, match=re.escape("price must be a finite Decimal > 0, got 10.5")
    ):
        apply_fill(position("AAPL", 100), Side.BUY, 1, 10.5)  # type: ignore[arg-type]


def test_position_values_are_checked() -> None:
    with pytest.raises(
        PositionError, match=re.escape("qty must be an integer number of shares, got 1.5")
    ):
        Position(ACCOUNT, "AAPL", 1.5, Bucket.LT, D(1))  # type: ignore[arg-type]
    with pytest.raises(PositionError, match="symbol must be a non-empty string, got ''"):
        Position(ACCOUNT, "", 1, Bucket.LT, D(1))
    with pytest.raises(PositionError, match="avg_price of a flat position must be 0"):
        Position(ACCOUNT, "AAPL", 0, Bucket.LT, D(5))
    with pytest.raises(PositionError, match=re.escape("avg_price must be a finite Decimal > 0")):
        Position(ACCOUNT, "AAPL", 10, Bucket.LT, D(0))


def test_book_loads_a_baseline_and_applies_fills() -> None:
    book = PositionBook.from_positions(
        ACCOUNT, [position("MSFT", 50, avg_price="400"), position("AAPL", -100)]
    )
    assert [p.symbol for p in book] == ["AAPL", "MSFT"]
    updated = book.apply_fill("AAPL", Side.BUY, 300, D("9"))
    assert (updated.qty, updated.avg_price) == (200, D(9))
    assert book.qty("AAPL") == 200
    assert book.get("AAPL") == updated
    assert book.qty("TSLA") == 0


def test_book_needs_a_bucket_for_a_new_symbol_and_keeps_it_when_flat() -> None:
    book = PositionBook(ACCOUNT)
    with pytest.raises(PositionError, match="bucket is required for a first fill of 'SPY'"):
        book.apply_fill("SPY", Side.BUY, 100, D("500"))
    book.apply_fill("SPY", Side.BUY, 100, D("500"), Bucket.MM_PURE)
    book.apply_fill("SPY", Side.SELL, 100, D("501"))
    assert book.open_positions() == []
    assert len(book) == 1
    again = book.apply_fill("SPY", Side.SELL, 100, D("502"))
    assert (again.qty, again.bucket) == (-100, Bucket.MM_PURE)


def test_book_refuses_moving_an_open_position_between_buckets() -> None:
    book = PositionBook.from_positions(ACCOUNT, [position("SPY", 100, Bucket.MM_PURE)])
    with pytest.raises(PositionError, match="bucket LT does not match the open MM_PURE"):
        book.apply_fill("SPY", Side.BUY, 100, D("500"), Bucket.LT)
    book.apply_fill("SPY", Side.SELL, 100, D("500"))
    rebooked = book.apply_fill("SPY", Side.BUY, 100, D("500"), Bucket.LT)
    assert rebooked.bucket is Bucket.LT


def test_baseline_must_belong_to_the_account_and_be_unique() -> None:
    with pytest.raises(PositionError, match="position account must be 'ACC1', got 'OTHER'"):
        PositionBook.from_positions(ACCOUNT, [position("AAPL", 1, account="OTHER")])
    with pytest.raises(PositionError, match="symbol appears twice in the baseline: 'AAPL'"):
        PositionBook.from_positions(ACCOUNT, [position("AAPL", 1), position("AAPL", 2)])
