"""Small, exact indicators and the shared entry gates of the shipped strategies."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_DOWN, ROUND_UP, Decimal
from itertools import pairwise

from quantrail.events.market import CandleClosed
from quantrail.events.regime import Regime
from quantrail.strategy.api import Advice, MarketView
from quantrail.strategy.regime import RegimeReading

CENT = Decimal("0.01")


def true_ranges(candles: Sequence[CandleClosed]) -> list[Decimal]:
    """Each candle's true range against the candle before it (the first has none)."""
    return [
        max(c.high - c.low, abs(c.high - prev.close), abs(c.low - prev.close))
        for prev, c in pairwise(candles)
    ]


def average_true_range(candles: Sequence[CandleClosed]) -> Decimal:
    """The mean true range over ``candles`` (0 with fewer than two)."""
    ranges = true_ranges(candles)
    return sum(ranges, Decimal(0)) / len(ranges) if ranges else Decimal(0)


def mean_and_std(values: Sequence[Decimal]) -> tuple[Decimal, Decimal]:
    """Mean and population standard deviation."""
    mean = sum(values, Decimal(0)) / len(values)
    variance = sum(((v - mean) ** 2 for v in values), Decimal(0)) / len(values)
    return mean, variance.sqrt()


def stop_below(price: Decimal) -> Decimal:
    """A long's stop on the cent grid, never above ``price``."""
    return price.quantize(CENT, rounding=ROUND_DOWN)


def stop_above(price: Decimal) -> Decimal:
    """A short's stop on the cent grid, never below ``price``."""
    return price.quantize(CENT, rounding=ROUND_UP)


def scaled_edge(strength: float) -> int:
    """An edge score: 40 for a bare setup rising to 100 at ``strength`` 1 (and beyond)."""
    return round(40 + 60 * min(1.0, max(0.0, strength)))


def entry_gates(
    symbol: str, view: MarketView, wanted: Regime, strategy: str
) -> tuple[RegimeReading | None, Advice | None]:
    """The gates both shipped strategies share: the regime they trade and no position held.
    Returns the regime, and a decline when a gate failed."""
    regime = view.regime(symbol)
    if regime is None or regime.regime != wanted:
        seen = regime.regime if regime else "none yet"
        reason = f"{strategy} trades {wanted} only, regime {seen}"
        return regime, Advice.decline(symbol, "regime", reason)
    if (held := view.position(symbol)) is not None:
        return regime, Advice.decline(symbol, "in_position", "already in position", qty=held.qty)
    return regime, None
