"""Session settings: which exchange calendar, its zone, the tick, and where phases begin.

Errors start with the field name and a colon (``late_min: ...``) so the config loader can turn
them into ``config key 'session.phases.late_min'``.
"""

from __future__ import annotations

import math
import zoneinfo

import msgspec


# The struct options are spelled on each class rather than inherited from a shared base: mypy
# (via msgspec's dataclass_transform) rejects subclasses of a frozen base as "non-frozen".
class PhaseBoundaries(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """Phase boundaries in whole minutes from the open or to the close.

    OPEN is the first ``open_min`` after the open, EARLY runs to ``early_min`` after the open,
    LATE is the last ``late_min`` before the close and CLOSE the last ``close_min``.
    ``pre_open_min``/``post_close_min`` bound PRE and POST; None means the whole rest of the
    exchange-local day on that side of the session counts.
    """

    open_min: int = 15
    early_min: int = 60
    late_min: int = 15
    close_min: int = 2
    pre_open_min: int | None = None
    post_close_min: int | None = None

    def __post_init__(self) -> None:
        for name in ("open_min", "early_min", "late_min", "close_min"):
            _require_non_negative(name, getattr(self, name))
        for name in ("pre_open_min", "post_close_min"):
            value = getattr(self, name)
            if value is not None:
                _require_non_negative(name, value)
        if self.open_min > self.early_min:
            raise ValueError(
                f"early_min: must be at least open_min "
                f"(early_min={self.early_min}, open_min={self.open_min})"
            )
        if self.close_min >= self.late_min:
            raise ValueError(
                f"late_min: must be greater than close_min "
                f"(late_min={self.late_min}, close_min={self.close_min})"
            )


def _require_non_negative(name: str, value: int) -> None:
    if value < 0:
        raise ValueError(f"{name}: must be >= 0 (got {value})")


class SessionConfig(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """The ``session`` config section."""

    exchange: str = "XNYS"
    timezone: str = "America/New_York"
    tick_s: float = 1.0
    phases: PhaseBoundaries = PhaseBoundaries()

    def __post_init__(self) -> None:
        if not self.exchange.strip():
            raise ValueError(f"exchange: must name an exchange calendar (got {self.exchange!r})")
        if not (math.isfinite(self.tick_s) and self.tick_s > 0):
            raise ValueError(f"tick_s: must be a finite number of seconds > 0 (got {self.tick_s})")
        try:
            zoneinfo.ZoneInfo(self.timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"timezone: unknown time zone {self.timezone!r}") from None
