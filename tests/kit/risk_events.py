"""Builders of the risk kernel's events: evaluations, mode changes, daily status, kill switch."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from kit.event_base import ACCOUNT, SYMBOL, build, envelope
from quantrail.events import (
    KillSwitchActivated,
    KillSwitchReset,
    PositionAllowance,
    RiskDailyStatusUpdated,
    RiskDimensions,
    RiskEvaluationCompleted,
    RiskModeChanged,
)
from quantrail.vocab import Direction, Mode


def risk_dimensions(passed: bool = True, **overrides: Any) -> RiskDimensions:
    defaults: dict[str, Any] = {
        "trade_risk_passed": passed,
        "daily_risk_passed": passed,
        "drawdown_passed": passed,
        "system_integrity_passed": passed,
    }
    return build(RiskDimensions, defaults, overrides)


def risk_evaluation(decision: str = "APPROVED", **overrides: Any) -> RiskEvaluationCompleted:
    defaults = envelope(
        account=ACCOUNT,
        evaluation_id="eval-1",
        intent_id="int-1",
        decision=decision,
        veto_reason="" if decision != "VETOED" else "daily loss limit",
        risk_dimensions=risk_dimensions(decision != "VETOED"),
        position_allowed=PositionAllowance(
            symbol=SYMBOL, direction=Direction.LONG, max_qty=400, max_risk_usd=Decimal("500.00")
        ),
    )
    return build(RiskEvaluationCompleted, defaults, overrides)


def risk_mode_changed(
    mode: Mode = Mode.SOFT_DERISK, previous_mode: Mode = Mode.NORMAL, **overrides: Any
) -> RiskModeChanged:
    defaults = envelope(
        account=ACCOUNT,
        previous_mode=previous_mode,
        mode=mode,
        reason="LATE phase and gross 115% over tolerance",
        target_gross_pct=100.0,
        inputs={"gross_exposure_pct": 115.0, "minutes_to_close": 14.0},
    )
    return build(RiskModeChanged, defaults, overrides)


def risk_daily_status(**overrides: Any) -> RiskDailyStatusUpdated:
    defaults = envelope(
        account=ACCOUNT,
        session_date="2024-03-15",
        daily_pnl_percent=-1.25,
        daily_pnl_usd="-12500.00",
        open_positions=12,
        total_exposure_percent=100.0,
        drawdown_from_hwm=1.25,
        risk_budget_remaining=3.75,
    )
    return build(RiskDailyStatusUpdated, defaults, overrides)


def kill_switch_activated(**overrides: Any) -> KillSwitchActivated:
    defaults = envelope(
        account=ACCOUNT,
        trigger="daily_loss_exceeded",
        trigger_value=-5.2,
        threshold=-5.0,
        severity="CRITICAL",
        action_taken="cancel all working orders",
        activated_by="risk_kernel",
    )
    return build(KillSwitchActivated, defaults, overrides)


def kill_switch_reset(**overrides: Any) -> KillSwitchReset:
    defaults = envelope(account=ACCOUNT, reset_by="jane.doe", reason="loss reviewed")
    return build(KillSwitchReset, defaults, overrides)
