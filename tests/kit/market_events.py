"""Builders of market data and the session clock: quotes, prints, candles, ticks, features.

The defaults: ACME quoted 25.00 x 25.02 and printing 100 at 25.01; the session clock in its
MID phase, 180 minutes before the close.
"""

from __future__ import annotations

from typing import Any

from kit.event_base import PRICE, SESSION_CLOSE_NS, SYMBOL, T0, MoneyLike, build, envelope
from quantrail.events import (
    CandleClosed,
    FeatureComputed,
    PriceTicked,
    QuoteUpdated,
    SessionClockTicked,
    TradePrinted,
)
from quantrail.vocab import Phase


def quote(
    symbol: str = SYMBOL, bid: MoneyLike = "25.00", ask: MoneyLike = "25.02", **overrides: Any
) -> QuoteUpdated:
    defaults = envelope(symbol=symbol, bid=bid, ask=ask, bid_size=500, ask_size=300, venue="NSDQ")
    return build(QuoteUpdated, defaults, overrides)


def trade_print(
    symbol: str = SYMBOL, price: MoneyLike = PRICE, size: int = 100, **overrides: Any
) -> TradePrinted:
    defaults = envelope(symbol=symbol, price=price, size=size, venue="NSDQ", ts_exchange_ns=T0)
    return build(TradePrinted, defaults, overrides)


def candle(symbol: str = SYMBOL, **overrides: Any) -> CandleClosed:
    defaults = envelope(
        symbol=symbol,
        timeframe="1m",
        start_ns=T0,
        open="25.00",
        high="25.05",
        low="24.98",
        close=PRICE,
        volume=12_300,
    )
    return build(CandleClosed, defaults, overrides)


def price_tick(symbol: str = SYMBOL, price: MoneyLike = PRICE, **overrides: Any) -> PriceTicked:
    return build(PriceTicked, envelope(symbol=symbol, price=price), overrides)


def feature(
    symbol: str = SYMBOL, name: str = "GRPAN", value: MoneyLike | None = PRICE, **overrides: Any
) -> FeatureComputed:
    defaults = envelope(symbol=symbol, name=name, value=value, concentration=0.62, window=15)
    return build(FeatureComputed, defaults, overrides)


def session_clock(
    phase: Phase = Phase.MID, minutes_to_close: float = 180.0, **overrides: Any
) -> SessionClockTicked:
    defaults = envelope(
        exchange="XNYS",
        session_date="2024-03-15",
        phase=phase,
        is_trading_day=True,
        open_ns=T0,
        close_ns=SESSION_CLOSE_NS,
        minutes_since_open=390.0 - minutes_to_close,
        minutes_to_close=minutes_to_close,
    )
    return build(SessionClockTicked, defaults, overrides)
