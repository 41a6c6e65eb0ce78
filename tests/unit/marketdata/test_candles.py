from decimal import Decimal

import pytest

from kit.marketdata import prt
from quantrail.marketdata.candles import Candle, CandleBuilder
from quantrail.marketdata.truth import TruthTickFilter

S = 1_000_000_000
B = 1_700_000_040 * S  # a minute boundary: 1_700_000_040 = 60 x 28_333_334


def first_minute(builder: CandleBuilder) -> None:
    for price, size, at in [("25.00", 100, 1), ("25.05", 200, 10), ("24.98", 50, 20)]:
        assert builder.update(prt(price, size, ts_ns=B + at * S)) is None
    assert builder.update(prt("25.02", 300, ts_ns=B + 59 * S)) is None


def test_first_print_of_next_bucket_closes_the_candle_with_exact_ohlcv() -> None:
    builder = CandleBuilder(60)
    first_minute(builder)
    closed = builder.update(prt("25.10", 100, ts_ns=B + 60 * S))
    assert closed == Candle(
        symbol="PFA",
        start_ns=B,
        end_ns=B + 60 * S,
        open=Decimal("25.00"),
        high=Decimal("25.05"),
        low=Decimal("24.98"),
        close=Decimal("25.02"),
        volume=650,
        prints=4,
        # 2500.00 + 5010.00 + 1249.00 + 7506.00
        notional=Decimal("16265.00"),
        open_ts_ns=B + S,
        close_ts_ns=B + 59 * S,
    )
    assert closed.timeframe_s == 60


def test_flush_closes_only_buckets_that_have_ended() -> None:
    builder = CandleBuilder(60)
    first_minute(builder)
    assert builder.flush(B + 59 * S) == []
    closed = builder.flush(B + 60 * S)
    assert [(c.symbol, c.close, c.volume) for c in closed] == [("PFA", Decimal("25.02"), 650)]
    assert builder.open_candle("PFA") is None
    assert builder.flush(B + 120 * S) == []


def test_empty_buckets_make_no_candle() -> None:
    builder = CandleBuilder(60)
    builder.update(prt("25.00", 100, ts_ns=B))
    closed = builder.update(prt("25.30", 100, ts_ns=B + 300 * S))
    assert closed is not None and closed.end_ns == B + 60 * S
    open_now = builder.open_candle("PFA")
    assert open_now is not None and open_now.start_ns == B + 300 * S


def test_symbols_are_separate_and_flush_sorts_by_time_then_symbol() -> None:
    builder = CandleBuilder(60)
    builder.update(prt("19.00", 100, symbol="PFB", ts_ns=B + 5 * S))
    builder.update(prt("25.00", 100, symbol="PFA", ts_ns=B + 6 * S))
    closed = builder.flush(B + 60 * S)
    assert [(c.symbol, c.open) for c in closed] == [
        ("PFA", Decimal("25.00")),
        ("PFB", Decimal("19.00")),
    ]


def test_out_of_order_print_within_bucket_sets_open_by_time() -> None:
    builder = CandleBuilder(60)
    builder.update(prt("25.05", 100, ts_ns=B + 30 * S))
    builder.update(prt("25.01", 100, ts_ns=B + 10 * S))
    candle = builder.open_candle("PFA")
    assert candle is not None
    assert (candle.open, candle.close) == (Decimal("25.01"), Decimal("25.05"))


def test_print_for_a_closed_bucket_is_counted_late_and_dropped() -> None:
    builder = CandleBuilder(60)
    builder.update(prt("25.00", 100, ts_ns=B + S))
    builder.update(prt("25.10", 100, ts_ns=B + 61 * S))
    assert builder.update(prt("30.00", 100, ts_ns=B + 30 * S)) is None
    assert builder.late_prints == 1
    candle = builder.open_candle("PFA")
    assert candle is not None and candle.high == Decimal("25.10")


def test_truth_filter_keeps_odd_lots_out() -> None:
    builder = CandleBuilder(60, truth_filter=TruthTickFilter())
    builder.update(prt("25.00", 100, ts_ns=B))
    builder.update(prt("26.00", 10, ts_ns=B + S))
    (candle,) = builder.flush(B + 60 * S)
    assert (candle.high, candle.volume, candle.prints) == (Decimal("25.00"), 100, 1)


def test_bad_timeframe_names_field_and_value() -> None:
    with pytest.raises(ValueError, match="timeframe_s: must be an int >= 1, got 0"):
        CandleBuilder(0)
