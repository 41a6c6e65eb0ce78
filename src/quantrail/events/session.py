"""The session clock: where the exchange's trading day stands, published every second."""

from __future__ import annotations

import re

from quantrail.events.base import Event
from quantrail.vocab import Phase

_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")


class SessionClockTicked(Event, frozen=True, kw_only=True, tag="session.clock.ticked"):
    """The session's phase and timing at ``ts_event``.

    ``session_date`` is the exchange-local date ``YYYY-MM-DD``. On a day without trading
    (``is_trading_day`` false, phase ``CLOSED``) ``open_ns``/``close_ns`` are None and the minute
    counts mean nothing. ``early_close`` marks a shortened session (``close_ns`` is the early one).
    """

    exchange: str
    session_date: str
    phase: Phase
    is_trading_day: bool
    early_close: bool = False
    open_ns: int | None = None
    close_ns: int | None = None
    minutes_since_open: float
    minutes_to_close: float

    def __post_init__(self) -> None:
        if not _DATE_RE.fullmatch(self.session_date):
            raise ValueError(f"session_date: must be YYYY-MM-DD, got {self.session_date!r}")
        if self.is_trading_day and (self.open_ns is None or self.close_ns is None):
            raise ValueError(
                f"open_ns/close_ns: required on a trading day, got {self.open_ns}/{self.close_ns}"
            )
