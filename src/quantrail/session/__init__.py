"""Exchange calendar and session phases (pure logic; the session clock service wraps it)."""

from quantrail.session.calendar import (
    CALENDAR_END,
    CALENDAR_START,
    ExchangeCalendar,
    TradingSession,
)
from quantrail.session.config import PhaseBoundaries, SessionConfig
from quantrail.session.phases import (
    NS_PER_MINUTE,
    SessionLookup,
    SessionState,
    exchange_time,
    format_exchange_time,
    phase_at,
    phase_in_session,
    to_utc_ns,
)

__all__ = [
    "CALENDAR_END",
    "CALENDAR_START",
    "NS_PER_MINUTE",
    "ExchangeCalendar",
    "PhaseBoundaries",
    "SessionConfig",
    "SessionLookup",
    "SessionState",
    "TradingSession",
    "exchange_time",
    "format_exchange_time",
    "phase_at",
    "phase_in_session",
    "to_utc_ns",
]
