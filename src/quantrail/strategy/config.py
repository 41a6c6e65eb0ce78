"""Config sections of the trading chain's strategy side: ``regime``, ``strategy``, ``sizer``
and ``exit_brain``.

Each has defaults (an empty section is valid), refuses unknown keys, and its validation errors
start with ``fieldname: `` so the config loader names the key path (``risk_kernel`` and
``kill_switch`` live in ``quantrail.risk.kernel_config``).
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

import msgspec

from quantrail.marketdata.config import timeframe_seconds
from quantrail.vocab import Bucket, OrderType, TimeInForce


class _Section(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    pass


def _positive(name: str, value: float) -> None:
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name}: must be > 0, got {value}")


class RegimeConfig(_Section, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """The regime detector, per symbol on each closed candle of ``timeframe``.

    Trend vs range by Kaufman's efficiency ratio over ``er_window`` candles (>= ``trend_er`` is
    TRENDING, else RANGING); CHAOTIC when realized volatility over ``vol_window`` candles is at
    least ``chaos_ratio`` times its baseline over ``baseline_window`` candles. A spike
    (short-window volatility / baseline >= ``spike_ratio``) publishes ``regime.volatility.spiked``
    once per episode; the episode ends when the ratio falls back under ``spike_ratio``."""

    timeframe: str = "1m"
    er_window: int = 20
    trend_er: float = 0.35
    vol_window: int = 10
    baseline_window: int = 60
    chaos_ratio: float = 3.0
    spike_ratio: float = 2.0

    def __post_init__(self) -> None:
        timeframe_seconds(self.timeframe)
        for name in ("er_window", "vol_window", "baseline_window"):
            if getattr(self, name) < 2:
                raise ValueError(f"{name}: must be >= 2, got {getattr(self, name)}")
        if not 0.0 < self.trend_er < 1.0:
            raise ValueError(f"trend_er: must be in (0, 1), got {self.trend_er}")
        _positive("chaos_ratio", self.chaos_ratio)
        _positive("spike_ratio", self.spike_ratio)


class StrategyConfig(_Section, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """The signal advisory's strategy: ``name`` is a shipped one (``breakout``, ``meanrevert``,
    ``scripted``) or ``package.module:Class``; ``params`` go to its constructor and are checked
    by it. ``account`` it trades for (None: the first account in ``risk.accounts``), the
    ``symbols`` it watches (empty: every symbol it sees), the candle ``timeframe`` it reads,
    the ``bucket`` its positions belong to, and whether it ``trades_chaos`` (else the risk kernel
    vetoes its advisories in a CHAOTIC regime). ``name: ""`` runs no strategy.
    ``history``: how many candles per symbol the strategy can look back on;
    ``clock_s``: how often (service clock) a time-driven strategy (``scripted``) is asked."""

    name: str = ""
    params: dict[str, Any] = msgspec.field(default_factory=dict)
    account: str | None = None
    symbols: list[str] = msgspec.field(default_factory=list)
    timeframe: str = "1m"
    bucket: Bucket = Bucket.MM_PURE
    trades_chaos: bool = False
    history: int = 200
    clock_s: float = 1.0

    def __post_init__(self) -> None:
        timeframe_seconds(self.timeframe)
        if self.history < 2:
            raise ValueError(f"history: must be >= 2, got {self.history}")
        _positive("clock_s", self.clock_s)


class SizerConfig(_Section, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """The position sizer: ``order_type`` of the entry order, and for a LIMIT entry the
    ``limit_offset`` in dollars through the entry price (a buy at entry + offset)."""

    order_type: OrderType = OrderType.MARKET
    limit_offset: Decimal = Decimal("0.00")
    tif: TimeInForce = TimeInForce.DAY
    round_lot: int = 100

    def __post_init__(self) -> None:
        if not self.limit_offset.is_finite() or self.limit_offset < 0:
            raise ValueError(f"limit_offset: must be a finite amount >= 0, got {self.limit_offset}")
        if self.round_lot < 1:
            raise ValueError(f"round_lot: must be >= 1, got {self.round_lot}")


class ExitRules(_Section, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """One strategy's exit rules. None/False switches a rule off."""

    max_hold_minutes: float | None = None
    target_r: float | None = None
    trailing_stop_pct: float | None = None
    regime_exit: bool = False
    volatility_exit: bool = False
    order_type: OrderType = OrderType.MARKET
    target_exit_pct: float = 100.0
    """The share of the position sold at the target: 100 is an EXIT_FULL, less an EXIT_PARTIAL
    (once; the rest rides on its stop and the other rules)."""

    def __post_init__(self) -> None:
        for name in ("max_hold_minutes", "target_r", "trailing_stop_pct"):
            value = getattr(self, name)
            if value is not None:
                _positive(name, value)
        if self.trailing_stop_pct is not None and self.trailing_stop_pct >= 100:
            raise ValueError(f"trailing_stop_pct: must be < 100, got {self.trailing_stop_pct}")
        if not 0.0 < self.target_exit_pct <= 100.0:
            raise ValueError(f"target_exit_pct: must be in (0, 100], got {self.target_exit_pct}")


DEFAULT_EXIT_RULES = ExitRules(
    max_hold_minutes=240.0, target_r=2.0, trailing_stop_pct=None, regime_exit=True,
    volatility_exit=True,
)  # fmt: skip
"""What a shipped trading strategy (breakout, meanrevert) gets when nothing is configured.
``scripted`` gets ``ExitRules()``: every exit but the stop and the kill switch off."""


class ExitBrainConfig(_Section, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """Exit rules per strategy name (``breakout``, ``scripted``, ``mypkg.mod:Class``).

    ``check_interval_s``: how often (service clock) time exits and resends are looked at;
    ``retry_after_s``: an exit order that ended unfilled is sent again no sooner than this;
    ``max_exit_orders``: exit orders per position at most (then an alert, and a person)."""

    strategies: dict[str, ExitRules] = msgspec.field(default_factory=dict)
    check_interval_s: float = 1.0
    retry_after_s: float = 5.0
    max_exit_orders: int = 10

    def __post_init__(self) -> None:
        _positive("check_interval_s", self.check_interval_s)
        if not (math.isfinite(self.retry_after_s) and self.retry_after_s >= 0):
            raise ValueError(f"retry_after_s: must be >= 0, got {self.retry_after_s}")
        if self.max_exit_orders < 1:
            raise ValueError(f"max_exit_orders: must be >= 1, got {self.max_exit_orders}")

    def rules_for(self, strategy: str) -> ExitRules:
        if strategy in self.strategies:
            return self.strategies[strategy]
        return ExitRules() if strategy == "scripted" else DEFAULT_EXIT_RULES


class PositionsConfig(_Section, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """The position state service: ``position.state.updated`` on a price move at most every
    ``update_interval_s`` per position (fills always publish at once)."""

    update_interval_s: float = 5.0

    def __post_init__(self) -> None:
        _positive("update_interval_s", self.update_interval_s)
