"""The ``marketdata`` config section: candle timeframes, the tick throttle and the features.

Like every section it has defaults, refuses unknown keys, and its validation errors start with
``fieldname: `` so the config loader can name the key path.
"""

from __future__ import annotations

import re
from decimal import Decimal

import msgspec

TIMEFRAME_PATTERN = re.compile(r"^([1-9][0-9]*)([smhd])$")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86_400}


def timeframe_seconds(timeframe: str) -> int:
    """``"1m"`` -> 60, ``"5m"`` -> 300, ``"1h"`` -> 3600; ValueError naming the value."""
    match = TIMEFRAME_PATTERN.match(timeframe)
    if match is None:
        raise ValueError(f"timeframe: must look like 30s, 1m, 5m, 1h or 1d, got {timeframe!r}")
    return int(match.group(1)) * _UNIT_S[match.group(2)]


class MarketDataConfig(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """``timeframes``: the candles built from prints (from quote mids when a symbol has no
    prints). ``tick_max_per_s``: at most this many ``market.tick.updated`` per symbol per second.
    ``features_min_interval_s``: a symbol's ``market.feature.computed`` events are published at
    most this often (a changed value waits for the interval; 0 publishes every change).
    ``grpan_window`` / ``grpan_band``: GRPAN over the last N truth ticks within ± band dollars."""

    timeframes: list[str] = msgspec.field(default_factory=lambda: ["1m"])
    tick_max_per_s: float = 10.0
    features_min_interval_s: float = 1.0
    grpan_window: int = 15
    grpan_band: Decimal = Decimal("0.04")

    def __post_init__(self) -> None:
        if not self.timeframes:
            raise ValueError("timeframes: must name at least one timeframe, got []")
        for timeframe in self.timeframes:
            timeframe_seconds(timeframe)
        if not self.tick_max_per_s > 0:
            raise ValueError(f"tick_max_per_s: must be > 0, got {self.tick_max_per_s}")
        if self.features_min_interval_s < 0:
            raise ValueError(
                f"features_min_interval_s: must be >= 0, got {self.features_min_interval_s}"
            )
        if self.grpan_window < 1:
            raise ValueError(f"grpan_window: must be >= 1, got {self.grpan_window}")
        if not self.grpan_band.is_finite() or self.grpan_band < 0:
            raise ValueError(f"grpan_band: must be a finite amount >= 0, got {self.grpan_band}")


def require_built_timeframe(key: str, timeframe: str, config: MarketDataConfig) -> None:
    """A service reading candles of ``timeframe`` needs the candles service to build them:
    ValueError naming ``key`` when ``marketdata.timeframes`` does not list it."""
    if timeframe not in config.timeframes:
        raise ValueError(
            f"{key}: {timeframe!r} is not built by the candles service "
            f"(marketdata.timeframes: {', '.join(config.timeframes)})"
        )
