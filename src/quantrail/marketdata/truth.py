"""Truth ticks: the prints that say where a symbol really trades.

A truth tick is a print of at least one round lot (100 shares) from a venue that is not
excluded in config. Odd lots never count: in thin instruments such as preferred stocks a few
shares can print far from the real market. SOFT_DERISK prices at the last truth tick ± $0.01,
so the tracker keeps it per symbol next to the last print of any size.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from quantrail.marketdata.types import Print

ROUND_LOT = 100


def _normalized_codes(field_name: str, codes: frozenset[str]) -> frozenset[str]:
    if not isinstance(codes, frozenset) or not all(isinstance(c, str) and c for c in codes):
        raise TypeError(f"{field_name}: must be a frozenset of non-empty strings, got {codes!r}")
    # Feeds disagree on case ("Fnra" vs "FNRA"); compare upper-cased.
    return frozenset(code.strip().upper() for code in codes)


@dataclass(frozen=True, slots=True)
class TruthTickFilter:
    """Decides whether one print is a truth tick.

    ``excluded_venues`` and ``excluded_conditions`` are compared case-insensitively; a print
    carrying any excluded condition code (e.g. out-of-sequence) is not a truth tick either.
    """

    round_lot: int = ROUND_LOT
    excluded_venues: frozenset[str] = frozenset()
    excluded_conditions: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if not isinstance(self.round_lot, int) or isinstance(self.round_lot, bool):
            raise TypeError(f"round_lot: must be an int, got {self.round_lot!r}")
        if self.round_lot < 1:
            raise ValueError(f"round_lot: must be >= 1, got {self.round_lot}")
        venues = _normalized_codes("excluded_venues", self.excluded_venues)
        conditions = _normalized_codes("excluded_conditions", self.excluded_conditions)
        object.__setattr__(self, "excluded_venues", venues)
        object.__setattr__(self, "excluded_conditions", conditions)

    def is_truth_tick(self, print_: Print) -> bool:
        if print_.size < self.round_lot:
            return False
        if print_.venue.strip().upper() in self.excluded_venues:
            return False
        codes = (code.strip().upper() for code in print_.conditions)
        return not any(code in self.excluded_conditions for code in codes)


@dataclass(slots=True)
class _Latest:
    truth_tick: Print | None = None
    any_print: Print | None = None


def _newer(candidate: Print, held: Print | None) -> bool:
    # A late-reported print (older timestamp) must not replace a newer one; equal times
    # go to the later arrival.
    return held is None or candidate.ts_ns >= held.ts_ns


@dataclass(slots=True)
class TruthTickTracker:
    """Per symbol: the last truth tick and the last print of any size (by timestamp)."""

    truth_filter: TruthTickFilter = field(default_factory=TruthTickFilter)
    _latest: dict[str, _Latest] = field(default_factory=dict, init=False, repr=False)

    def update(self, print_: Print) -> bool:
        """Record a print; returns whether it is a truth tick."""
        latest = self._latest.setdefault(print_.symbol, _Latest())
        if _newer(print_, latest.any_print):
            latest.any_print = print_
        is_truth = self.truth_filter.is_truth_tick(print_)
        if is_truth and _newer(print_, latest.truth_tick):
            latest.truth_tick = print_
        return is_truth

    def last_truth_tick(self, symbol: str) -> Print | None:
        latest = self._latest.get(symbol)
        return latest.truth_tick if latest else None

    def last_print(self, symbol: str) -> Print | None:
        latest = self._latest.get(symbol)
        return latest.any_print if latest else None

    def symbols(self) -> list[str]:
        """Symbols seen so far, sorted."""
        return sorted(self._latest)
