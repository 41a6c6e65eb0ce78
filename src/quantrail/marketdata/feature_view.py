"""The latest published features per symbol, for the services that read them from the bus.

A consumer of ``market.feature`` (the de-risk planner's engine, a strategy, the dashboard) feeds
each ``FeatureComputed`` to ``apply`` and asks for the latest truth tick or GRPAN of a symbol,
instead of recomputing them from prints. "Latest" is by ``ts_event`` (the exchange time the
features service stamped): a redelivered older event does not replace a newer one.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from quantrail.events.base import Event
from quantrail.events.market import FeatureComputed
from quantrail.marketdata.features import GRPAN, TRUTH_TICK


@dataclass(frozen=True, slots=True)
class PublishedFeature:
    symbol: str
    name: str
    price: Decimal
    concentration: Decimal | None
    """GRPAN's exact 4-place concentration; None for a truth tick."""
    window: int
    ts_ns: int
    """When it was published (the event's ``ts_event``, exchange time)."""


class LatestFeatures:
    """Latest ``TRUTH_TICK`` and ``GRPAN`` per symbol from ``market.feature`` events."""

    def __init__(self) -> None:
        self._latest: dict[tuple[str, str], PublishedFeature] = {}

    def apply(self, event: Event) -> bool:
        """Take a feature event; False (nothing changed) for other events or an older one."""
        if not isinstance(event, FeatureComputed) or event.value is None:
            return False
        held = self._latest.get((event.symbol, event.name))
        if held is not None and event.ts_event < held.ts_ns:
            return False
        exact = event.details.get("concentration")
        concentration = Decimal(exact) if isinstance(exact, str) else None
        self._latest[(event.symbol, event.name)] = PublishedFeature(
            event.symbol, event.name, event.value, concentration, event.window, event.ts_event
        )
        return True

    def truth_tick(self, symbol: str) -> PublishedFeature | None:
        return self._latest.get((symbol, TRUTH_TICK))

    def grpan(self, symbol: str) -> PublishedFeature | None:
        return self._latest.get((symbol, GRPAN))

    def symbols(self) -> list[str]:
        return sorted({symbol for symbol, _name in self._latest})
