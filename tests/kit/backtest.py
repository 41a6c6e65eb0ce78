"""Builders for backtest tests: bars, bar files, and a bar venue with round figures."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from kit.position_events import position_closed
from quantrail.backtest.bar_venue import BarVenue
from quantrail.backtest.bars import BAR_COLUMNS, Bar
from quantrail.backtest.config import BacktestConfig
from quantrail.config import Config
from quantrail.events import Event, IntentCreated
from quantrail.runtime.service import Service, Timer
from quantrail.vocab import Bucket, Mode, OrderType, Side

MINUTE_NS = 60 * 1_000_000_000
DAY0 = 1_704_983_400_000_000_000
"""2024-01-11 14:30:00 UTC (09:30 in New York), the start of the tests' first bar."""


def bar(**overrides: Any) -> Bar:
    """A one-minute XYZ bar 10.00 / 10.20 / 9.90 / 10.10, 1,000 shares; override any field."""
    fields: dict[str, Any] = {
        "symbol": "XYZ",
        "start_ns": DAY0,
        "open": Decimal("10.00"),
        "high": Decimal("10.20"),
        "low": Decimal("9.90"),
        "close": Decimal("10.10"),
        "volume": 1000,
        "timeframe_ns": MINUTE_NS,
    }
    fields.update(overrides)
    return Bar(**fields)


def write_bars_csv(path: Path, rows: Iterable[Sequence[object]], header: bool = True) -> Path:
    """A bars CSV with the standard header and ``rows`` as given (strings written as is)."""
    lines = [",".join(BAR_COLUMNS)] if header else []
    lines += [",".join(str(cell) for cell in row) for row in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def bar_rows(symbol: str, closes: Sequence[str], start_ns: int = DAY0) -> list[list[object]]:
    """One row per close: open at the previous close, high/low 5 cents around, 1,000 shares."""
    rows: list[list[object]] = []
    previous = Decimal(closes[0])
    for index, text in enumerate(closes):
        close = Decimal(text)
        high = max(previous, close) + Decimal("0.05")
        low = min(previous, close) - Decimal("0.05")
        rows.append([start_ns + index * MINUTE_NS, symbol, previous, high, low, close, 1000])
        previous = close
    return rows


def bar_venue(**config: Any) -> BarVenue:
    """A bar venue: 1 tick (0.01) of slippage, 0.005 a share, at least 1.00 an order."""
    return BarVenue(BacktestConfig(**config))


class TimedEvents(Service):
    """Publishes each event once the clock reaches its ``ts_event`` (checked every second):
    a stand-in for the chain's deciding services where a test needs exact orders."""

    name = "timed-events"

    def __init__(self, events: Sequence[Event]) -> None:
        super().__init__()
        self._due = sorted(events, key=lambda event: event.ts_event)

    def timers(self) -> list[Timer]:
        return [Timer(1.0, self.publish_due, "due")]

    async def publish_due(self) -> None:
        now = self.ctx.now_ns()
        ready = [event for event in self._due if event.ts_event <= now]
        self._due = self._due[len(ready) :]
        if ready:
            await self.ctx.publish_batch(ready)


def intent(ts_ns: int, intent_id: str, side: Side, **overrides: Any) -> IntentCreated:
    """A MARKET DAY intent for 100 XYZ in the backtest's account, from the decision engine
    (a source execution lets add exposure without an approval, by default)."""
    fields: dict[str, Any] = {
        "ts_event": ts_ns, "source": "decision-engine", "account": "BACKTEST",
        "intent_id": intent_id, "symbol": "XYZ",
        "side": side, "qty": 100, "order_type": OrderType.MARKET, "bucket": Bucket.MM_PURE,
        "mode": Mode.NORMAL,
    }  # fmt: skip
    fields.update(overrides)
    return IntentCreated(**fields)


def build_bogus_close_service(config: Config) -> Service:
    """A chain plug-in (``build_<name>_service``) for the CLI's exit 1: a round trip on the
    bars of ``bar_rows`` (bought at the second bar's open, sold at the third's) and a made-up
    +500.00 close that no fill supports."""
    del config
    second = 1_000_000_000
    return TimedEvents([
        intent(DAY0 + 30 * second, "entry-1", Side.BUY),
        intent(DAY0 + MINUTE_NS + 30 * second, "exit-1", Side.SELL, reduce_only=True),
        position_closed(ts_event=DAY0 + 2 * MINUTE_NS, account="BACKTEST", symbol="XYZ",
                        realized_pnl="500.00"),
    ])  # fmt: skip
