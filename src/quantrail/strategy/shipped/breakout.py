"""``breakout``: trend following, in a TRENDING regime only.

On each candle: a close above the highest high of the ``lookback`` candles before it is LONG,
below their lowest low SHORT. The stop is ``stop_atr`` average true ranges (over the same
candles) through the close, on the cent grid. Edge: 40 for a bare break, rising to 100 when the
close clears the channel by one ATR; confidence: the regime's. Declines (gate): ``regime`` (not
TRENDING, or no regime yet), ``in_position`` (the account holds the symbol), ``history`` (fewer
than ``lookback + 1`` candles), ``no_setup`` (inside the channel).
"""

from __future__ import annotations

from decimal import Decimal

from quantrail.events.market import CandleClosed
from quantrail.strategy.api import Action, Advice, BaseStrategy, MarketView, float_param, int_param
from quantrail.strategy.shipped.indicators import (
    average_true_range,
    entry_gates,
    scaled_edge,
    stop_above,
    stop_below,
)


class Breakout(BaseStrategy):
    model_version = "breakout-1"

    def __init__(self, lookback: int = 20, stop_atr: float = 2.0) -> None:
        self.lookback = int_param("lookback", lookback, 2)
        self.stop_atr = Decimal(str(float_param("stop_atr", stop_atr, 0.0)))

    def on_candle(self, candle: CandleClosed, view: MarketView) -> Advice | None:
        symbol, close = candle.symbol, candle.close
        regime, declined = entry_gates(symbol, view, "TRENDING", "breakout")
        if declined is not None or regime is None:
            return declined
        candles = view.candles(symbol)
        if len(candles) < self.lookback + 1:
            return Advice.decline(
                symbol, "history", f"{len(candles)} of {self.lookback + 1} candles"
            )
        recent = candles[-(self.lookback + 1) :]
        high = max(c.high for c in recent[:-1])
        low = min(c.low for c in recent[:-1])
        atr = average_true_range(recent)
        inputs = {"close": str(close), "high": str(high), "low": str(low), "atr": str(atr)}
        action: Action
        if close > high:
            stop, excess, action, side = (
                stop_below(close - self.stop_atr * atr),
                close - high,
                "LONG",
                "high",
            )
        elif close < low:
            stop, excess, action, side = (
                stop_above(close + self.stop_atr * atr),
                low - close,
                "SHORT",
                "low",
            )
        else:
            return Advice.decline(symbol, "no_setup", "close inside the channel", **inputs)
        if atr <= 0 or stop <= 0:
            return Advice.decline(symbol, "no_setup", "no usable stop", **inputs)
        level = high if side == "high" else low
        return Advice(
            symbol=symbol, action=action, edge_score=scaled_edge(float(excess / atr)),
            confidence=regime.confidence, stop_price=stop, entry_price=close,
            reasoning=(
                f"close {close} broke the {self.lookback}-candle {side} {level}; "
                f"stop {self.stop_atr} ATR ({atr:.4f}) away"
            ),
            inputs=inputs,
        )  # fmt: skip
