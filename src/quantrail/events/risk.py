"""Risk kernel events: evaluations, mode changes, daily status and the kill switch."""

from __future__ import annotations

from typing import Literal

import msgspec

from quantrail.events.base import Details, Event, Money
from quantrail.vocab import Direction, Mode

RiskDecision = Literal["APPROVED", "VETOED", "MODIFIED"]
KillSeverity = Literal["WARNING", "CRITICAL", "EMERGENCY"]


class RiskDimensions(msgspec.Struct, frozen=True, kw_only=True):
    """Which of the kernel's checks passed (no defaults: a check is never assumed passed)."""

    trade_risk_passed: bool
    daily_risk_passed: bool
    drawdown_passed: bool
    system_integrity_passed: bool


class PositionAllowance(msgspec.Struct, frozen=True, kw_only=True):
    """The most the kernel allows for the evaluated idea: shares and dollars at risk."""

    symbol: str
    direction: Direction
    max_qty: int
    max_risk_usd: Money


class RiskEvaluationCompleted(Event, frozen=True, kw_only=True, tag="risk.evaluation.completed"):
    """The kernel's verdict on a signal or an intent (``signal_id`` or ``intent_id`` is set).

    A veto names its reason; a modification lists what changed in ``modifications``.
    """

    evaluation_id: str
    signal_id: str = ""
    intent_id: str = ""
    decision: RiskDecision
    veto_reason: str = ""
    modifications: Details = {}
    risk_dimensions: RiskDimensions
    position_allowed: PositionAllowance | None = None
    veto_reasons: list[str] = []
    """Every failed check's code (``veto_reason`` is the first); empty when approved."""
    symbol: str = ""
    direction: Direction | None = None
    strategy: str = ""
    entry_price: Money | None = None
    stop_price: Money | None = None
    risk_amount: Money | None = None
    """Dollars at risk the kernel grants (equity x risk per trade, or less)."""
    risk_percent: float | None = None
    requested_qty: int = 0
    """What the advisory's risk budget would buy before the caps."""
    approved_qty: int = 0
    """The most the sizer may ask for (0 when vetoed); ``position_allowed.max_qty`` too."""
    signature: str = ""
    """HMAC-SHA256 (hex) over the approval (``quantrail.risk.signing``); empty when no key."""
    key_id: str = ""

    def __post_init__(self) -> None:
        if not self.evaluation_id:
            raise ValueError(f"evaluation_id: must not be empty, got {self.evaluation_id!r}")
        if self.decision == "VETOED" and not self.veto_reason:
            raise ValueError("veto_reason: required when decision is VETOED, got ''")


class RiskModeChanged(Event, frozen=True, kw_only=True, tag="risk.mode.changed"):
    """The policy table moved to a new mode; ``inputs`` are the figures it decided on."""

    previous_mode: Mode
    mode: Mode
    reason: str
    target_gross_pct: float | None = None
    inputs: Details = {}


class RiskDailyStatusUpdated(Event, frozen=True, kw_only=True, tag="risk.daily_status.updated"):
    """The day's risk figures. Percentages are of equity; ``drawdown_from_hwm`` and
    ``risk_budget_remaining`` are percentage points (of the high-water mark and of the daily loss
    budget)."""

    session_date: str = ""
    daily_pnl_percent: float
    daily_pnl_usd: Money
    open_positions: int
    total_exposure_percent: float
    drawdown_from_hwm: float
    risk_budget_remaining: float
    equity: Money | None = None
    high_water_mark: Money | None = None
    realized_pnl: Money | None = None
    unrealized_pnl: Money | None = None
    fees: Money | None = None
    kill_switch_active: bool = False


class KillSwitchActivated(Event, frozen=True, kw_only=True, tag="risk.kill_switch.activated"):
    """Broadcast: cancel all working orders, stop new signals and, if ``flatten``, exit all.

    ``trigger_value``/``threshold`` are the figures that tripped it (e.g. -5.2 vs -5.0 % daily
    loss); None for a manual activation. Only a person can reset it (``KillSwitchReset``).
    """

    trigger: str
    trigger_value: float | None = None
    threshold: float | None = None
    severity: KillSeverity
    action_taken: str = ""
    human_override_required: bool = True
    flatten: bool = False
    activated_by: str

    def __post_init__(self) -> None:
        if not self.trigger:
            raise ValueError(f"trigger: must not be empty, got {self.trigger!r}")
        if not self.activated_by:
            raise ValueError(f"activated_by: must not be empty, got {self.activated_by!r}")


class KillSwitchReset(Event, frozen=True, kw_only=True, tag="risk.kill_switch.reset"):
    """A person reset the kill switch; both who and why are required."""

    reset_by: str
    reason: str

    def __post_init__(self) -> None:
        if not self.reset_by:
            raise ValueError(f"reset_by: must name the person, got {self.reset_by!r}")
        if not self.reason:
            raise ValueError(f"reason: must not be empty, got {self.reason!r}")
