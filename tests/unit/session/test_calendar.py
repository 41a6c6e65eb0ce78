"""The XNYS calendar: holidays, early closes, DST, range limits, next session."""

from __future__ import annotations

import calendar as stdlib_calendar
from datetime import UTC, date, datetime, timedelta

import pytest

from kit.session import ny_ns, xnys
from quantrail.session import ExchangeCalendar, SessionConfig, TradingSession


def utc_ns(year: int, month: int, day: int, hour: int, minute: int) -> int:
    """UTC wall time as int ns, via the standard library (independent of our conversions)."""
    return stdlib_calendar.timegm((year, month, day, hour, minute, 0)) * 10**9


def test_day_after_thanksgiving_2026_closes_at_13_new_york() -> None:
    session = xnys().trading_session(date(2026, 11, 27))
    assert session == TradingSession(
        session_date=date(2026, 11, 27),
        open_ns=1_795_789_800_000_000_000,  # 2026-11-27 14:30 UTC = 09:30 EST
        close_ns=1_795_802_400_000_000_000,  # 2026-11-27 18:00 UTC = 13:00 EST
        early_close=True,
    )
    assert session.duration_ns == 210 * 60 * 10**9


def test_thanksgiving_and_weekends_have_no_session() -> None:
    calendar = xnys()
    assert calendar.trading_session(date(2026, 11, 26)) is None  # Thanksgiving
    assert calendar.trading_session(date(2026, 11, 28)) is None  # Saturday
    assert calendar.trading_session(date(2026, 11, 29)) is None  # Sunday


def test_regular_day_is_09_30_to_16_00_and_not_early() -> None:
    session = xnys().trading_session(date(2026, 11, 20))
    assert session is not None
    assert session.open_ns == utc_ns(2026, 11, 20, 14, 30)
    assert session.close_ns == utc_ns(2026, 11, 20, 21, 0)
    assert session.early_close is False


def test_dst_change_days_still_open_at_09_30_new_york() -> None:
    calendar = xnys()
    spring = calendar.trading_session(date(2026, 3, 9))  # first Monday on EDT (UTC-4)
    autumn = calendar.trading_session(date(2026, 11, 2))  # first Monday back on EST (UTC-5)
    friday_before_spring = calendar.trading_session(date(2026, 3, 6))
    assert spring is not None and autumn is not None and friday_before_spring is not None
    assert spring.open_ns == utc_ns(2026, 3, 9, 13, 30) == ny_ns("2026-03-09 09:30")
    assert autumn.open_ns == utc_ns(2026, 11, 2, 14, 30) == ny_ns("2026-11-02 09:30")
    assert friday_before_spring.open_ns == utc_ns(2026, 3, 6, 14, 30)
    assert spring.close_ns == utc_ns(2026, 3, 9, 20, 0)


def test_early_closes_of_2026_are_the_day_after_thanksgiving_and_christmas_eve() -> None:
    calendar = xnys()
    days = [date(2026, 1, 1) + timedelta(days=n) for n in range(365)]
    sessions = [s for s in map(calendar.trading_session, days) if s is not None]
    early = [(s.session_date, s.close_ns) for s in sessions if s.early_close]
    assert early == [
        (date(2026, 11, 27), utc_ns(2026, 11, 27, 18, 0)),
        (date(2026, 12, 24), utc_ns(2026, 12, 24, 18, 0)),
    ]
    # 4 July 2026 is a Saturday: Friday 3 July is the observed holiday, so no early close then.
    assert calendar.trading_session(date(2026, 7, 3)) is None
    assert len(sessions) == 251


def test_2025_independence_day_eve_closes_at_13_edt() -> None:
    session = xnys().trading_session(date(2025, 7, 3))
    assert session is not None
    assert session.early_close is True
    assert session.close_ns == utc_ns(2025, 7, 3, 17, 0)  # 13:00 EDT


def test_session_for_uses_the_new_york_date_not_the_utc_date() -> None:
    calendar = xnys()
    # 20:30 New York on Friday 2026-11-20 is already Saturday in UTC.
    late_friday = ny_ns("2026-11-20 20:30")
    assert datetime.fromtimestamp(late_friday // 10**9, tz=UTC).date() == date(2026, 11, 21)
    session = calendar.session_for(late_friday)
    assert session is not None
    assert session.session_date == date(2026, 11, 20)
    assert calendar.local_date(late_friday) == date(2026, 11, 20)
    assert calendar.session_for(ny_ns("2026-11-26 12:00")) is None


def test_next_session_skips_the_holiday_and_is_strictly_after() -> None:
    calendar = xnys()
    after_wednesday_close = calendar.next_session(ny_ns("2026-11-25 17:00"))
    assert after_wednesday_close.session_date == date(2026, 11, 27)
    assert calendar.next_session(ny_ns("2026-11-27 09:29:59")).session_date == date(2026, 11, 27)
    # At the open itself the session has opened already: the next one is Monday's.
    assert calendar.next_session(ny_ns("2026-11-27 09:30")).session_date == date(2026, 11, 30)


def test_next_session_past_the_last_covered_open_raises() -> None:
    with pytest.raises(ValueError, match=r"^after_ns: no XNYS session opens after"):
        xnys().next_session(ny_ns("2030-12-31 10:00"))


def test_days_outside_the_calendar_range_raise_instead_of_saying_closed() -> None:
    calendar = xnys()
    assert calendar.trading_session(date(2030, 12, 31)) is not None
    with pytest.raises(ValueError) as caught:
        calendar.trading_session(date(2031, 1, 2))
    assert str(caught.value) == (
        "day: 2031-01-02 is outside the XNYS calendar range 2020-01-01..2030-12-31"
    )
    with pytest.raises(ValueError, match=r"^day: 2019-12-31 is outside"):
        calendar.session_for(ny_ns("2019-12-31 10:00"))
    with pytest.raises(ValueError, match=r"^after_ns: 2019-06-03 is outside"):
        calendar.next_session(ny_ns("2019-06-03 10:00"))


def test_bad_arguments_name_the_field_and_value() -> None:
    calendar = xnys()
    with pytest.raises(TypeError, match=r"^day: must be a datetime.date, got datetime"):
        calendar.trading_session(datetime(2026, 11, 27, 10, 0))
    with pytest.raises(TypeError, match=r"^ts_ns: must be int nanoseconds UTC, got 1.5e\+18$"):
        calendar.session_for(1.5e18)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"^after_ns: must be int nanoseconds UTC, got True$"):
        calendar.next_session(True)


def test_unknown_exchange_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match=r"^exchange: unknown exchange calendar 'NOPE'$"):
        ExchangeCalendar("NOPE")


def test_a_timezone_other_than_the_exchange_zone_is_refused() -> None:
    with pytest.raises(ValueError) as caught:
        ExchangeCalendar("XNYS", "Europe/London")
    assert str(caught.value) == (
        "timezone: 'Europe/London' is not the zone of exchange 'XNYS' ('America/New_York')"
    )


def test_from_config_builds_the_configured_exchange() -> None:
    calendar = ExchangeCalendar.from_config(SessionConfig())
    assert (calendar.exchange, calendar.timezone) == ("XNYS", "America/New_York")
    assert (calendar.first_date, calendar.last_date) == (date(2020, 1, 1), date(2030, 12, 31))
