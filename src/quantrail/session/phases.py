"""Session phases: where an instant falls in the exchange's trading day.

Pure: the instant (int ns UTC) and the calendar are passed in, so the same code serves the wall
clock and the simulated clock. Phases of a trading day, with the default boundaries:

    PRE    before the open (or only the last ``pre_open_min`` before it; earlier is CLOSED)
    OPEN   [open, open + 15 min)
    EARLY  [open + 15 min, open + 60 min)
    MID    until close - 15 min
    LATE   [close - 15 min, close - 2 min)
    CLOSE  [close - 2 min, close)
    POST   from the close on (or only ``post_close_min`` after it; later is CLOSED)

A day the exchange does not trade (weekend, holiday) is CLOSED all day.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Protocol

from quantrail.runtime.clock import NS_PER_SECOND
from quantrail.session.calendar import TradingSession, require_ts_ns
from quantrail.session.config import PhaseBoundaries
from quantrail.vocab import Phase

NS_PER_MINUTE = 60 * NS_PER_SECOND
_NS_PER_MICRO = 1_000
_NS_PER_MILLI = 1_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class SessionLookup(Protocol):
    """What ``phase_at`` needs from a calendar (``ExchangeCalendar`` provides it)."""

    def local_date(self, ts_ns: int) -> date: ...

    def session_for(self, ts_ns: int) -> TradingSession | None: ...


@dataclass(frozen=True, slots=True)
class SessionState:
    """The session at one instant ``ts_ns`` (int ns UTC).

    ``session_date`` is the exchange-local date of ``ts_ns``. On a day that does not trade,
    ``phase`` is CLOSED, ``is_trading_day`` and ``early_close`` are False, ``open_ns`` and
    ``close_ns`` are 0 and both minute counts are 0.0.

    On a trading day the minute counts are signed and never clamped, so they stay exact and
    invertible (``open_ns == ts_ns - minutes_since_open * 60e9``):
    ``minutes_since_open`` = (ts - open) / 1 min, negative before the open (PRE: minus the
    minutes left to the open); ``minutes_to_close`` = (close - ts) / 1 min, negative after the
    close (POST). Decide on ``phase``, not on the sign of a count.
    """

    ts_ns: int
    session_date: date
    phase: Phase
    is_trading_day: bool
    early_close: bool
    open_ns: int
    close_ns: int
    minutes_since_open: float
    minutes_to_close: float

    @property
    def market_open(self) -> bool:
        """True inside [open, close): phases OPEN, EARLY, MID, LATE and CLOSE."""
        return self.is_trading_day and self.open_ns <= self.ts_ns < self.close_ns


def phase_at(
    ts_ns: int, calendar: SessionLookup, boundaries: PhaseBoundaries | None = None
) -> SessionState:
    """The session state at ``ts_ns`` from ``calendar`` and phase ``boundaries``.

    Raises ValueError when the calendar does not cover the day (see ``ExchangeCalendar``).
    """
    require_ts_ns(ts_ns)
    bounds = PhaseBoundaries() if boundaries is None else boundaries
    session = calendar.session_for(ts_ns)
    if session is None:
        return SessionState(
            ts_ns=ts_ns,
            session_date=calendar.local_date(ts_ns),
            phase=Phase.CLOSED,
            is_trading_day=False,
            early_close=False,
            open_ns=0,
            close_ns=0,
            minutes_since_open=0.0,
            minutes_to_close=0.0,
        )
    return SessionState(
        ts_ns=ts_ns,
        session_date=session.session_date,
        phase=phase_in_session(ts_ns, session, bounds),
        is_trading_day=True,
        early_close=session.early_close,
        open_ns=session.open_ns,
        close_ns=session.close_ns,
        minutes_since_open=(ts_ns - session.open_ns) / NS_PER_MINUTE,
        minutes_to_close=(session.close_ns - ts_ns) / NS_PER_MINUTE,
    )


def phase_in_session(ts_ns: int, session: TradingSession, bounds: PhaseBoundaries) -> Phase:
    """The phase of ``ts_ns`` on the (trading) day of ``session``.

    PRE is [open - pre_open_min, open) and POST [close, close + post_close_min); outside those
    windows (when they are set) a trading day's instant is CLOSED.

    When a session is too short for both sets of boundaries, the close side wins (LATE and
    CLOSE before OPEN and EARLY): being late to de-risk costs more than a missed open phase.
    """
    open_ns, close_ns = session.open_ns, session.close_ns
    if ts_ns < open_ns:
        pre = bounds.pre_open_min
        in_pre = pre is None or ts_ns >= open_ns - pre * NS_PER_MINUTE
        return Phase.PRE if in_pre else Phase.CLOSED
    if ts_ns >= close_ns:
        post = bounds.post_close_min
        in_post = post is None or ts_ns < close_ns + post * NS_PER_MINUTE
        return Phase.POST if in_post else Phase.CLOSED
    if ts_ns >= close_ns - bounds.close_min * NS_PER_MINUTE:
        return Phase.CLOSE
    if ts_ns >= close_ns - bounds.late_min * NS_PER_MINUTE:
        return Phase.LATE
    if ts_ns < open_ns + bounds.open_min * NS_PER_MINUTE:
        return Phase.OPEN
    if ts_ns < open_ns + bounds.early_min * NS_PER_MINUTE:
        return Phase.EARLY
    return Phase.MID


def exchange_time(ts_ns: int, tz: str | zoneinfo.ZoneInfo) -> datetime:
    """``ts_ns`` as an aware datetime in ``tz``, for display (microseconds: ns are floored)."""
    seconds, rest_ns = divmod(require_ts_ns(ts_ns), NS_PER_SECOND)
    utc = datetime.fromtimestamp(seconds, tz=UTC).replace(microsecond=rest_ns // _NS_PER_MICRO)
    # astimezone (not datetime arithmetic) so the DST fold of a repeated hour is set right.
    return utc.astimezone(_zone(tz))


def format_exchange_time(ts_ns: int, tz: str | zoneinfo.ZoneInfo) -> str:
    """``ts_ns`` shown in ``tz`` as ``2026-11-27 13:00:00.000 EST`` (milliseconds, zone name)."""
    local = exchange_time(ts_ns, tz)
    millis = (require_ts_ns(ts_ns) % NS_PER_SECOND) // _NS_PER_MILLI
    return f"{local:%Y-%m-%d %H:%M:%S}.{millis:03d} {local:%Z}"


def to_utc_ns(moment: datetime) -> int:
    """An aware datetime as int ns UTC, computed in integers (no float rounding)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"moment: must be timezone-aware, got {moment!r}")
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * NS_PER_SECOND + delta.microseconds * 1_000


def _zone(tz: str | zoneinfo.ZoneInfo) -> zoneinfo.ZoneInfo:
    if isinstance(tz, zoneinfo.ZoneInfo):
        return tz
    try:
        return zoneinfo.ZoneInfo(tz)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"tz: unknown time zone {tz!r}") from None
