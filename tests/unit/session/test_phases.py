"""Session phases on regular days, early closes, holidays, and with custom boundaries."""

from __future__ import annotations

from datetime import date

import pytest

from kit.session import ny_ns, ny_state, xnys
from quantrail.runtime.clock import SimulatedClock
from quantrail.session import PhaseBoundaries, SessionState, phase_at, phase_in_session
from quantrail.vocab import Phase


@pytest.mark.parametrize(
    ("wall", "phase"),
    [
        ("2026-11-20 00:00", Phase.PRE),
        ("2026-11-20 09:29:59", Phase.PRE),
        ("2026-11-20 09:30", Phase.OPEN),
        ("2026-11-20 09:44:59", Phase.OPEN),
        ("2026-11-20 09:45", Phase.EARLY),
        ("2026-11-20 10:29:59", Phase.EARLY),
        ("2026-11-20 10:30", Phase.MID),
        ("2026-11-20 15:44:59", Phase.MID),
        ("2026-11-20 15:45", Phase.LATE),
        ("2026-11-20 15:57:59", Phase.LATE),
        ("2026-11-20 15:58", Phase.CLOSE),
        ("2026-11-20 15:59:59.999999", Phase.CLOSE),
        ("2026-11-20 16:00", Phase.POST),
        ("2026-11-20 23:59:59", Phase.POST),
    ],
)
def test_regular_day_phases(wall: str, phase: Phase) -> None:
    assert ny_state(wall).phase is phase


def test_regular_day_state_at_15_46() -> None:
    assert ny_state("2026-11-20 15:46") == SessionState(
        ts_ns=ny_ns("2026-11-20 15:46"),
        session_date=date(2026, 11, 20),
        phase=Phase.LATE,
        is_trading_day=True,
        early_close=False,
        open_ns=ny_ns("2026-11-20 09:30"),
        close_ns=ny_ns("2026-11-20 16:00"),
        minutes_since_open=376.0,  # 6 h 16 min
        minutes_to_close=14.0,
    )


def test_minute_counts_are_signed_outside_the_session() -> None:
    before = ny_state("2026-11-20 09:00")
    assert (before.minutes_since_open, before.minutes_to_close) == (-30.0, 420.0)
    after = ny_state("2026-11-20 16:30")
    assert (after.minutes_since_open, after.minutes_to_close) == (420.0, -30.0)
    fractional = ny_state("2026-11-20 15:59:30")
    assert fractional.minutes_to_close == 0.5


@pytest.mark.parametrize(
    ("wall", "phase"),
    [
        ("2026-11-27 09:30", Phase.OPEN),
        ("2026-11-27 10:30", Phase.MID),
        ("2026-11-27 12:44:59", Phase.MID),
        ("2026-11-27 12:45", Phase.LATE),
        ("2026-11-27 12:57:59", Phase.LATE),
        ("2026-11-27 12:58", Phase.CLOSE),
        ("2026-11-27 13:00", Phase.POST),
        ("2026-11-27 15:45", Phase.POST),  # a regular day's LATE is long over
    ],
)
def test_day_after_thanksgiving_early_close_phases(wall: str, phase: Phase) -> None:
    state = ny_state(wall)
    assert state.phase is phase
    assert state.early_close is True
    assert state.close_ns == ny_ns("2026-11-27 13:00")


def test_day_after_thanksgiving_minutes_to_close_at_12_46() -> None:
    state = ny_state("2026-11-27 12:46")
    assert (state.minutes_since_open, state.minutes_to_close) == (196.0, 14.0)


@pytest.mark.parametrize(
    ("wall", "day"),
    [
        ("2026-11-26 10:00", date(2026, 11, 26)),  # Thanksgiving
        ("2026-11-21 12:00", date(2026, 11, 21)),  # Saturday
        ("2026-11-22 23:59", date(2026, 11, 22)),  # Sunday, already Monday in UTC
    ],
)
def test_non_trading_days_are_closed_all_day(wall: str, day: date) -> None:
    assert ny_state(wall) == SessionState(
        ts_ns=ny_ns(wall),
        session_date=day,
        phase=Phase.CLOSED,
        is_trading_day=False,
        early_close=False,
        open_ns=0,
        close_ns=0,
        minutes_since_open=0.0,
        minutes_to_close=0.0,
    )


def test_market_open_is_the_half_open_session_interval() -> None:
    walls = ["09:29:59", "09:30", "15:59:59", "16:00"]
    assert [ny_state(f"2026-11-20 {w}").market_open for w in walls] == [False, True, True, False]
    assert ny_state("2026-11-26 12:00").market_open is False


@pytest.mark.parametrize(
    ("wall", "phase"),
    [
        ("2026-11-20 09:34:59", Phase.OPEN),
        ("2026-11-20 09:35", Phase.EARLY),
        ("2026-11-20 09:59:59", Phase.EARLY),
        ("2026-11-20 10:00", Phase.MID),
        ("2026-11-20 15:29:59", Phase.MID),
        ("2026-11-20 15:30", Phase.LATE),
        ("2026-11-20 15:54:59", Phase.LATE),
        ("2026-11-20 15:55", Phase.CLOSE),
        ("2026-11-20 16:00", Phase.POST),
    ],
)
def test_custom_boundaries_move_the_phases(wall: str, phase: Phase) -> None:
    custom = PhaseBoundaries(open_min=5, early_min=30, late_min=30, close_min=5)
    assert ny_state(wall, custom).phase is phase


@pytest.mark.parametrize(
    ("wall", "phase"),
    [
        ("2026-11-20 08:29:59", Phase.CLOSED),
        ("2026-11-20 08:30", Phase.PRE),
        ("2026-11-20 09:29:59", Phase.PRE),
        ("2026-11-20 16:00", Phase.POST),
        ("2026-11-20 16:29:59", Phase.POST),
        ("2026-11-20 16:30", Phase.CLOSED),
    ],
)
def test_pre_and_post_windows_leave_the_rest_of_a_trading_day_closed(
    wall: str, phase: Phase
) -> None:
    windows = PhaseBoundaries(pre_open_min=60, post_close_min=30)
    state = ny_state(wall, windows)
    assert state.phase is phase
    assert state.is_trading_day is True  # CLOSED here is "outside the windows", not a holiday


def test_zero_width_open_and_close_phases_never_occur() -> None:
    bare = PhaseBoundaries(open_min=0, early_min=0, late_min=1, close_min=0)
    assert ny_state("2026-11-20 09:30", bare).phase is Phase.MID
    assert ny_state("2026-11-20 15:59:59", bare).phase is Phase.LATE


def test_close_side_wins_when_a_short_session_cannot_fit_both() -> None:
    # The early-close session is 210 minutes; EARLY would run to 240 after the open.
    long_early = PhaseBoundaries(early_min=240)
    assert ny_state("2026-11-27 12:44", long_early).phase is Phase.EARLY
    assert ny_state("2026-11-27 12:45", long_early).phase is Phase.LATE
    assert ny_state("2026-11-27 12:58", long_early).phase is Phase.CLOSE


def test_phases_follow_in_order_through_an_early_close_day() -> None:
    calendar, start = xnys(), ny_ns("2026-11-27 00:00")
    seen: list[Phase] = []
    for second in range(0, 24 * 3600, 15):
        phase = phase_at(start + second * 10**9, calendar).phase
        if not seen or seen[-1] is not phase:
            seen.append(phase)
    assert seen == [
        Phase.PRE,
        Phase.OPEN,
        Phase.EARLY,
        Phase.MID,
        Phase.LATE,
        Phase.CLOSE,
        Phase.POST,
    ]


def test_phase_on_a_simulated_clock_reading() -> None:
    clock = SimulatedClock(ny_ns("2026-11-27 12:45"))
    assert phase_at(clock.now_ns(), xnys()).phase is Phase.LATE


def test_phase_in_session_works_without_a_calendar_lookup() -> None:
    session = xnys().trading_session(date(2026, 11, 27))
    assert session is not None
    assert phase_in_session(ny_ns("2026-11-27 12:58"), session, PhaseBoundaries()) is Phase.CLOSE


def test_a_float_timestamp_is_refused() -> None:
    with pytest.raises(TypeError, match=r"^ts_ns: must be int nanoseconds UTC, got 1\.0$"):
        phase_at(1.0, xnys())  # type: ignore[arg-type]


def test_a_day_outside_the_calendar_range_raises() -> None:
    with pytest.raises(ValueError, match=r"^day: 2031-03-03 is outside the XNYS calendar range"):
        ny_state("2031-03-03 10:00")
