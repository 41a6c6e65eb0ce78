"""Regime detector events: a symbol's market regime and volatility spikes."""

from __future__ import annotations

from typing import Literal

from quantrail.events.base import Event

Regime = Literal["TRENDING", "RANGING", "CHAOTIC"]


class RegimeClassified(Event, frozen=True, kw_only=True, tag="regime.classification.updated"):
    """The detector classified ``symbol``; ``changed`` says whether the regime moved."""

    symbol: str
    regime: Regime
    confidence: float
    previous_regime: Regime | None = None
    changed: bool = False

    def __post_init__(self) -> None:
        if not 0.0 <= self.confidence <= 1.0:
            raise ValueError(f"confidence: must be in [0, 1], got {self.confidence}")


class VolatilitySpiked(Event, frozen=True, kw_only=True, tag="regime.volatility.spiked"):
    """Volatility jumped: ``spike_ratio`` = current / baseline (2.5 means 2.5x)."""

    symbol: str
    current_volatility: float
    baseline_volatility: float
    spike_ratio: float
