from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from kit.backtest import DAY0, MINUTE_NS, bar, bar_rows, write_bars_csv
from quantrail.backtest.bars import (
    bar_events,
    bars_by_start,
    path_prices,
    read_bars,
    timeframe_ns,
)
from quantrail.marketdata.candles import CandleBuilder
from quantrail.marketdata.replay import MarketFileError
from quantrail.marketdata.types import Print, Quote


def test_reads_csv_bars_exactly(tmp_path: Path) -> None:
    path = write_bars_csv(tmp_path / "b.csv", bar_rows("XYZ", ["10.00", "10.10", "10.05"]))
    bars = read_bars(path)
    assert [b.close for b in bars] == [Decimal("10.00"), Decimal("10.10"), Decimal("10.05")]
    assert bars[1].start_ns == DAY0 + MINUTE_NS and bars[1].timeframe_ns == MINUTE_NS


def test_iso_times_and_timeframe(tmp_path: Path) -> None:
    rows = [["2024-01-11T09:30:00-05:00", "XYZ", "10", "10.2", "9.9", "10.1", "5"]]
    bars = read_bars(write_bars_csv(tmp_path / "b.csv", rows), timeframe="5m")
    assert bars[0].start_ns == DAY0 and bars[0].timeframe_ns == 5 * MINUTE_NS


@pytest.mark.parametrize(
    ("cells", "column", "value"),
    [
        (["x", "XYZ", "10", "10.2", "9.9", "10.1", "5"], "ts", "x"),
        ([DAY0, "XYZ", "10", "10.05", "9.9", "10.1", "5"], "high", "10.05"),
        ([DAY0, "XYZ", "10", "10.2", "10.01", "10.1", "5"], "low", "10.01"),
        ([DAY0, "XYZ", "10", "10.2", "9.9", "10.1", "-5"], "volume", "-5"),
        ([DAY0, "XYZ", "ten", "10.2", "9.9", "10.1", "5"], "open", "ten"),
        ([DAY0, "XYZ", "0", "10.2", "9.9", "10.1", "5"], "open", "0"),
        ([DAY0, "", "10", "10.2", "9.9", "10.1", "5"], "symbol", ""),
    ],
)
def test_bad_csv_cell_names_file_line_column_value(
    tmp_path: Path, cells: list[object], column: str, value: str
) -> None:
    good = [DAY0 - MINUTE_NS, "XYZ", "10", "10.2", "9.9", "10.1", "5"]
    path = write_bars_csv(tmp_path / "b.csv", [good, cells])
    with pytest.raises(MarketFileError) as caught:
        read_bars(path)
    assert (caught.value.path, caught.value.line) == (path, 3)
    assert (caught.value.column, caught.value.value) == (column, value)
    assert f"{path}, line 3, column '{column}'" in str(caught.value)


def test_time_must_increase_per_symbol(tmp_path: Path) -> None:
    rows = [*bar_rows("XYZ", ["10", "10.1"]), *bar_rows("ABC", ["20"])]
    rows.append([DAY0 + MINUTE_NS, "XYZ", "10", "10.2", "9.9", "10.1", "5"])
    with pytest.raises(MarketFileError, match=r"line 5, column 'ts'.*not after the XYZ bar"):
        read_bars(write_bars_csv(tmp_path / "b.csv", rows))


def test_bad_header_and_short_row(tmp_path: Path) -> None:
    path = tmp_path / "h.csv"
    path.write_text("ts,symbol,price\n")
    with pytest.raises(MarketFileError, match="line 1, column 'header'"):
        read_bars(path)
    short = write_bars_csv(tmp_path / "s.csv", [[DAY0, "XYZ", "10"]])
    with pytest.raises(MarketFileError, match="line 2, column 'row'"):
        read_bars(short)


def test_bad_timeframe() -> None:
    assert timeframe_ns("1h") == 60 * MINUTE_NS
    with pytest.raises(ValueError, match=r"timeframe: .*'1x'"):
        timeframe_ns("1x")


def _parquet(path: Path, columns: dict[str, list[object]]) -> Path:
    pq.write_table(pa.table(columns), path)
    return path


def test_reads_parquet_with_timestamps_and_floats(tmp_path: Path) -> None:
    import datetime as dt

    start = dt.datetime(2024, 1, 11, 14, 30, tzinfo=dt.UTC)
    path = _parquet(tmp_path / "b.parquet", {
        "ts": [start, start + dt.timedelta(minutes=1)],
        "symbol": ["XYZ", "XYZ"],
        "open": [10.0, 10.1], "high": [10.23, 10.2], "low": [9.9, 10.0],
        "close": [10.1, 10.05], "volume": [100, 200],
    })  # fmt: skip
    bars = read_bars(path)
    assert bars[0].start_ns == DAY0 and bars[0].high == Decimal("10.23")
    assert bars[1].volume == 200


def test_bad_parquet_row_named(tmp_path: Path) -> None:
    path = _parquet(tmp_path / "b.parquet", {
        "ts": [DAY0, DAY0 + MINUTE_NS], "symbol": ["XYZ", "XYZ"], "open": ["10", "10"],
        "high": ["10.2", "9.5"], "low": ["9.9", "9.9"], "close": ["10.1", "10"],
        "volume": [1, 1],
    })  # fmt: skip
    with pytest.raises(MarketFileError) as caught:
        read_bars(path)
    assert (caught.value.line, caught.value.column, caught.value.value) == (3, "high", "9.5")


def test_parquet_missing_column(tmp_path: Path) -> None:
    path = _parquet(tmp_path / "b.parquet", {"ts": [DAY0], "symbol": ["XYZ"]})
    with pytest.raises(MarketFileError, match="missing column 'open'"):
        read_bars(path)


def test_price_path_order_follows_the_bar() -> None:
    up = bar()
    assert path_prices(up) == (up.open, up.low, up.high, up.close)
    down = bar(close=Decimal("9.95"))
    assert path_prices(down) == (down.open, down.high, down.low, down.close)


def test_bar_events_rebuild_the_same_candle() -> None:
    one = bar(volume=1003)
    events = bar_events(one, Decimal("0.01"))
    prints = [e for e in events if isinstance(e, Print)]
    quotes = [e for e in events if isinstance(e, Quote)]
    second = 1_000_000_000
    assert [p.ts_ns - one.start_ns for p in prints] == [0, 15 * second, 30 * second, 45 * second]
    assert [q.ts_ns for q in quotes] == [p.ts_ns for p in prints]
    assert [p.size for p in prints] == [250, 250, 250, 253]
    builder = CandleBuilder(timeframe_s=60)
    for item in prints:
        builder.update(item)
    (candle,) = builder.flush(one.end_ns)
    assert (candle.open, candle.high, candle.low, candle.close) == (
        one.open, one.high, one.low, one.close,
    )  # fmt: skip
    assert candle.volume == 1003
    assert all(q.bid + Decimal("0.02") == q.ask for q in quotes)


def test_no_print_for_a_point_without_shares() -> None:
    events = bar_events(bar(volume=0), Decimal("0.01"))
    assert all(isinstance(e, Quote) for e in events) and len(events) == 4


def test_grouped_by_start_then_symbol() -> None:
    groups = bars_by_start([bar(symbol="B"), bar(symbol="A"), bar(start_ns=DAY0 - MINUTE_NS)])
    assert [start for start, _ in groups] == [DAY0 - MINUTE_NS, DAY0]
    assert [b.symbol for b in groups[1][1]] == ["A", "B"]
