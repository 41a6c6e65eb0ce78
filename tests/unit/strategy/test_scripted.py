"""The scripted strategy: its CSV, its errors, and rows coming due on the clock."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from kit.event_base import T0
from kit.strategy_chain import candles_from_closes, script, view_with
from quantrail.strategy.shipped.scripted import Scripted, ScriptError, parse_ts, read_script

S = 1_000_000_000


def test_timestamps_are_iso_with_a_zone_or_int_nanoseconds() -> None:
    assert parse_ts("2024-03-15T13:30:00Z") == T0
    assert parse_ts("2024-03-15T09:30:00-04:00") == T0
    assert parse_ts("2024-03-15T13:30:00.000001+00:00") == T0 + 1_000
    assert parse_ts("2024-03-15T13:30:00.000000007Z") == T0 + 7  # nanoseconds kept exactly
    assert parse_ts("2024-03-15T13:30:00,5+00:00") == T0 + 500_000_000
    assert parse_ts(str(T0 + 7)) == T0 + 7
    with pytest.raises(ValueError, match="more than nine fractional digits"):
        parse_ts("2024-03-15T13:30:00.0000000001Z")
    with pytest.raises(ValueError, match="must carry a zone"):
        parse_ts("2024-03-15T13:30:00")


def test_rows_are_read_in_time_order_with_their_line_numbers(tmp_path: Path) -> None:
    path = script(tmp_path / "s.csv", [
        f"{T0 + 60 * S},ACME,SHORT,55,0.5,25.40,\"fade, then cover\"",
        "2024-03-15T13:30:00Z,ACME,LONG,70,0.8,24.50,breakout",
        "",
        f"{T0},ZZZ,NO_SIGNAL,0,0,,nothing",
    ])  # fmt: skip
    rows = read_script(path)
    assert [(r.line, r.symbol, r.action) for r in rows] == [
        (3, "ACME", "LONG"), (5, "ZZZ", "NO_SIGNAL"), (2, "ACME", "SHORT"),
    ]  # fmt: skip
    assert rows[2].reasoning == "fade, then cover" and rows[2].stop == Decimal("25.40")
    assert rows[0].signal_id == f"sig:scripted:ACME:{T0}:3"


@pytest.mark.parametrize(
    ("row", "column", "value"),
    [
        ("yesterday,ACME,LONG,70,0.8,24.50,x", "ts", "yesterday"),
        (f"{T0},,LONG,70,0.8,24.50,x", "symbol", ""),
        (f"{T0},ACME,BUY,70,0.8,24.50,x", "action", "BUY"),
        (f"{T0},ACME,LONG,170,0.8,24.50,x", "edge_score", "170"),
        (f"{T0},ACME,LONG,7.5,0.8,24.50,x", "edge_score", "7.5"),
        (f"{T0},ACME,LONG,70,1.8,24.50,x", "confidence", "1.8"),
        (f"{T0},ACME,LONG,70,0.8,,x", "stop", ""),
        (f"{T0},ACME,SHORT,70,0.8,-3,x", "stop", "-3"),
        (f"{T0},ACME,SHORT,70,0.8,abc,x", "stop", "abc"),
    ],
)
def test_a_bad_row_names_file_line_column_and_value(
    tmp_path: Path, row: str, column: str, value: str
) -> None:
    path = script(tmp_path / "bad.csv", [f"{T0},ACME,LONG,70,0.8,24.50,fine", row])
    with pytest.raises(ScriptError) as caught:
        read_script(path)
    message = str(caught.value)
    assert message.startswith(f"path: {path} line 3, column {column}: ")
    assert message.endswith(f"got {value!r}")


def test_a_wrong_header_or_a_missing_file_is_an_error(tmp_path: Path) -> None:
    path = script(tmp_path / "h.csv", ["1,ACME,LONG,1,0.1,1,x"], header="time,symbol,side")
    with pytest.raises(ScriptError, match=r"line 1: the header must be ts,symbol,action"):
        read_script(path)
    with pytest.raises(ScriptError, match="path: cannot read"):
        Scripted(str(tmp_path / "missing.csv"))


def test_rows_come_due_when_the_clock_reaches_them(tmp_path: Path) -> None:
    path = script(tmp_path / "s.csv", [
        f"{T0},ACME,LONG,70,0.8,24.50,first",
        f"{T0 + 60 * S},ACME,SHORT,55,0.5,24.90,wrong side",
        f"{T0 + 120 * S},ACME,NO_SIGNAL,0,0,,stand aside",
    ])  # fmt: skip
    strategy = Scripted(str(path))
    view = view_with(candles_from_closes(["25.00"]))  # last price 25.00
    assert strategy.on_clock(T0 - 1, view) == []
    [first] = strategy.on_clock(T0, view)
    assert (first.action, first.stop_price, first.entry_price) == (
        "LONG", Decimal("24.50"), Decimal("25.00"),
    )  # fmt: skip
    assert (first.ts_data_ns, first.signal_id) == (T0, f"sig:scripted:ACME:{T0}:2")
    assert strategy.on_clock(T0 + 59 * S, view) == []
    second, third = strategy.on_clock(T0 + 120 * S, view)
    assert (second.action, second.gate_failed) == ("NO_SIGNAL", "stop")  # 24.90 under 25.00
    assert (third.action, third.gate_failed) == ("NO_SIGNAL", "scripted")
    assert strategy.on_clock(T0 + 999 * S, view) == []


def test_the_clock_is_next_due_at_the_next_rows_time(tmp_path: Path) -> None:
    path = script(tmp_path / "s.csv", [
        f"{T0},ACME,LONG,70,0.8,24.50,first",
        f"{T0 + 60 * S},ACME,NO_SIGNAL,0,0,,stand aside",
    ])  # fmt: skip
    strategy = Scripted(str(path))
    view = view_with(candles_from_closes(["25.00"]))
    assert strategy.next_clock_ns() == T0
    strategy.on_clock(T0, view)
    assert strategy.next_clock_ns() == T0 + 60 * S
    strategy.on_clock(T0 + 60 * S, view)
    assert strategy.next_clock_ns() is None
