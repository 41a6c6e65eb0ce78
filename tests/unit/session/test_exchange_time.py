"""Showing int ns UTC in the exchange zone, and the test kit's wall-time helper."""

from __future__ import annotations

import calendar as stdlib_calendar
import zoneinfo
from datetime import UTC, datetime, timedelta

import pytest

from kit.session import ny_ns, wall_ns
from quantrail.session import exchange_time, format_exchange_time, to_utc_ns

NEW_YORK = zoneinfo.ZoneInfo("America/New_York")


def test_ny_ns_is_the_utc_instant_of_a_new_york_wall_time() -> None:
    # 15:46 EST is 20:46 UTC; the literal is timegm((2026, 11, 20, 20, 46, 0)) * 1e9.
    assert ny_ns("2026-11-20 15:46") == 1_795_207_560_000_000_000
    expected = stdlib_calendar.timegm((2026, 11, 20, 20, 46, 0)) * 10**9
    assert ny_ns("2026-11-20 15:46") == expected


def test_exchange_time_round_trip() -> None:
    ts = ny_ns("2026-11-27 13:00:00.123456")
    local = exchange_time(ts, "America/New_York")
    assert local == datetime(2026, 11, 27, 13, 0, 0, 123456, tzinfo=NEW_YORK)
    assert (local.hour, local.minute, local.microsecond) == (13, 0, 123456)
    assert local.utcoffset() == timedelta(hours=-5)  # EST
    assert to_utc_ns(local) == ts


def test_sub_microsecond_nanoseconds_are_floored_for_display() -> None:
    ts = ny_ns("2026-11-27 13:00:00.123456") + 789
    assert exchange_time(ts, NEW_YORK).microsecond == 123456
    assert to_utc_ns(exchange_time(ts, NEW_YORK)) == ts - 789


def test_the_repeated_hour_of_the_autumn_change_keeps_both_instants_apart() -> None:
    first = stdlib_calendar.timegm((2026, 11, 1, 5, 30, 0)) * 10**9  # 01:30 EDT
    second = stdlib_calendar.timegm((2026, 11, 1, 6, 30, 0)) * 10**9  # 01:30 EST
    assert format_exchange_time(first, NEW_YORK) == "2026-11-01 01:30:00.000 EDT"
    assert format_exchange_time(second, NEW_YORK) == "2026-11-01 01:30:00.000 EST"
    assert to_utc_ns(exchange_time(first, NEW_YORK)) == first
    assert to_utc_ns(exchange_time(second, NEW_YORK)) == second


def test_format_exchange_time_shows_milliseconds_and_zone() -> None:
    ts = ny_ns("2026-11-27 12:45:07.250999")
    assert format_exchange_time(ts, "America/New_York") == "2026-11-27 12:45:07.250 EST"
    assert format_exchange_time(ny_ns("2026-07-02 16:00"), NEW_YORK) == (
        "2026-07-02 16:00:00.000 EDT"
    )


def test_pre_epoch_instants_convert_too() -> None:
    ts = -1_500_000_000  # 1.5 s before the epoch
    assert exchange_time(ts, "UTC") == datetime(1969, 12, 31, 23, 59, 58, 500000, tzinfo=UTC)
    assert to_utc_ns(exchange_time(ts, "UTC")) == ts


def test_bad_inputs_name_the_field() -> None:
    with pytest.raises(ValueError, match=r"^tz: unknown time zone 'Nowhere/City'$"):
        exchange_time(0, "Nowhere/City")
    with pytest.raises(TypeError, match=r"^ts_ns: must be int nanoseconds UTC, got 2\.5$"):
        format_exchange_time(2.5, NEW_YORK)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"^moment: must be timezone-aware"):
        to_utc_ns(datetime(2026, 11, 27, 13, 0))


def test_wall_times_a_dst_change_skips_or_repeats_are_refused() -> None:
    with pytest.raises(ValueError, match="skipped or repeated"):
        ny_ns("2026-03-08 02:30")  # clocks jump from 02:00 to 03:00
    with pytest.raises(ValueError, match="skipped or repeated"):
        ny_ns("2026-11-01 01:30")  # 01:00-02:00 happens twice
    with pytest.raises(ValueError, match="without an offset"):
        wall_ns("2026-11-27 13:00+00:00", "America/New_York")
