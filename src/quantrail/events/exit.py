"""Exit brain events: decisions about open positions and triggered stops."""

from __future__ import annotations

from typing import Literal

from quantrail.events.base import Event, Money
from quantrail.events.trades import Urgency, require_price

ExitAction = Literal["EXIT_FULL", "EXIT_PARTIAL", "TIGHTEN_STOP", "HOLD"]


class ExitDecisionMade(Event, frozen=True, kw_only=True, tag="exit.decision.made"):
    """The exit brain decided on a position.

    ``exit_percent`` (0-100] is required for ``EXIT_PARTIAL``; ``new_stop`` for ``TIGHTEN_STOP``.
    """

    position_id: str
    symbol: str
    decision: ExitAction
    reason: str
    exit_percent: float | None = None
    new_stop: Money | None = None
    priority: Urgency = "MEDIUM"
    current_price: Money | None = None
    strategy: str = ""

    def __post_init__(self) -> None:
        if self.decision == "EXIT_PARTIAL" and not (
            self.exit_percent is not None and 0.0 < self.exit_percent <= 100.0
        ):
            raise ValueError(
                f"exit_percent: must be in (0, 100] for EXIT_PARTIAL, got {self.exit_percent}"
            )
        if self.decision == "TIGHTEN_STOP" and self.new_stop is None:
            raise ValueError("new_stop: required for TIGHTEN_STOP, got None")
        require_price("new_stop", self.new_stop)


class StopTriggered(Event, frozen=True, kw_only=True, tag="exit.stop.triggered"):
    """A stop was hit: the market traded at ``trigger_price`` through ``stop_price``."""

    position_id: str
    symbol: str
    trigger_price: Money
    stop_price: Money
