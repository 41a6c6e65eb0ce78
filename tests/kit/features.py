"""The reference for the features service: the calculators themselves, fed the same prints."""

from __future__ import annotations

from collections.abc import Iterable

from quantrail.marketdata.features import GRPAN, TRUTH_TICK, FeatureSettings
from quantrail.marketdata.grpan import GrpanCalculator, GrpanValue
from quantrail.marketdata.truth import TruthTickTracker
from quantrail.marketdata.types import Print

# Fifteen truth ticks; volume per price: 25.00 -> 400, 25.02 -> 300, 25.20 -> 600, ...
# Band volumes (+-0.04): 25.02 -> 1200 (24.98 and 25.06 sit exactly on its edges),
# 25.00/25.01/25.03/25.04 -> 1100, 24.98 -> 1000, 25.06 -> 900, 25.20 -> 600.
# Window volume 2500, so concentration = 1200 / 2500 = 0.48.
WINDOW_15: list[tuple[str, int]] = [
    ("25.00", 100),
    ("25.02", 200),
    ("25.06", 100),
    ("25.10", 300),
    ("25.03", 100),
    ("25.00", 200),
    ("25.12", 100),
    ("25.01", 100),
    ("24.98", 100),
    ("25.11", 200),
    ("25.04", 100),
    ("25.00", 100),
    ("25.20", 600),
    ("24.95", 100),
    ("25.02", 100),
]
"""The worked example of docs/marketdata.md: GRPAN 25.02, concentration 0.4800."""


class CalculatorReference:
    """``TruthTickTracker`` and ``GrpanCalculator`` fed the same prints, asked at moments that
    do not go back in time (a stream's features come in time order)."""

    def __init__(self, prints: Iterable[Print], settings: FeatureSettings) -> None:
        self._prints = list(prints)
        self._next = 0
        self._tracker = TruthTickTracker(settings.truth_filter)
        self._calculator = GrpanCalculator(settings.grpan, settings.truth_filter)

    def at(self, symbol: str, at_ns: int) -> dict[str, Print | GrpanValue]:
        """The symbol's truth tick and GRPAN over every print up to ``at_ns``, by feature name."""
        while self._next < len(self._prints) and self._prints[self._next].ts_ns <= at_ns:
            self._tracker.update(self._prints[self._next])
            self._calculator.update(self._prints[self._next])
            self._next += 1
        values: dict[str, Print | GrpanValue] = {}
        tick, grpan = self._tracker.last_truth_tick(symbol), self._calculator.value(symbol)
        if tick is not None:
            values[TRUTH_TICK] = tick
        if grpan is not None:
            values[GRPAN] = grpan
        return values


def calculator_values(
    prints: Iterable[Print], symbol: str, at_ns: int, settings: FeatureSettings
) -> dict[str, Print | GrpanValue]:
    """The calculators' truth tick and GRPAN of ``symbol`` over every print up to ``at_ns``."""
    return CalculatorReference(prints, settings).at(symbol, at_ns)
