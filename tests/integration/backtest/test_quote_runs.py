"""Folded runs of quotes give the per-event events: the whole chain over the same tape with
runs folded and with every quote handed over one by one, events compared field by field."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
import pytest

from quantrail.backtest.run import Played, backtest_config, play_market, tape_market
from quantrail.bus.delivery import Delivery
from quantrail.config import config_from_mapping
from quantrail.events import Event, QuoteUpdated
from quantrail.events.market import PriceTicked
from quantrail.marketdata.types import Quote
from quantrail.runtime.market_fold import MarketFold
from quantrail.runtime.service import Service, Subscription

S = 1_000_000_000
MINUTE = 60 * S
START = 1_709_562_600 * S  # 2024-03-04 14:30 UTC, a Monday's open in New York
BENCH = "quantrail.ops.bench_backtest"


class Recorder(Service):
    """Every quote and tick it is handed (folded or one by one), in order, and the candles."""

    name = "recorder"

    def __init__(self) -> None:
        super().__init__()
        self.quotes: list[tuple[int, Decimal]] = []
        self.ticks: list[tuple[int, Decimal, int]] = []
        self.candles: list[tuple[object, ...]] = []

    def subscriptions(self) -> list[Subscription]:
        quotes = MarketFold(len, self._take_quotes, pokes=False)
        ticks = MarketFold(len, self._take_ticks, pokes=False)
        return [
            Subscription(["market.quote"], self.on_event, name="q", broadcast=True, fold=quotes),
            Subscription(["market.tick"], self.on_event, name="t", broadcast=True, fold=ticks),
            Subscription(["market.candle"], self.on_event, name="c", broadcast=True),
        ]

    def _take_quotes(self, quotes: Sequence[QuoteUpdated]) -> None:
        self.quotes += [(q.ts_event, q.bid) for q in quotes]

    def _take_ticks(self, ticks: Sequence[PriceTicked]) -> None:
        now = self.ctx.now_ns()
        self.ticks += [(t.ts_event, t.price, now) for t in ticks]

    async def on_event(self, event: Event, _delivery: Delivery) -> None:
        if isinstance(event, QuoteUpdated):
            self._take_quotes([event])
        elif isinstance(event, PriceTicked):
            self._take_ticks([event])
        else:
            fields = [getattr(event, f) for f in ("start_ns", "open", "high", "low", "close")]
            self.candles.append((*fields, self.ctx.now_ns()))  # and when it came


def _tape(count: int) -> list[Quote]:
    """ACME quotes 20 ms apart on a walk of whole cents; two gaps (a quiet 90 s, in which
    candles close on the timer, and a 7-minute one), pauses of 0.35 s (the next quote is a
    tick at once) and a few crossed quotes."""
    steps = (1, -1, 2, -1, 0, -2, 1, 1, -1, 0, 2, -2, -1, 1)
    quotes, ts, cents = [], START, 10_000
    for index in range(count):
        ts += 20_000_000 + (90 * S if index == count // 3 else 0)
        ts += 420 * S if index == 2 * count // 3 else 0
        ts += 350_000_000 if index % 500 == 250 else 0  # a pause within a candle
        cents += steps[index % len(steps)] + (index // 97) % 3 - 1
        bid = Decimal(cents) / 100
        ask = bid - Decimal("0.01") if index % 1777 == 5 else bid + Decimal("0.01")
        quotes.append(Quote("ACME", bid, ask, 500, 400, ts, "XNAS"))
    return quotes


def _shape(event: Event) -> dict[str, Any]:
    """An event's fields but the random ones (event ids, and ids made from them)."""
    fields = msgspec.to_builtins(event)
    return {k: v for k, v in fields.items() if k not in {"event_id", "causation_id"}}


async def _play(
    tmp: Path, strategy: str, params: dict[str, Any], extra: dict[str, Any], fold: bool
) -> tuple[Played, Recorder]:
    raw = {"strategy": {"name": f"{BENCH}:{strategy}", "params": params},
           "risk_kernel": {"max_trades_per_day": 100_000}, **extra}  # fmt: skip
    config = backtest_config(config_from_mapping(raw, "test"), None, None, tmp)
    recorder = Recorder()
    played = await play_market(config, tape_market(_tape(9_000), MINUTE), extra=[recorder],
                               fold_runs=fold)  # fmt: skip
    return played, recorder


@pytest.mark.parametrize(
    ("strategy", "params", "extra"),
    [
        ("Quiet", {}, {}),
        ("OrderEvery", {"every": 150}, {}),
        # Position updates every 0.25 s, off the ticks' 0.1 s grid: quotes set some off.
        ("OrderEvery", {"every": 150}, {"positions": {"update_interval_s": 0.25}}),
        # A tight daily loss limit: the kill switch fires, then every advisory is vetoed.
        ("OrderEvery", {"every": 150}, {"risk_kernel": {"daily_loss_limit_pct": -0.02}}),
    ],
    ids=["quiet", "orders", "orders-quick-updates", "orders-kill-switch"],
)
async def test_folded_runs_give_the_per_event_events(
    tmp_path: Path, strategy: str, params: dict[str, Any], extra: dict[str, Any]
) -> None:
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
    one_by_one, seen = await _play(tmp_path / "a", strategy, params, extra, fold=False)
    folded, folded_seen = await _play(tmp_path / "b", strategy, params, extra, fold=True)
    assert [_shape(e) for e in folded.events] == [_shape(e) for e in one_by_one.events]
    assert folded.points == one_by_one.points
    assert folded_seen.quotes == seen.quotes and len(seen.quotes) == 9_000
    assert folded_seen.candles == seen.candles and len(seen.candles) > 5
    # Ticks: the same prices in the same order; a folded run hands its ticks over at its end.
    assert [t[:2] for t in folded_seen.ticks] == [t[:2] for t in seen.ticks]
    assert len(seen.ticks) > 1_000
    assert all(f[2] >= s[2] for f, s in zip(folded_seen.ticks, seen.ticks, strict=True))
    if "risk_kernel" in extra:
        kills = [e for e in folded.events if e.kind == "risk.kill_switch.activated"]
        assert len(kills) == 1
    elif strategy == "OrderEvery":
        updates = [e for e in folded.events if e.kind == "position.state.updated"]
        assert len(updates) > 10
        fills = [e for e in folded.events if e.kind == "trades.order.filled"]
        assert len(fills) > 20  # positions were held: runs stopped at their symbol
