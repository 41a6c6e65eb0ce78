"""The NautilusTrader side of ``quantrail bench backtest`` (optional extra ``quantrail[compare]``).

The same synthetic data as ours (``ops.bench_data``) runs through NautilusTrader's
``BacktestEngine``: one equity on XNAS, a cash account, logging bypassed. A no-op strategy
subscribes to the quotes (or the 1-minute bars) and does nothing; the order run's strategy
submits a 100-share market order every ``order_every`` quotes, buy and sell in turn. Only
``engine.run()`` is timed (wall and CPU), not building the data or the engine.

Everything NautilusTrader is imported inside the functions: the module imports without it and
``available()`` says whether the comparison can run.

NautilusTrader installs uvloop's event loop policy for the whole process when it runs; every
run here puts back the policy it found, so our runs after it use the loop they use anywhere
else (the backtest's settles look at CPython's ready queue; on uvloop they take fixed turns).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import time
from collections.abc import Iterator, Sequence
from typing import Any

from quantrail.ops.bench_data import BenchBar, BenchQuote, Timing

SYMBOL = "ACME"
VENUE = "XNAS"
ORDER_QTY = 100


def available() -> bool:
    return importlib.util.find_spec("nautilus_trader") is not None


def version() -> str:
    import nautilus_trader

    return str(nautilus_trader.__version__)


def _engine() -> tuple[Any, Any]:
    """An engine with the venue and the instrument, and the instrument."""
    from nautilus_trader.backtest.engine import BacktestEngine, BacktestEngineConfig
    from nautilus_trader.config import LoggingConfig
    from nautilus_trader.model.currencies import USD
    from nautilus_trader.model.enums import AccountType, OmsType
    from nautilus_trader.model.identifiers import TraderId, Venue
    from nautilus_trader.model.objects import Money
    from nautilus_trader.test_kit.providers import TestInstrumentProvider

    config = BacktestEngineConfig(
        trader_id=TraderId("BENCH-001"), logging=LoggingConfig(bypass_logging=True)
    )
    engine = BacktestEngine(config=config)
    engine.add_venue(
        venue=Venue(VENUE),
        oms_type=OmsType.NETTING,
        account_type=AccountType.CASH,
        base_currency=USD,
        starting_balances=[Money(10_000_000, USD)],
    )
    instrument = TestInstrumentProvider.equity(symbol=SYMBOL, venue=VENUE)
    engine.add_instrument(instrument)
    return engine, instrument


def _strategies(order_every: int) -> tuple[type, type, type]:
    """The three strategies, defined once NautilusTrader is importable."""
    from nautilus_trader.model.enums import OrderSide
    from nautilus_trader.model.objects import Quantity
    from nautilus_trader.trading.strategy import Strategy

    class QuietQuotes(Strategy):  # type: ignore[misc]
        def __init__(self, instrument_id: Any) -> None:
            super().__init__()
            self.instrument_id = instrument_id
            self.seen = 0

        def on_start(self) -> None:
            self.subscribe_quote_ticks(self.instrument_id)

        def on_quote_tick(self, tick: Any) -> None:
            self.seen += 1

    class QuietBars(Strategy):  # type: ignore[misc]
        def __init__(self, bar_type: Any) -> None:
            super().__init__()
            self.bar_type = bar_type
            self.seen = 0

        def on_start(self) -> None:
            self.subscribe_bars(self.bar_type)

        def on_bar(self, bar: Any) -> None:
            self.seen += 1

    class OrderEvery(QuietQuotes):
        def __init__(self, instrument_id: Any) -> None:
            super().__init__(instrument_id)
            self.orders = 0

        def on_quote_tick(self, tick: Any) -> None:
            self.seen += 1
            if self.seen % order_every == 0:
                side = OrderSide.BUY if self.orders % 2 == 0 else OrderSide.SELL
                order = self.order_factory.market(
                    self.instrument_id, side, Quantity.from_int(ORDER_QTY)
                )
                self.submit_order(order)
                self.orders += 1

    return QuietQuotes, QuietBars, OrderEvery


def _quote_ticks(instrument: Any, quotes: Sequence[BenchQuote]) -> list[Any]:
    from nautilus_trader.model.data import QuoteTick
    from nautilus_trader.model.objects import Price, Quantity

    return [
        QuoteTick(
            instrument_id=instrument.id,
            bid_price=Price.from_str(str(q.bid)),
            ask_price=Price.from_str(str(q.ask)),
            bid_size=Quantity.from_int(q.size),
            ask_size=Quantity.from_int(q.size),
            ts_event=q.ts_ns,
            ts_init=q.ts_ns,
        )
        for q in quotes
    ]


@contextlib.contextmanager
def _keeping_loop_policy() -> Iterator[None]:
    policy = asyncio.get_event_loop_policy()
    try:
        yield
    finally:
        asyncio.set_event_loop_policy(policy)


def _timed_run(engine: Any) -> Timing:
    started, started_cpu = time.perf_counter(), time.process_time()
    engine.run()
    return Timing(time.perf_counter() - started, time.process_time() - started_cpu)


def run_quotes(quotes: Sequence[BenchQuote], order_every: int | None) -> tuple[Timing, int]:
    """The quotes through a no-op strategy (``order_every`` None) or one ordering every N
    quotes; returns the timing and how many orders filled."""
    with _keeping_loop_policy():
        return _run_quotes(quotes, order_every)


def _run_quotes(quotes: Sequence[BenchQuote], order_every: int | None) -> tuple[Timing, int]:
    engine, instrument = _engine()
    quiet, _bars, ordering = _strategies(order_every or 1)
    strategy = quiet(instrument.id) if order_every is None else ordering(instrument.id)
    engine.add_data(_quote_ticks(instrument, quotes))
    engine.add_strategy(strategy)
    try:
        timing = _timed_run(engine)
        fills = sum(1 for order in engine.cache.orders() if order.is_closed and order.filled_qty)
    finally:
        engine.dispose()
    return timing, fills


def run_bars(bars: Sequence[BenchBar]) -> Timing:
    """The 1-minute bars through a no-op strategy."""
    with _keeping_loop_policy():
        return _run_bars(bars)


def _run_bars(bars: Sequence[BenchBar]) -> Timing:
    from nautilus_trader.model.data import Bar, BarType
    from nautilus_trader.model.objects import Price, Quantity

    engine, instrument = _engine()
    bar_type = BarType.from_str(f"{instrument.id}-1-MINUTE-LAST-EXTERNAL")
    data = [
        Bar(
            bar_type=bar_type,
            open=Price.from_str(str(b.open)),
            high=Price.from_str(str(b.high)),
            low=Price.from_str(str(b.low)),
            close=Price.from_str(str(b.close)),
            volume=Quantity.from_int(b.volume),
            ts_event=b.start_ns + 60_000_000_000,  # Nautilus stamps a bar at its close
            ts_init=b.start_ns + 60_000_000_000,
        )
        for b in bars
    ]
    _quotes, quiet_bars, _ordering = _strategies(1)
    engine.add_data(data)
    engine.add_strategy(quiet_bars(bar_type))
    try:
        return _timed_run(engine)
    finally:
        engine.dispose()
