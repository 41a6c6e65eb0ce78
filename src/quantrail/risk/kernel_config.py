"""The ``risk_kernel`` and ``kill_switch`` config sections.

Percentages are percent of equity (``1.0`` is 1 %). ``daily_loss_limit_pct`` is a loss, so it
is negative (``-5.0``); a positive one is refused. Validation errors start with ``fieldname: ``
so the config loader names the key path.
"""

from __future__ import annotations

import math

import msgspec


class _Section(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    pass


def _finite(name: str, value: float) -> None:
    if not math.isfinite(value):
        raise ValueError(f"{name}: must be a finite number, got {value}")


class RiskKernelConfig(_Section, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """Every advisory's four dimensions (trade, daily, drawdown, system integrity).

    ``depends_on``: services whose heartbeat must be younger than ``heartbeat_timeout_s``
    (empty: no heartbeat check). ``symbols``: an allow-list (empty: every symbol).
    ``require_mode``: veto (``MODE_THROTTLED``) while the decision engine has announced no mode
    for the account (off by default, so a chain run without the engine is not blocked).
    ``signing_key_env`` / ``signing_key_file``: where the HMAC key that signs evaluations comes
    from (never the YAML itself); ``previous_key_env`` / ``previous_key_file`` the key before a
    rotation (execution accepts both)."""

    risk_per_trade_pct: float = 1.0
    max_position_pct: float = 25.0
    min_edge_score: int = 50
    min_confidence: float = 0.5
    symbols: list[str] = msgspec.field(default_factory=list)
    daily_loss_limit_pct: float = -5.0
    max_trades_per_day: int = 20
    max_open_positions: int = 5
    max_drawdown_pct: float = 10.0
    max_data_age_s: float = 120.0
    heartbeat_timeout_s: float = 90.0
    depends_on: list[str] = msgspec.field(default_factory=list)
    round_lot: int = 100
    require_mode: bool = False
    signing_key_env: str = "QUANTRAIL_SIGNING_KEY"
    signing_key_file: str | None = None
    previous_key_env: str = "QUANTRAIL_SIGNING_KEY_PREVIOUS"
    previous_key_file: str | None = None

    def __post_init__(self) -> None:
        for name in (
            "risk_per_trade_pct", "max_position_pct", "min_confidence", "daily_loss_limit_pct",
            "max_drawdown_pct", "max_data_age_s", "heartbeat_timeout_s",
        ):  # fmt: skip
            _finite(name, getattr(self, name))
        if not 0 < self.risk_per_trade_pct <= 100:
            raise ValueError("risk_per_trade_pct: must be in (0, 100]")
        if not 0 < self.max_position_pct <= 100:
            raise ValueError(f"max_position_pct: must be in (0, 100], got {self.max_position_pct}")
        if not 0 <= self.min_edge_score <= 100:
            raise ValueError(f"min_edge_score: must be in [0, 100], got {self.min_edge_score}")
        if not 0.0 <= self.min_confidence <= 1.0:
            raise ValueError(f"min_confidence: must be in [0, 1], got {self.min_confidence}")
        if not -100 <= self.daily_loss_limit_pct < 0:
            raise ValueError("daily_loss_limit_pct: must be a loss in [-100, 0)")
        if not 0 < self.max_drawdown_pct <= 100:
            raise ValueError(f"max_drawdown_pct: must be in (0, 100], got {self.max_drawdown_pct}")
        for name in ("max_trades_per_day", "max_open_positions", "round_lot"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name}: must be >= 1, got {getattr(self, name)}")
        for name in ("max_data_age_s", "heartbeat_timeout_s"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name}: must be > 0, got {getattr(self, name)}")


class KillSwitchConfig(_Section, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """The daily status and kill switch service. The trigger is the risk kernel's
    ``daily_loss_limit_pct``; ``flatten`` closes every position on activation (execution sends
    the reduce-only orders); ``status_interval_s`` paces ``risk.daily_status.updated``."""

    flatten: bool = False
    status_interval_s: float = 60.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.status_interval_s) and self.status_interval_s > 0):
            raise ValueError(f"status_interval_s: must be > 0, got {self.status_interval_s}")
