"""The risk kernel's decision: one advisory, one snapshot of the risk state, one verdict.

Pure and synchronous: ``evaluate(advisory, state, config, now_ns)`` reads nothing else (ages
are counted by ``wall_s``, the service clock's ``wall_seconds``: wall seconds in a replay at a
fixed speed, exact otherwise; runtime/clock.py). Four
dimensions, each reported in ``risk_dimensions``; every failed check adds its ``VetoCode``, and
any code vetoes. The codes are listed system integrity first, so ``veto_reason`` (the first) is
the most fundamental one (a kill switch before a low edge score).

* **system integrity**: kill switch, the decision engine's mode, stale data, missing heartbeats,
  a CHAOTIC regime, an unknown account;
* **daily risk**: daily P&L % at or below the loss limit, approvals today, open positions;
* **drawdown**: drawdown from the high-water mark above ``max_drawdown_pct``;
* **trade risk**: the advisory itself (action, allow-list, edge, confidence, entry and stop) and
  its size. Sizing: the risk budget is ``equity x risk_per_trade_pct``; the size it buys is
  ``floor(budget / |entry - stop|)`` in round lots (``requested_qty``); the position cap is
  ``floor(equity x max_position_pct / entry)`` in round lots. A request above the cap is cut to
  it (MODIFIED); a budget that buys no round lot vetoes ``RISK_PER_TRADE``, a cap of no round lot
  ``MAX_POSITION``. The granted ``risk_amount`` is what the approved size risks, exactly.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from quantrail.events.risk import RiskDecision, RiskDimensions
from quantrail.events.signals import SignalIssued
from quantrail.risk.kernel_config import RiskKernelConfig
from quantrail.runtime.clock import WallSeconds, exact_seconds
from quantrail.vocab import Direction, Mode

HUNDRED = Decimal(100)
EXPOSURE_BLOCKING_MODES = frozenset({Mode.THROTTLE_NEW_ORDERS, Mode.SOFT_DERISK, Mode.HARD_DERISK})


class VetoCode(enum.StrEnum):
    """Stable reason codes of a veto (on the wire in ``veto_reason`` / ``veto_reasons``)."""

    KILL_SWITCH_ACTIVE = "KILL_SWITCH_ACTIVE"
    MODE_THROTTLED = "MODE_THROTTLED"
    STALE_DATA = "STALE_DATA"
    SERVICE_DOWN = "SERVICE_DOWN"
    REGIME_CHAOTIC = "REGIME_CHAOTIC"
    UNKNOWN_ACCOUNT = "UNKNOWN_ACCOUNT"
    DAILY_LOSS_LIMIT = "DAILY_LOSS_LIMIT"
    MAX_TRADES_PER_DAY = "MAX_TRADES_PER_DAY"
    MAX_OPEN_POSITIONS = "MAX_OPEN_POSITIONS"
    MAX_DRAWDOWN = "MAX_DRAWDOWN"
    NO_SIGNAL = "NO_SIGNAL"
    SYMBOL_NOT_ALLOWED = "SYMBOL_NOT_ALLOWED"
    EDGE_TOO_LOW = "EDGE_TOO_LOW"
    LOW_CONFIDENCE = "LOW_CONFIDENCE"
    NO_STOP = "NO_STOP"
    NO_ENTRY = "NO_ENTRY"
    INVALID_STOP = "INVALID_STOP"
    RISK_PER_TRADE = "RISK_PER_TRADE"
    MAX_POSITION = "MAX_POSITION"


@dataclass(frozen=True, slots=True)
class KernelState:
    """What the kernel knows when it evaluates one advisory (the service builds it).

    ``equity``: the daily status's equity when there is one, else the account's start-of-day
    equity. ``daily_pnl_pct`` / ``drawdown_pct``: from the latest daily status (None: none yet,
    nothing to check). ``market_data_ns``: the newest tick, quote, trade or candle of the symbol.
    ``regime``: the symbol's regime (the newer of the last classification and the advisory's;
    None: the advisory's own).
    ``heartbeats``: service name -> ``ts_event`` of its last heartbeat.
    """

    account_known: bool
    equity: Decimal
    daily_pnl_pct: float | None = None
    drawdown_pct: float | None = None
    kill_switch_active: bool = False
    mode: Mode | None = None
    open_positions: int = 0
    approvals_today: int = 0
    market_data_ns: int | None = None
    regime: str | None = None
    heartbeats: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Sizing:
    """The size the trade risk dimension worked out (zeros when it could not)."""

    risk_budget: Decimal = Decimal(0)
    risk_per_share: Decimal = Decimal(0)
    requested_qty: int = 0
    cap_qty: int = 0

    @property
    def allowed_qty(self) -> int:
        return min(self.requested_qty, self.cap_qty)


@dataclass(frozen=True, slots=True)
class Verdict:
    """The evaluation: decision, every failed check, and the size allowed."""

    decision: RiskDecision
    reasons: tuple[VetoCode, ...]
    dimensions: RiskDimensions
    direction: Direction | None
    equity: Decimal
    sizing: Sizing
    approved_qty: int
    modifications: dict[str, Any]
    inputs: dict[str, Any]

    @property
    def risk_amount(self) -> Decimal:
        """Dollars the approved size risks (0 when vetoed)."""
        return self.sizing.risk_per_share * self.approved_qty

    @property
    def risk_percent(self) -> float:
        return float(self.risk_amount / self.equity * HUNDRED) if self.equity > 0 else 0.0


def evaluate(
    advisory: SignalIssued,
    state: KernelState,
    config: RiskKernelConfig,
    now_ns: int,
    *,
    trades_chaos: bool = False,
    wall_s: WallSeconds = exact_seconds,
) -> Verdict:
    """The kernel's verdict on ``advisory`` (see the module doc)."""
    system = system_codes(advisory, state, config, now_ns, trades_chaos, wall_s)
    daily = daily_codes(state, config)
    drawdown = drawdown_codes(state, config)
    trade, sizing = trade_codes(advisory, state, config)
    reasons = (*system, *daily, *drawdown, *trade)
    dimensions = RiskDimensions(
        trade_risk_passed=not trade,
        daily_risk_passed=not daily,
        drawdown_passed=not drawdown,
        system_integrity_passed=not system,
    )
    approved = 0 if reasons else sizing.allowed_qty
    modifications: dict[str, Any] = {}
    decision: RiskDecision = "VETOED" if reasons else "APPROVED"
    if not reasons and approved < sizing.requested_qty:
        decision = "MODIFIED"
        modifications = {
            "qty": {"from": sizing.requested_qty, "to": approved},
            "reason": f"position notional above max_position_pct {config.max_position_pct}",
        }
    return Verdict(
        decision=decision,
        reasons=reasons,
        dimensions=dimensions,
        direction=direction_of(advisory),
        equity=state.equity,
        sizing=sizing,
        approved_qty=approved,
        modifications=modifications,
        inputs=_inputs(advisory, state, now_ns, wall_s),
    )


def direction_of(advisory: SignalIssued) -> Direction | None:
    if advisory.recommended_action == "LONG":
        return Direction.LONG
    return Direction.SHORT if advisory.recommended_action == "SHORT" else None


def _age_s(ts_ns: int | None, now_ns: int, wall_s: WallSeconds) -> float | None:
    """Seconds since ``ts_ns`` (a timestamp ahead of the clock counts as 0)."""
    return None if ts_ns is None else wall_s(max(0, now_ns - ts_ns))


def system_codes(
    advisory: SignalIssued,
    state: KernelState,
    config: RiskKernelConfig,
    now_ns: int,
    trades_chaos: bool,
    wall_s: WallSeconds = exact_seconds,
) -> list[VetoCode]:
    codes: list[VetoCode] = []
    if not state.account_known:
        codes.append(VetoCode.UNKNOWN_ACCOUNT)
    if state.kill_switch_active:
        codes.append(VetoCode.KILL_SWITCH_ACTIVE)
    if state.mode in EXPOSURE_BLOCKING_MODES or (state.mode is None and config.require_mode):
        codes.append(VetoCode.MODE_THROTTLED)
    if _stale(advisory, state, config, now_ns, wall_s):
        codes.append(VetoCode.STALE_DATA)
    if down_services(state.heartbeats, config, now_ns, wall_s):
        codes.append(VetoCode.SERVICE_DOWN)
    if (state.regime or advisory.regime) == "CHAOTIC" and not trades_chaos:
        codes.append(VetoCode.REGIME_CHAOTIC)
    return codes


def _stale(
    advisory: SignalIssued,
    state: KernelState,
    config: RiskKernelConfig,
    now_ns: int,
    wall_s: WallSeconds,
) -> bool:
    # The advisory's own data time counts as market data too: it saw the data it priced.
    data_ns = max(state.market_data_ns or 0, advisory.ts_data_ns) or None
    data_age = _age_s(data_ns, now_ns, wall_s)
    advisory_age = _age_s(advisory.ts_event, now_ns, wall_s)
    return (
        data_age is None
        or data_age > config.max_data_age_s
        or (advisory_age is not None and advisory_age > config.max_data_age_s)
    )


def down_services(
    heartbeats: Mapping[str, int],
    config: RiskKernelConfig,
    now_ns: int,
    wall_s: WallSeconds = exact_seconds,
) -> list[str]:
    """The ``depends_on`` services with no heartbeat within ``heartbeat_timeout_s``."""
    limit = config.heartbeat_timeout_s
    return [
        name
        for name in config.depends_on
        if (age := _age_s(heartbeats.get(name), now_ns, wall_s)) is None or age > limit
    ]


def daily_codes(state: KernelState, config: RiskKernelConfig) -> list[VetoCode]:
    codes: list[VetoCode] = []
    if state.daily_pnl_pct is not None and state.daily_pnl_pct <= config.daily_loss_limit_pct:
        codes.append(VetoCode.DAILY_LOSS_LIMIT)
    if state.approvals_today >= config.max_trades_per_day:
        codes.append(VetoCode.MAX_TRADES_PER_DAY)
    if state.open_positions >= config.max_open_positions:
        codes.append(VetoCode.MAX_OPEN_POSITIONS)
    return codes


def drawdown_codes(state: KernelState, config: RiskKernelConfig) -> list[VetoCode]:
    # The status gives the drawdown in percentage points; its sign is not part of the contract.
    if state.drawdown_pct is not None and abs(state.drawdown_pct) > config.max_drawdown_pct:
        return [VetoCode.MAX_DRAWDOWN]
    return []


def trade_codes(
    advisory: SignalIssued, state: KernelState, config: RiskKernelConfig
) -> tuple[list[VetoCode], Sizing]:
    codes = _advisory_codes(advisory, config)
    direction, entry, stop = direction_of(advisory), advisory.entry_price, advisory.stop_price
    if stop is None:
        codes.append(VetoCode.NO_STOP)
    if entry is None or not entry.is_finite() or entry <= 0:
        codes.append(VetoCode.NO_ENTRY)
        return codes, Sizing()
    if stop is None or direction is None:
        return codes, Sizing()
    if not _stop_protects(direction, entry, stop):
        codes.append(VetoCode.INVALID_STOP)
        return codes, Sizing()
    sizing = size(state.equity, entry, stop, config)
    if sizing.requested_qty == 0:
        codes.append(VetoCode.RISK_PER_TRADE)
    if sizing.cap_qty == 0:
        codes.append(VetoCode.MAX_POSITION)
    return codes, sizing


def _stop_protects(direction: Direction, entry: Decimal, stop: Decimal) -> bool:
    """A stop below the entry of a long, above the entry of a short (and a real price)."""
    if not stop.is_finite() or stop <= 0:
        return False
    return stop < entry if direction is Direction.LONG else stop > entry


def _advisory_codes(advisory: SignalIssued, config: RiskKernelConfig) -> list[VetoCode]:
    codes: list[VetoCode] = []
    if advisory.recommended_action not in ("LONG", "SHORT"):
        codes.append(VetoCode.NO_SIGNAL)
    if config.symbols and advisory.symbol not in config.symbols:
        codes.append(VetoCode.SYMBOL_NOT_ALLOWED)
    if advisory.edge_score < config.min_edge_score:
        codes.append(VetoCode.EDGE_TOO_LOW)
    if advisory.confidence < config.min_confidence:
        codes.append(VetoCode.LOW_CONFIDENCE)
    return codes


def size(equity: Decimal, entry: Decimal, stop: Decimal, config: RiskKernelConfig) -> Sizing:
    """Round-lot sizes for a risk budget of ``risk_per_trade_pct`` and the notional cap."""
    if equity <= 0:
        return Sizing()
    budget = equity * Decimal(str(config.risk_per_trade_pct)) / HUNDRED
    per_share = abs(entry - stop)
    cap_notional = equity * Decimal(str(config.max_position_pct)) / HUNDRED
    return Sizing(
        risk_budget=budget,
        risk_per_share=per_share,
        requested_qty=round_lots(int(budget // per_share), config.round_lot),
        cap_qty=round_lots(int(cap_notional // entry), config.round_lot),
    )


def round_lots(qty: int, lot: int) -> int:
    """``qty`` rounded down to whole lots."""
    return qty // lot * lot


def _inputs(
    advisory: SignalIssued, state: KernelState, now_ns: int, wall_s: WallSeconds
) -> dict[str, Any]:
    """What the decision was made on, for the audit record (the ages as compared)."""
    return {
        "symbol": advisory.symbol,
        "action": advisory.recommended_action,
        "edge_score": advisory.edge_score,
        "confidence": advisory.confidence,
        "entry_price": None if advisory.entry_price is None else str(advisory.entry_price),
        "stop_price": None if advisory.stop_price is None else str(advisory.stop_price),
        "equity": str(state.equity),
        "daily_pnl_pct": state.daily_pnl_pct,
        "drawdown_pct": state.drawdown_pct,
        "kill_switch_active": state.kill_switch_active,
        "mode": None if state.mode is None else str(state.mode),
        "open_positions": state.open_positions,
        "approvals_today": state.approvals_today,
        "market_data_age_s": _age_s(state.market_data_ns, now_ns, wall_s),
        "advisory_age_s": _age_s(advisory.ts_event, now_ns, wall_s),
        "regime": state.regime,
    }
