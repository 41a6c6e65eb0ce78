"""Signal advisory events. Advice only: a signal never has execution power."""

from __future__ import annotations

from typing import Literal

from quantrail.events.base import Details, Event

SignalAction = Literal["LONG", "SHORT", "NO_SIGNAL"]


class SignalIssued(Event, frozen=True, kw_only=True, tag="signals.advisory.issued"):
    """An advisory signal for the risk kernel; ``edge_score`` 0-100, ``confidence`` 0-1."""

    signal_id: str
    symbol: str
    edge_score: int
    confidence: float
    regime_fit: bool
    regime: str
    recommended_action: SignalAction
    reasoning: str = ""
    model_version: str = ""
    execution_power: Literal["NONE"] = "NONE"

    def __post_init__(self) -> None:
        if not 0 <= self.edge_score <= 100:
            raise ValueError(f"edge_score: must be in [0, 100], got {self.edge_score}")
        if not 0.0 <= self.confidence <= 1.0:
            raise ValueError(f"confidence: must be in [0, 1], got {self.confidence}")


class SignalDeclined(Event, frozen=True, kw_only=True, tag="signals.advisory.declined"):
    """The advisory looked and declined to signal; ``gate_failed`` names the gate."""

    reason: str
    gate_failed: str
    symbol: str = ""
    inputs_summary: Details = {}
