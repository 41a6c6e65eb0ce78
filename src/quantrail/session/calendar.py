"""The exchange calendar: which days trade and when they open and close.

Wraps ``exchange_calendars`` so holidays and early closes come from a maintained source. That
library imports pandas and takes a while to build a calendar, so it is imported lazily and each
exchange's schedule is loaded once per process, then copied into plain ints and dates: lookups
on the hot path (once a second) are dict hits with no pandas involved.

The schedule covers ``CALENDAR_START``..``CALENDAR_END`` (inclusive, exchange-local dates).
Outside that range nothing is known, so asking raises rather than calling the day a holiday.
"""

from __future__ import annotations

import bisect
import functools
import warnings
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from quantrail.runtime.clock import NS_PER_SECOND
from quantrail.session.config import SessionConfig

CALENDAR_START = date(2020, 1, 1)
CALENDAR_END = date(2030, 12, 31)


@dataclass(frozen=True, slots=True)
class TradingSession:
    """One trading day: its exchange-local date and its open and close (int ns UTC).

    ``early_close`` is True when the exchange closes earlier than its regular close that day
    (as the calendar defines it, e.g. 13:00 instead of 16:00 New York on the day after
    Thanksgiving).
    """

    session_date: date
    open_ns: int
    close_ns: int
    early_close: bool

    @property
    def duration_ns(self) -> int:
        return self.close_ns - self.open_ns


@dataclass(frozen=True, slots=True)
class _Schedule:
    exchange: str
    timezone: str
    by_date: Mapping[date, TradingSession]
    ordered: tuple[TradingSession, ...]
    opens_ns: tuple[int, ...]


def require_ts_ns(value: object, field: str = "ts_ns") -> int:
    """Check a timestamp is int nanoseconds UTC (not a float, bool or datetime)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{field}: must be int nanoseconds UTC, got {value!r}")
    return value


def local_date(ts_ns: int, zone: zoneinfo.ZoneInfo) -> date:
    """The calendar date in ``zone`` at ``ts_ns`` (floor to the second: sub-second is moot)."""
    return datetime.fromtimestamp(ts_ns // NS_PER_SECOND, tz=zone).date()


class ExchangeCalendar:
    """Trading days of one exchange, with open and close instants in int ns UTC.

    ``timezone``, when given, must be the exchange's own zone: the exchange-local date of a
    timestamp decides which session it belongs to, so a different zone would pick wrong days.
    """

    def __init__(self, exchange: str = "XNYS", timezone: str | None = None) -> None:
        self._schedule = _load_schedule(exchange)
        if timezone is not None and timezone != self._schedule.timezone:
            raise ValueError(
                f"timezone: {timezone!r} is not the zone of exchange {exchange!r} "
                f"({self._schedule.timezone!r})"
            )
        self._zone = zoneinfo.ZoneInfo(self._schedule.timezone)

    @classmethod
    def from_config(cls, config: SessionConfig) -> ExchangeCalendar:
        return cls(config.exchange, config.timezone)

    @property
    def exchange(self) -> str:
        return self._schedule.exchange

    @property
    def timezone(self) -> str:
        return self._schedule.timezone

    @property
    def first_date(self) -> date:
        return CALENDAR_START

    @property
    def last_date(self) -> date:
        return CALENDAR_END

    def local_date(self, ts_ns: int) -> date:
        """The exchange-local calendar date at ``ts_ns``."""
        return local_date(require_ts_ns(ts_ns), self._zone)

    def trading_session(self, day: date) -> TradingSession | None:
        """The session on exchange-local ``day``; None on weekends and holidays."""
        # A datetime is a date too, but it would never match a dict key: refuse it loudly.
        if isinstance(day, datetime) or not isinstance(day, date):
            raise TypeError(f"day: must be a datetime.date, got {day!r}")
        self._require_in_range("day", day)
        return self._schedule.by_date.get(day)

    def session_for(self, ts_ns: int) -> TradingSession | None:
        """The session on the exchange-local date of ``ts_ns`` (None if that day does not trade).

        The session is returned whether ``ts_ns`` is before, during or after its hours.
        """
        return self.trading_session(self.local_date(ts_ns))

    def next_session(self, after_ns: int) -> TradingSession:
        """The first session that opens strictly after ``after_ns``."""
        self._require_in_range("after_ns", self.local_date(require_ts_ns(after_ns, "after_ns")))
        index = bisect.bisect_right(self._schedule.opens_ns, after_ns)
        if index == len(self._schedule.ordered):
            raise ValueError(
                f"after_ns: no {self.exchange} session opens after {after_ns} within the "
                f"calendar range {CALENDAR_START}..{CALENDAR_END}"
            )
        return self._schedule.ordered[index]

    def _require_in_range(self, field: str, day: date) -> None:
        if not CALENDAR_START <= day <= CALENDAR_END:
            raise ValueError(
                f"{field}: {day} is outside the {self.exchange} calendar range "
                f"{CALENDAR_START}..{CALENDAR_END}"
            )


@functools.cache
def _load_schedule(exchange: str) -> _Schedule:
    """Build the exchange's schedule once per process (failures are not cached)."""
    import exchange_calendars
    from exchange_calendars.errors import CalendarError, InvalidCalendarName

    try:
        # exchange_calendars 4.13 on pandas 3 trips pandas' own deprecation warnings inside
        # its constructor; they are not ours to fix and would flood every run's output.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.simplefilter("ignore", FutureWarning)
            calendar = exchange_calendars.get_calendar(
                exchange, start=CALENDAR_START.isoformat(), end=CALENDAR_END.isoformat()
            )
            early_dates = {label.date() for label in calendar.early_closes}
            schedule = calendar.schedule
    except InvalidCalendarName:
        raise ValueError(f"exchange: unknown exchange calendar {exchange!r}") from None
    except CalendarError as exc:
        raise ValueError(f"exchange: cannot load calendar {exchange!r}: {exc}") from None
    ordered = tuple(
        TradingSession(
            session_date=label.date(),
            open_ns=_utc_ns(open_at),
            close_ns=_utc_ns(close_at),
            early_close=label.date() in early_dates,
        )
        for label, open_at, close_at in zip(
            schedule.index, schedule["open"], schedule["close"], strict=True
        )
    )
    return _Schedule(
        exchange=exchange,
        timezone=str(calendar.tz),
        by_date={session.session_date: session for session in ordered},
        ordered=ordered,
        opens_ns=tuple(session.open_ns for session in ordered),
    )


def _utc_ns(stamp: Any) -> int:
    """A tz-aware pandas Timestamp as int ns UTC (pandas 3 may hold it in another unit)."""
    return int(stamp.as_unit("ns").value)
