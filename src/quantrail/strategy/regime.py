"""The regime detector: TRENDING / RANGING / CHAOTIC per symbol from its closed candles (pure).

On each close (``RegimeDetector.update``), once a symbol has enough candles:

* **Efficiency ratio** (Kaufman) over the last ``er_window`` candles:
  ``ER = |close_now - close_n_ago| / sum(|close_i - close_i-1|)``, 0 (all noise) to 1 (a straight
  line). ``ER >= trend_er`` is TRENDING, else RANGING (a flat window has ER 0).
* **Realized volatility**: the root mean square of the last ``vol_window`` log returns; its
  **baseline** the same over the ``baseline_window`` returns just before them (a spike does not
  dilute its own baseline). ``ratio = current / baseline``. ``ratio >= chaos_ratio`` is CHAOTIC,
  whatever the ER. A baseline of 0 (a symbol that did not move) gives no ratio: no chaos, no
  spike.
* **Confidence** in [0, 1]: how far past its threshold the deciding figure is, from 0.5 at the
  threshold to 1 at the far end: CHAOTIC ``0.5 + 0.5 * (ratio / chaos_ratio - 1)`` (capped),
  TRENDING ``0.5 + 0.5 * (ER - trend_er) / (1 - trend_er)``, RANGING
  ``0.5 + 0.5 * (trend_er - ER) / trend_er``.
* **Spike**: ``ratio >= spike_ratio`` starts an episode, reported once; it ends when the ratio
  falls back under ``spike_ratio``; the next crossing is a new episode.

``changed`` is True when the regime differs from the symbol's previous one (not on its first).
Before ``warmup`` candles (``max(er_window, vol_window + baseline_window) + 1``) it says nothing.
A candle not later than the symbol's last one is ignored (a replay or a redelivery).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import pairwise

from quantrail.events.regime import Regime
from quantrail.strategy.config import RegimeConfig


@dataclass(frozen=True, slots=True)
class RegimeReading:
    """One classification of a symbol at a candle."""

    symbol: str
    regime: Regime
    confidence: float
    previous: Regime | None
    efficiency_ratio: float
    volatility: float
    baseline_volatility: float
    vol_ratio: float | None
    candle_start_ns: int

    @property
    def changed(self) -> bool:
        return self.previous is not None and self.previous != self.regime


@dataclass(frozen=True, slots=True)
class SpikeReading:
    symbol: str
    volatility: float
    baseline_volatility: float
    ratio: float
    candle_start_ns: int


@dataclass(slots=True)
class _SymbolState:
    closes: deque[Decimal]
    last_start_ns: int = -1
    regime: Regime | None = None
    in_spike: bool = False


def efficiency_ratio(closes: Sequence[Decimal]) -> float:
    """Net move over path length (0 when the path is flat)."""
    path = sum((abs(b - a) for a, b in pairwise(closes)), Decimal(0))
    if path == 0:
        return 0.0
    return float(abs(closes[-1] - closes[0]) / path)


def log_returns(closes: Sequence[Decimal]) -> list[float]:
    return [math.log(b / a) for a, b in pairwise(closes) if a > 0 and b > 0]


def realized_vol(returns: Sequence[float]) -> float:
    """Root mean square of the returns (zero mean assumed, as usual for short bars)."""
    return math.sqrt(sum(r * r for r in returns) / len(returns)) if returns else 0.0


def _ramp(excess: float, span: float) -> float:
    """0.5 at the threshold rising to 1.0 at ``span`` past it."""
    return min(1.0, max(0.5, 0.5 + 0.5 * excess / span)) if span > 0 else 1.0


@dataclass(slots=True)
class RegimeDetector:
    config: RegimeConfig
    _symbols: dict[str, _SymbolState] = field(default_factory=dict, init=False, repr=False)

    @property
    def warmup(self) -> int:
        """Candles a symbol needs before its first classification."""
        c = self.config
        return max(c.er_window, c.vol_window + c.baseline_window) + 1

    def regime_of(self, symbol: str) -> Regime | None:
        state = self._symbols.get(symbol)
        return state.regime if state else None

    def update(
        self, symbol: str, start_ns: int, close: Decimal
    ) -> tuple[RegimeReading | None, SpikeReading | None]:
        """Add a closed candle; the reading (None in warm-up or for an old candle) and a spike
        when this candle starts a volatility episode."""
        state = self._symbols.setdefault(symbol, _SymbolState(deque(maxlen=self.warmup)))
        if start_ns <= state.last_start_ns:
            return None, None
        state.last_start_ns = start_ns
        state.closes.append(close)
        if len(state.closes) < self.warmup:
            return None, None
        reading = self._classify(symbol, list(state.closes), state.regime, start_ns)
        state.regime = reading.regime
        spike = self._spike(state, reading)
        return reading, spike

    def _classify(
        self, symbol: str, closes: list[Decimal], previous: Regime | None, start_ns: int
    ) -> RegimeReading:
        c = self.config
        er = efficiency_ratio(closes[-(c.er_window + 1) :])
        returns = log_returns(closes[-(c.vol_window + c.baseline_window + 1) :])
        current = realized_vol(returns[-c.vol_window :])
        baseline = realized_vol(returns[: -c.vol_window])
        ratio = current / baseline if baseline > 0 else None
        regime: Regime
        if ratio is not None and ratio >= c.chaos_ratio:
            regime, confidence = "CHAOTIC", _ramp(ratio - c.chaos_ratio, c.chaos_ratio)
        elif er >= c.trend_er:
            regime, confidence = "TRENDING", _ramp(er - c.trend_er, 1.0 - c.trend_er)
        else:
            regime, confidence = "RANGING", _ramp(c.trend_er - er, c.trend_er)
        return RegimeReading(
            symbol=symbol, regime=regime, confidence=round(confidence, 6), previous=previous,
            efficiency_ratio=er, volatility=current, baseline_volatility=baseline,
            vol_ratio=ratio, candle_start_ns=start_ns,
        )  # fmt: skip

    def _spike(self, state: _SymbolState, reading: RegimeReading) -> SpikeReading | None:
        ratio = reading.vol_ratio
        spiking = ratio is not None and ratio >= self.config.spike_ratio
        starts = spiking and not state.in_spike
        state.in_spike = spiking
        if not starts or ratio is None:
            return None
        return SpikeReading(
            reading.symbol, reading.volatility, reading.baseline_volatility, ratio,
            reading.candle_start_ns,
        )  # fmt: skip
