"""``meanrevert``: fade stretched moves, in a RANGING regime only.

On each candle: the z-score of the close against the mean and standard deviation of the last
``window`` closes (the current one included). ``z <= -entry_z`` is LONG, ``z >= entry_z`` SHORT;
the stop is ``stop_std`` standard deviations further out from the close, on the cent grid. Edge:
40 at the threshold, rising to 100 at twice it; confidence: the regime's. Declines (gate):
``regime`` (not RANGING, or no regime yet), ``in_position``, ``history`` (fewer than ``window``
candles), ``no_setup`` (|z| under the threshold, or no variation at all).
"""

from __future__ import annotations

from decimal import Decimal

from quantrail.events.market import CandleClosed
from quantrail.strategy.api import Action, Advice, BaseStrategy, MarketView, float_param, int_param
from quantrail.strategy.shipped.indicators import (
    entry_gates,
    mean_and_std,
    scaled_edge,
    stop_above,
    stop_below,
)


class MeanRevert(BaseStrategy):
    model_version = "meanrevert-1"

    def __init__(self, window: int = 20, entry_z: float = 2.0, stop_std: float = 1.5) -> None:
        self.window = int_param("window", window, 3)
        self.entry_z = Decimal(str(float_param("entry_z", entry_z, 0.0)))
        self.stop_std = Decimal(str(float_param("stop_std", stop_std, 0.0)))

    def on_candle(self, candle: CandleClosed, view: MarketView) -> Advice | None:
        symbol, close = candle.symbol, candle.close
        regime, declined = entry_gates(symbol, view, "RANGING", "meanrevert")
        if declined is not None or regime is None:
            return declined
        candles = view.candles(symbol)
        if len(candles) < self.window:
            return Advice.decline(symbol, "history", f"{len(candles)} of {self.window} candles")
        mean, std = mean_and_std([c.close for c in candles[-self.window :]])
        if std == 0:
            return Advice.decline(symbol, "no_setup", "closes did not vary", mean=str(mean))
        z = (close - mean) / std
        inputs = {"close": str(close), "mean": str(mean), "std": str(std), "z": f"{z:.3f}"}
        action: Action
        if z <= -self.entry_z:
            action, stop = "LONG", stop_below(close - self.stop_std * std)
        elif z >= self.entry_z:
            action, stop = "SHORT", stop_above(close + self.stop_std * std)
        else:
            return Advice.decline(symbol, "no_setup", f"z {z:.2f} inside ±{self.entry_z}", **inputs)
        if stop <= 0:
            return Advice.decline(symbol, "no_setup", "no usable stop", **inputs)
        return Advice(
            symbol=symbol, action=action,
            edge_score=scaled_edge(float((abs(z) - self.entry_z) / self.entry_z)),
            confidence=regime.confidence, stop_price=stop, entry_price=close,
            reasoning=f"close {close} is {z:.2f} std from the {self.window}-candle mean {mean:.4f}",
            inputs=inputs,
        )  # fmt: skip
