"""The ``health`` config section: the health monitor's thresholds (seed 003) and its pace."""

from __future__ import annotations

import math

import msgspec


class HealthConfig(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """Thresholds the health monitor raises as ``system.alert.triggered`` (and the same in
    ``ops/prometheus/alerts.yml``). Rates are over the counters of consecutive heartbeats, and
    only once at least ``min_events`` entries were handled, so one failure in three is no alert.
    """

    check_interval_s: float = 5.0
    max_stream_length: int = 50_000
    max_lag: int = 100
    min_ack_rate_pct: float = 99.0
    max_retry_rate_pct: float = 1.0
    min_events: int = 100
    heartbeat_missing_s: float = 90.0

    def __post_init__(self) -> None:
        for name in ("check_interval_s", "heartbeat_missing_s"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"{name}: must be > 0, got {value}")
        for name in ("max_stream_length", "max_lag", "min_events"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name}: must be >= 0, got {getattr(self, name)}")
        for name in ("min_ack_rate_pct", "max_retry_rate_pct"):
            if not 0 <= getattr(self, name) <= 100:
                raise ValueError(f"{name}: must be within 0..100, got {getattr(self, name)}")
