"""The session clock service: where the exchange's trading day stands, published every tick.

Every ``tick_s`` (and once at start) it asks ``phase_at(ctx.clock.now_ns(), calendar,
boundaries)`` and publishes a ``SessionClockTicked`` on ``session.clock``: phase, minutes since
the open and to the close, early close, from the exchange calendar (holidays and early closes
included). It keeps the same figures in ``state:session``. Time comes only from the service's
clock, so a simulated day gives the same ticks every run.
"""

from __future__ import annotations

import math

from quantrail.events.session import SessionClockTicked
from quantrail.runtime.service import Service, Timer
from quantrail.session.calendar import ExchangeCalendar
from quantrail.session.config import PhaseBoundaries
from quantrail.session.phases import SessionState, phase_at


class SessionClockService(Service):
    """Publishes the session phase every ``tick_s`` seconds of its clock (see module doc)."""

    name = "session-clock"

    def __init__(
        self,
        calendar: ExchangeCalendar,
        boundaries: PhaseBoundaries | None = None,
        tick_s: float = 1.0,
    ) -> None:
        super().__init__()
        if isinstance(tick_s, bool) or not isinstance(tick_s, int | float):
            raise ValueError(f"tick_s: must be a number of seconds > 0, got {tick_s!r}")
        if not math.isfinite(tick_s) or tick_s <= 0:
            raise ValueError(f"tick_s: must be a finite number of seconds > 0, got {tick_s!r}")
        self.calendar = calendar
        self.boundaries = boundaries or PhaseBoundaries()
        self.tick_s = float(tick_s)
        self.last: SessionClockTicked | None = None

    def timers(self) -> list[Timer]:
        return [Timer(self.tick_s, self.tick, "session-tick")]

    async def on_start(self) -> None:
        await self.tick()

    async def tick(self) -> None:
        """Publish the session state at the clock's now and keep it in ``state:session``."""
        state = phase_at(self.ctx.now_ns(), self.calendar, self.boundaries)
        event = session_event(state, self.calendar.exchange, self.name)
        await self.ctx.publish(event)
        await self.ctx.bus.set_state("session", session_fields(event))
        self.last = event


def session_event(state: SessionState, exchange: str, source: str = "") -> SessionClockTicked:
    """The event for ``state``; on a day without trading open/close are None, not 0."""
    trading = state.is_trading_day
    return SessionClockTicked(
        ts_event=state.ts_ns,
        source=source,
        exchange=exchange,
        session_date=state.session_date.isoformat(),
        phase=state.phase,
        is_trading_day=trading,
        early_close=state.early_close,
        open_ns=state.open_ns if trading else None,
        close_ns=state.close_ns if trading else None,
        minutes_since_open=state.minutes_since_open,
        minutes_to_close=state.minutes_to_close,
    )


def session_fields(event: SessionClockTicked) -> dict[str, str]:
    """The tick as strings for ``state:session`` (absent open/close as ``""``)."""
    return {
        "ts_ns": str(event.ts_event),
        "event_id": event.event_id,
        "exchange": event.exchange,
        "session_date": event.session_date,
        "phase": event.phase.value,
        "is_trading_day": "true" if event.is_trading_day else "false",
        "early_close": "true" if event.early_close else "false",
        "open_ns": "" if event.open_ns is None else str(event.open_ns),
        "close_ns": "" if event.close_ns is None else str(event.close_ns),
        "minutes_since_open": repr(event.minutes_since_open),
        "minutes_to_close": repr(event.minutes_to_close),
    }
