"""Session test helpers: exchange wall times as int ns UTC, the shared XNYS calendar, states.

``ny_ns("2026-11-20 15:46")`` is the instant New York clocks show 15:46 that day, in int ns
UTC. Wall times a DST change skips or repeats are refused, so a test never means two instants.
"""

from __future__ import annotations

import zoneinfo
from datetime import datetime

from quantrail.session import ExchangeCalendar, PhaseBoundaries, SessionState, phase_at, to_utc_ns

NEW_YORK = "America/New_York"


def wall_ns(text: str, tz: str) -> int:
    """Wall time ``text`` (``YYYY-MM-DD HH:MM[:SS[.ffffff]]``) in zone ``tz`` as int ns UTC."""
    naive = datetime.fromisoformat(text)
    if naive.tzinfo is not None:
        raise ValueError(f"text: give a wall time without an offset, got {text!r}")
    zone = zoneinfo.ZoneInfo(tz)
    earlier, later = naive.replace(tzinfo=zone, fold=0), naive.replace(tzinfo=zone, fold=1)
    if earlier.utcoffset() != later.utcoffset():
        raise ValueError(f"text: {text!r} is skipped or repeated by a DST change in {tz}")
    return to_utc_ns(earlier)


def ny_ns(text: str) -> int:
    """New York wall time ``text`` as int ns UTC."""
    return wall_ns(text, NEW_YORK)


def xnys() -> ExchangeCalendar:
    """The New York Stock Exchange calendar (loaded once per process, then cheap)."""
    return ExchangeCalendar("XNYS", NEW_YORK)


def ny_state(text: str, boundaries: PhaseBoundaries | None = None) -> SessionState:
    """The XNYS session state at New York wall time ``text``."""
    return phase_at(ny_ns(text), xnys(), boundaries)
