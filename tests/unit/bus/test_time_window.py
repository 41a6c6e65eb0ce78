"""The event-time window every time-taking verb shares, and how the CLI reads its bounds."""

from __future__ import annotations

import pytest

from kit.bus import Ping
from quantrail.bus.replay import TimeWindow, in_time_window
from quantrail.cli_options import parse_event_time

NOON_NY = 1_795_194_000_000_000_000
"""2026-11-20T12:00:00-05:00 (17:00 UTC) in ns."""


def test_the_window_is_half_open_in_event_time() -> None:
    window = TimeWindow(100, 200)
    assert [window.contains(Ping(ts_event=t, seq=0)) for t in (99, 100, 199, 200)] == [
        False,
        True,
        True,
        False,
    ]
    assert in_time_window(Ping(ts_event=5, seq=0), None, 6)
    assert not in_time_window(Ping(ts_event=6, seq=0), None, 6)
    assert in_time_window(Ping(ts_event=6, seq=0), 6, None)
    assert TimeWindow().is_open and not TimeWindow(1, None).is_open


def test_plain_fields_are_checked_without_decoding() -> None:
    window = TimeWindow(100, 200)
    assert window.contains_fields({b"ts_event": b"150"}) is True
    assert window.contains_fields({b"ts_event": b"250"}) is False
    assert window.contains_fields({b"ts_event": b"x"}) is None
    assert window.contains_fields({}) is None


def test_a_window_ending_before_it_starts_is_refused() -> None:
    with pytest.raises(ValueError, match="until: must be after since"):
        TimeWindow(200, 200)
    with pytest.raises(TypeError, match="since_ns: must be int nanoseconds"):
        TimeWindow(1.5, None)  # type: ignore[arg-type]


def test_cli_times_are_exact_iso_with_a_zone_or_int_ns() -> None:
    assert parse_event_time("2026-11-20T12:00:00-05:00", "--since") == NOON_NY
    assert parse_event_time("2026-11-20T17:00:00.000000001Z", "--since") == NOON_NY + 1
    assert parse_event_time(str(NOON_NY), "--until") == NOON_NY
    assert parse_event_time(None, "--until") is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2026-11-20T12:00:00", "--since: the time needs a zone"),
        ("1795194000000-0", "--since: '1795194000000-0' is a stream entry id"),
        ("noon", "--since: expected int nanoseconds or ISO-8601 with a zone: 'noon'"),
    ],
)
def test_bad_cli_times_name_the_option_and_the_value(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_event_time(text, "--since")
