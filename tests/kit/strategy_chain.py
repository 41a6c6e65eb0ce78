"""Builders for the chain's first links: candle series, regime configs, advisory desks, scripts.

``candles_from_closes`` makes a 1m ``CandleClosed`` series from closes (high/low a spread
around each close); ``trending``, ``ranging`` and ``calm_then_wild`` make close series whose
regime is known; ``script`` writes a scripted-strategy CSV; ``desk`` builds an advisory desk
around any strategy; ``Exploding`` is a strategy that raises on one symbol (the dead-letter
tests load it as ``kit.strategy_chain:Exploding``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from kit.event_base import ACCOUNT, T0
from quantrail.config import AccountConfig, Config, RiskConfig
from quantrail.events.market import CandleClosed, PriceTicked, TradePrinted
from quantrail.events.position import PositionOpened
from quantrail.events.regime import Regime
from quantrail.events.signals import SignalIssued
from quantrail.marketdata.config import MarketDataConfig
from quantrail.strategy.advisory import AdvisoryDesk, DeskView
from quantrail.strategy.api import Advice, BaseStrategy, MarketView, Strategy
from quantrail.strategy.config import RegimeConfig, StrategyConfig
from quantrail.strategy.regime import RegimeReading
from quantrail.vocab import Bucket, Direction

MINUTE_NS = 60 * 1_000_000_000
CHAIN_SYMBOL = "ACME"
SMALL_REGIME = RegimeConfig(er_window=5, vol_window=3, baseline_window=6)
"""A detector that classifies after 10 candles (vol 3 + baseline 6 + 1): short tests."""

SCRIPT_HEADER = "ts,symbol,action,edge_score,confidence,stop,reasoning"


def money(value: float | str | Decimal) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


def candles_from_closes(
    closes: Sequence[float | str | Decimal],
    *,
    symbol: str = CHAIN_SYMBOL,
    start_ns: int = T0,
    timeframe: str = "1m",
    spread: str = "0.02",
) -> list[CandleClosed]:
    """One candle per close, a minute apart; open = the previous close, high/low = the range of
    open and close widened by ``spread``."""
    out: list[CandleClosed] = []
    previous = money(closes[0])
    for i, raw in enumerate(closes):
        close = money(raw)
        start = start_ns + i * MINUTE_NS
        out.append(
            CandleClosed(
                ts_event=start + MINUTE_NS,
                source="test",
                symbol=symbol,
                timeframe=timeframe,
                start_ns=start,
                open=previous,
                high=max(previous, close) + Decimal(spread),
                low=min(previous, close) - Decimal(spread),
                close=close,
                volume=1_000,
                idempotency_key=f"candle:{symbol}:{timeframe}:{start}",
            )
        )
        previous = close
    return out


def trending(count: int, start: float = 25.0, step: float = 0.05) -> list[Decimal]:
    """A steady climb with a small, regular wobble (efficiency ratio well above 0.35)."""
    return [money(start + i * step + (0.01 if i % 2 else 0.0)) for i in range(count)]


def ranging(count: int, center: float = 25.0, amplitude: float = 0.10) -> list[Decimal]:
    """A zigzag around ``center`` (efficiency ratio near 0, steady volatility)."""
    return [money(center + amplitude * math.sin(i * 2.1)) for i in range(count)]


def calm_then_wild(calm: int, wild: int, center: float = 25.0) -> list[Decimal]:
    """Small alternating moves, then moves ten times bigger (volatility ratio >> 3)."""
    quiet = [money(center + (0.02 if i % 2 else 0.0)) for i in range(calm)]
    loud = [money(center + (0.60 if i % 2 else -0.40)) for i in range(wild)]
    return quiet + loud


def prints_for_closes(
    closes: Sequence[Decimal], *, symbol: str = CHAIN_SYMBOL, start_ns: int = T0
) -> list[TradePrinted]:
    """One round-lot print per minute, 30 s into it, at each close."""
    return [
        TradePrinted(
            ts_event=start_ns + i * MINUTE_NS + 30 * 1_000_000_000,
            source="test",
            symbol=symbol,
            price=close,
            size=100,
            venue="NSDQ",
            ts_exchange_ns=start_ns + i * MINUTE_NS + 30 * 1_000_000_000,
        )
        for i, close in enumerate(closes)
    ]


def issued_signal(
    symbol: str = CHAIN_SYMBOL,
    action: str = "LONG",
    *,
    entry: str = "25.00",
    stop: str = "24.50",
    start_ns: int = T0,
    strategy: str = "breakout",
    account: str = ACCOUNT,
    **overrides: Any,
) -> SignalIssued:
    """A ``SignalIssued`` as the advisory service makes it for the 1m candle at ``start_ns``:
    ``signal_id`` = correlation id = idempotency key = ``sig:<strategy>:<symbol>:<start>``,
    stamped at the candle's end (for the risk kernel, sizer and exit brain tests)."""
    signal_id = f"sig:{strategy}:{symbol}:{start_ns}"
    values: dict[str, Any] = {
        "ts_event": start_ns + MINUTE_NS, "source": "signals", "account": account,
        "idempotency_key": signal_id, "correlation_id": signal_id, "signal_id": signal_id,
        "symbol": symbol, "edge_score": 70, "confidence": 0.8, "regime_fit": True,
        "regime": "TRENDING", "recommended_action": action, "reasoning": "test advisory",
        "model_version": f"{strategy}-1", "stop_price": Decimal(stop),
        "entry_price": Decimal(entry), "strategy": strategy, "timeframe": "1m",
        "ts_data_ns": start_ns + MINUTE_NS,
    }  # fmt: skip
    values.update(overrides)
    return SignalIssued(**values)


def tick(price: str, symbol: str = CHAIN_SYMBOL, ts: int = T0) -> PriceTicked:
    return PriceTicked(ts_event=ts, source="test", symbol=symbol, price=Decimal(price))


def reading(
    symbol: str = CHAIN_SYMBOL, regime: Regime = "TRENDING", confidence: float = 0.8
) -> RegimeReading:
    return RegimeReading(
        symbol=symbol, regime=regime, confidence=confidence, previous=None,
        efficiency_ratio=0.5, volatility=0.001, baseline_volatility=0.001, vol_ratio=1.0,
        candle_start_ns=T0,
    )  # fmt: skip


def opened(
    qty: int = 100, symbol: str = CHAIN_SYMBOL, account: str = ACCOUNT, price: str = "25.00"
) -> PositionOpened:
    return PositionOpened(
        ts_event=T0, source="test", account=account, position_id=f"pos:{account}:{symbol}:f1",
        symbol=symbol, bucket=Bucket.MM_PURE, qty=abs(qty), entry_price=Decimal(price),
        direction=Direction.LONG if qty > 0 else Direction.SHORT,
    )  # fmt: skip


def view_with(
    candles: Sequence[CandleClosed],
    regime: Regime | None = "TRENDING",
    confidence: float = 0.8,
    position_qty: int = 0,
) -> DeskView:
    """A strategy's view holding ``candles`` of one symbol, its regime and its position."""
    view = DeskView(ACCOUNT, history=200)
    for candle in candles:
        view.add_candle(candle)
    symbol = candles[-1].symbol if candles else CHAIN_SYMBOL
    if regime is not None:
        view.set_regime(reading(symbol, regime, confidence))
    if position_qty:
        view.apply_position(opened(position_qty, symbol))
    return view


def script(path: Path, rows: Sequence[str], header: str = SCRIPT_HEADER) -> Path:
    """A scripted-strategy CSV with ``rows`` (already comma-joined)."""
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def desk(
    strategy: Strategy,
    *,
    label: str = "test",
    account: str = ACCOUNT,
    regime: RegimeConfig = SMALL_REGIME,
    **strategy_config: Any,
) -> AdvisoryDesk:
    return AdvisoryDesk(strategy, label, account, StrategyConfig(**strategy_config), regime)


def chain_config(
    strategy: str, params: dict[str, Any] | None = None, **strategy_config: Any
) -> Config:
    """A config for the three services: the small regime, ACC1, and ``strategy``."""
    return Config(
        marketdata=MarketDataConfig(timeframes=["1m"]),
        regime=SMALL_REGIME,
        strategy=StrategyConfig(name=strategy, params=params or {}, **strategy_config),
        risk=RiskConfig(accounts=[AccountConfig(name=ACCOUNT, equity=Decimal(100_000))]),
    )


class Exploding(BaseStrategy):
    """Raises on every candle of ``symbol``; advises LONG on every other candle."""

    model_version = "boom-1"

    def __init__(self, symbol: str = "BOOM") -> None:
        self.symbol = symbol

    def on_candle(self, candle: CandleClosed, view: MarketView) -> Advice | None:
        if candle.symbol == self.symbol:
            raise RuntimeError(f"strategy bug on {candle.symbol}")
        return Advice(
            symbol=candle.symbol, action="LONG", edge_score=60, confidence=0.6,
            stop_price=candle.close - Decimal("0.50"), entry_price=candle.close,
            reasoning="always long",
        )  # fmt: skip
