from decimal import Decimal
from pathlib import Path

import pytest

from kit.marketdata import T0_NS, prt, quote
from quantrail.marketdata.replay import (
    MarketFileError,
    parse_ts,
    read_market_file,
    write_market_file,
)
from quantrail.marketdata.synthetic import SyntheticMarket, default_universe
from quantrail.marketdata.types import MarketEvent

HEADER = "ts,type,symbol,price,size,bid,ask,bid_size,ask_size,venue\n"


def write_text(tmp_path: Path, body: str, header: str = HEADER) -> Path:
    path = tmp_path / "md.csv"
    path.write_text(header + body, encoding="utf-8")
    return path


def test_round_trip_of_synthetic_data_is_exact(tmp_path: Path) -> None:
    market = SyntheticMarket(default_universe(6, groups=3), seed=7, start_ns=T0_NS)
    events = list(market.events_until(T0_NS + 600 * 1_000_000_000))
    path = tmp_path / "day.csv"
    assert write_market_file(path, events) == len(events)
    assert list(read_market_file(path)) == events


def test_round_trip_keeps_conditions_venue_and_decimal_places(tmp_path: Path) -> None:
    events: list[MarketEvent] = [
        quote("24.90", "25.00", bid_size=0, venue="NYSE"),
        prt("25.005", 37, ts_ns=T0_NS + 1, venue="FNRA", conditions=("T", "I")),
    ]
    path = tmp_path / "two.csv"
    write_market_file(path, events)
    back = list(read_market_file(path))
    assert back == events
    assert str(back[0].bid) == "24.90"  # type: ignore[union-attr]


def test_reads_the_ten_column_header_and_iso_times(tmp_path: Path) -> None:
    path = write_text(
        tmp_path,
        "2023-11-14T22:13:20.123456789Z,PRINT,PFA,25.01,200,,,,,ARCA\n"
        "2023-11-14T23:13:21+01:00,QUOTE,PFA,,,25.00,25.02,300,400,\n",
    )
    first, second = list(read_market_file(path))
    assert first == prt("25.01", 200, ts_ns=T0_NS + 123_456_789, venue="ARCA")
    assert second == quote("25.00", "25.02", bid_size=300, ask_size=400, ts_ns=T0_NS + 10**9)


def test_parse_ts_keeps_nanoseconds_and_offsets() -> None:
    assert parse_ts("1700000000000000001") == T0_NS + 1
    assert parse_ts("2023-11-14T17:13:20.5-05:00") == T0_NS + 500_000_000
    assert parse_ts("1970-01-01T00:00:00Z") == 0


def test_bad_price_names_file_line_column_and_value(tmp_path: Path) -> None:
    path = write_text(
        tmp_path,
        f"{T0_NS},PRINT,PFA,25.01,100,,,,,NYSE\n{T0_NS},PRINT,PFA,25.0x,100,,,,,NYSE\n",
    )
    with pytest.raises(MarketFileError) as caught:
        list(read_market_file(path))
    error = caught.value
    assert (error.line, error.column, error.value) == (3, "price", "25.0x")
    assert str(error) == (f"{path}, line 3, column 'price': not a decimal number (value: '25.0x')")


def test_fractional_size_is_an_error(tmp_path: Path) -> None:
    path = write_text(tmp_path, f"{T0_NS},PRINT,PFA,25.01,12.5,,,,,NYSE\n")
    with pytest.raises(MarketFileError, match=r"line 2, column 'size': .*'12\.5'"):
        list(read_market_file(path))


def test_unknown_type_is_an_error(tmp_path: Path) -> None:
    path = write_text(tmp_path, f"{T0_NS},TRADE,PFA,25.01,100,,,,,NYSE\n")
    with pytest.raises(MarketFileError, match="column 'type': expected QUOTE or PRINT"):
        list(read_market_file(path))


def test_quote_row_with_a_price_is_an_error(tmp_path: Path) -> None:
    path = write_text(tmp_path, f"{T0_NS},QUOTE,PFA,25.01,,25.00,25.02,100,100,\n")
    with pytest.raises(MarketFileError, match="column 'price': must be empty on a QUOTE row"):
        list(read_market_file(path))


def test_iso_time_without_zone_is_an_error(tmp_path: Path) -> None:
    path = write_text(tmp_path, "2023-11-14T22:13:20,PRINT,PFA,25.01,100,,,,,NYSE\n")
    with pytest.raises(MarketFileError, match="column 'ts': ISO-8601 time has no zone"):
        list(read_market_file(path))


def test_time_going_back_is_an_error_unless_allowed(tmp_path: Path) -> None:
    path = write_text(
        tmp_path,
        f"{T0_NS + 5},PRINT,PFA,25.01,100,,,,,NYSE\n{T0_NS},PRINT,PFA,25.02,100,,,,,NYSE\n",
    )
    with pytest.raises(MarketFileError, match="line 3, column 'ts': earlier than the row before"):
        list(read_market_file(path))
    assert len(list(read_market_file(path, require_time_order=False))) == 2


def test_wrong_column_count_is_an_error(tmp_path: Path) -> None:
    path = write_text(tmp_path, f"{T0_NS},PRINT,PFA,25.01,100\n")
    with pytest.raises(MarketFileError, match="line 2, column 'row': expected 10 columns, got 5"):
        list(read_market_file(path))


def test_bad_header_is_an_error_on_line_one(tmp_path: Path) -> None:
    path = write_text(tmp_path, "", header="time,kind,symbol\n")
    with pytest.raises(MarketFileError, match="line 1, column 'header'"):
        list(read_market_file(path))


def test_writer_refuses_a_condition_code_holding_the_separator(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="conditions: a code may not contain"):
        write_market_file(tmp_path / "x.csv", [prt(conditions=("A|B",))])


def test_values_are_read_back_as_decimal(tmp_path: Path) -> None:
    path = write_text(tmp_path, f"{T0_NS},PRINT,PFA,25.10,100,,,,,NYSE\n")
    (event,) = list(read_market_file(path))
    assert event == prt(Decimal("25.10"), 100)
