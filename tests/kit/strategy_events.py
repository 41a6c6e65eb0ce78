"""Builders of the strategy's events: regimes, volatility spikes, signals, exits and stops."""

from __future__ import annotations

from typing import Any

from kit.event_base import ACCOUNT, SYMBOL, build, envelope
from quantrail.events import (
    ExitDecisionMade,
    RegimeClassified,
    SignalDeclined,
    SignalIssued,
    StopTriggered,
    VolatilitySpiked,
)


def regime_classified(symbol: str = SYMBOL, **overrides: Any) -> RegimeClassified:
    defaults = envelope(
        symbol=symbol, regime="TRENDING", confidence=0.8, previous_regime="RANGING", changed=True
    )
    return build(RegimeClassified, defaults, overrides)


def volatility_spiked(symbol: str = SYMBOL, **overrides: Any) -> VolatilitySpiked:
    defaults = envelope(
        symbol=symbol, current_volatility=0.05, baseline_volatility=0.02, spike_ratio=2.5
    )
    return build(VolatilitySpiked, defaults, overrides)


def signal_issued(symbol: str = SYMBOL, **overrides: Any) -> SignalIssued:
    defaults = envelope(
        signal_id="sig-1",
        symbol=symbol,
        edge_score=72,
        confidence=0.7,
        regime_fit=True,
        regime="TRENDING",
        recommended_action="LONG",
        reasoning="trend continuation",
        model_version="v1",
    )
    return build(SignalIssued, defaults, overrides)


def signal_declined(**overrides: Any) -> SignalDeclined:
    defaults = envelope(
        reason="regime chaotic", gate_failed="regime_gate", inputs_summary={"regime": "CHAOTIC"}
    )
    return build(SignalDeclined, defaults, overrides)


def exit_decision(decision: str = "EXIT_FULL", **overrides: Any) -> ExitDecisionMade:
    defaults = envelope(
        account=ACCOUNT,
        position_id="pos-1",
        symbol=SYMBOL,
        decision=decision,
        reason="time_exit",
        priority="HIGH",
    )
    return build(ExitDecisionMade, defaults, overrides)


def stop_triggered(**overrides: Any) -> StopTriggered:
    defaults = envelope(
        account=ACCOUNT,
        position_id="pos-1",
        symbol=SYMBOL,
        trigger_price="24.49",
        stop_price="24.50",
    )
    return build(StopTriggered, defaults, overrides)
