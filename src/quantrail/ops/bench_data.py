"""The synthetic market data ``quantrail bench backtest`` runs on both sides, and its timing.

One equity (ACME on XNAS) from a Monday 09:30 in New York: quotes ``QUOTE_GAP_NS`` apart, the
bid a seeded-free deterministic walk in whole cents around 100.00 (a cent spread, 500 x 500
shown); 1-minute bars back to back, each opening at the previous close. The same values go to
quantrail and to NautilusTrader, so both move the same data.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from quantrail.runtime.clock import NS_PER_SECOND

SYMBOL = "ACME"
VENUE = "XNAS"
START_NS = 1_709_562_600 * NS_PER_SECOND
"""2024-03-04 14:30 UTC: a Monday, 09:30 in New York."""
QUOTE_GAP_NS = 20_000_000  # 20 ms: 1,000 quotes are 20 simulated seconds
MINUTE_NS = 60 * NS_PER_SECOND
CENT = Decimal("0.01")
_STEPS = (1, -1, 2, -1, 0, -2, 1, 1, -1, 0, 2, -2, -1, 1)  # a walk that comes back


@dataclass(frozen=True, slots=True)
class Timing:
    wall_s: float
    cpu_s: float

    def rate(self, count: int) -> float:
        return count / self.wall_s if self.wall_s > 0 else 0.0

    def cpu_rate(self, count: int) -> float:
        return count / self.cpu_s if self.cpu_s > 0 else 0.0


@dataclass(frozen=True, slots=True)
class BenchQuote:
    ts_ns: int
    bid: Decimal
    ask: Decimal
    size: int


@dataclass(frozen=True, slots=True)
class BenchBar:
    start_ns: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: int


def _cents(index: int) -> int:
    """Where the walk is at ``index``, in cents around 100.00 (within about a dollar)."""
    return 10_000 + sum(_STEPS[: index % len(_STEPS)]) + (index // 97) % 50 - 25


def bench_quotes(count: int) -> list[BenchQuote]:
    quotes = []
    for index in range(count):
        bid = Decimal(_cents(index)) * CENT
        quotes.append(BenchQuote(START_NS + index * QUOTE_GAP_NS, bid, bid + CENT, 500))
    return quotes


def bench_bars(count: int) -> list[BenchBar]:
    bars = []
    previous = _cents(0)
    for index in range(count):
        close = _cents(index + 1)
        wiggle = 3 + index % 5
        high, low = max(previous, close) + wiggle, min(previous, close) - wiggle
        bars.append(
            BenchBar(
                start_ns=START_NS + index * MINUTE_NS,
                open=Decimal(previous) * CENT,
                high=Decimal(high) * CENT,
                low=Decimal(low) * CENT,
                close=Decimal(close) * CENT,
                volume=1_000 + 100 * (index % 7),
            )
        )
        previous = close
    return bars
