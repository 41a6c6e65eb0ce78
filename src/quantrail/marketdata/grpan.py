"""GRPAN: the dominant print price over the last N truth ticks of a symbol.

For each candidate price p among the window's prints, the band volume is the volume of the
window's prints with |price - p| <= band (default $0.04, both edges included). GRPAN is the
candidate with the largest band volume; its concentration is band volume / window volume.

Ties (equal band volume) go to the candidate printed most recently: the market has moved
there last, which is what a de-risk order pricing near GRPAN wants to follow.

The window holds truth ticks in arrival order (feeds deliver in time order; a late report
simply enters the window when it arrives).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal

from quantrail.marketdata.truth import TruthTickFilter
from quantrail.marketdata.types import Print

DEFAULT_WINDOW = 15
DEFAULT_BAND = Decimal("0.04")
CONCENTRATION_STEP = Decimal("0.0001")
"""Concentration is published rounded (half-even) to 4 places; the exact volumes go with it."""


@dataclass(frozen=True, slots=True)
class GrpanConfig:
    window: int = DEFAULT_WINDOW
    band: Decimal = DEFAULT_BAND
    min_ticks: int = 1
    """Publish only once the window holds at least this many truth ticks."""

    def __post_init__(self) -> None:
        for name in ("window", "min_ticks"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name}: must be an int >= 1, got {value!r}")
        if self.min_ticks > self.window:
            raise ValueError(f"min_ticks: must be <= window ({self.window}), got {self.min_ticks}")
        if not isinstance(self.band, Decimal) or not self.band.is_finite() or self.band < 0:
            raise ValueError(f"band: must be a finite Decimal >= 0, got {self.band!r}")


@dataclass(frozen=True, slots=True)
class GrpanValue:
    symbol: str
    price: Decimal
    concentration: Decimal
    """band_volume / window_volume, rounded to 4 places."""
    band_volume: int
    window_volume: int
    window_size: int
    """The configured N."""
    ticks_used: int
    """Truth ticks in the window now (< N until N have been seen)."""
    ts_ns: int
    """Timestamp of the newest truth tick in the window."""


@dataclass(frozen=True, slots=True)
class _Candidate:
    price: Decimal
    band_volume: int
    last_index: int


def dominant_price(prints: list[Print], band: Decimal) -> tuple[Decimal, int]:
    """(GRPAN price, its band volume) over ``prints`` (oldest first); the pure core."""
    if not prints:
        raise ValueError("prints: GRPAN needs at least one print, got none")
    best: _Candidate | None = None
    for index, price in _candidates(prints):
        volume = sum(p.size for p in prints if abs(p.price - price) <= band)
        candidate = _Candidate(price, volume, index)
        if best is None or (candidate.band_volume, candidate.last_index) > (
            best.band_volume,
            best.last_index,
        ):
            best = candidate
    assert best is not None
    return best.price, best.band_volume


def _candidates(prints: list[Print]) -> list[tuple[int, Decimal]]:
    """Distinct prices, each with the index of its latest print in the window."""
    last_index: dict[Decimal, int] = {}
    for index, print_ in enumerate(prints):
        last_index[print_.price] = index
    return [(index, price) for price, index in last_index.items()]


@dataclass(slots=True)
class GrpanCalculator:
    """Incremental GRPAN per symbol: feed every print, get a value when a truth tick moves it."""

    config: GrpanConfig = field(default_factory=GrpanConfig)
    truth_filter: TruthTickFilter = field(default_factory=TruthTickFilter)
    _windows: dict[str, deque[Print]] = field(default_factory=dict, init=False, repr=False)
    _values: dict[str, GrpanValue] = field(default_factory=dict, init=False, repr=False)

    def update(self, print_: Print) -> GrpanValue | None:
        """The new GRPAN when ``print_`` is a truth tick (and enough are held), else None."""
        if not self.truth_filter.is_truth_tick(print_):
            return None
        window = self._windows.get(print_.symbol)
        if window is None:
            window = self._windows[print_.symbol] = deque(maxlen=self.config.window)
        window.append(print_)
        if len(window) < self.config.min_ticks:
            return None
        value = self._compute(print_.symbol, list(window))
        self._values[print_.symbol] = value
        return value

    def value(self, symbol: str) -> GrpanValue | None:
        """The last published GRPAN for ``symbol``."""
        return self._values.get(symbol)

    def window(self, symbol: str) -> tuple[Print, ...]:
        """The truth ticks in the window, oldest first."""
        return tuple(self._windows.get(symbol, ()))

    def _compute(self, symbol: str, prints: list[Print]) -> GrpanValue:
        price, band_volume = dominant_price(prints, self.config.band)
        window_volume = sum(p.size for p in prints)
        ratio = Decimal(band_volume) / Decimal(window_volume)
        return GrpanValue(
            symbol=symbol,
            price=price,
            concentration=ratio.quantize(CONCENTRATION_STEP, rounding=ROUND_HALF_EVEN),
            band_volume=band_volume,
            window_volume=window_volume,
            window_size=self.config.window,
            ticks_used=len(prints),
            ts_ns=prints[-1].ts_ns,
        )
