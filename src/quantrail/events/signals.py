"""Signal advisory events. Advice only: a signal never has execution power."""

from __future__ import annotations

from typing import Literal

from quantrail.events.base import Details, Event, Money

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
    stop_price: Money | None = None
    """The required stop: the risk kernel vetoes an advisory without one (``NO_STOP``)."""
    entry_price: Money | None = None
    """The price the idea is priced at (the last close or print it saw)."""
    strategy: str = ""
    timeframe: str = ""
    ts_data_ns: int = 0
    """When the market data the advisory is based on happened (for the kernel's staleness)."""

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
    strategy: str = ""
