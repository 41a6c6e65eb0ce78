"""The same scripted day as a backtest on the memory bus and on Redis: the same trades and P&L.

Both runs move the same service classes (the chain the backtest builds: candles, regime,
signals, risk kernel, sizer, execution on the bar venue, positions, exit brain, kill switch)
over the same bars on a simulated clock; only the transport differs. Signals are scripted so
the chain is driven exactly: a LONG at the fourth bar with a stop the market later falls
through.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec

from kit.backtest import DAY0, bar_rows, write_bars_csv
from kit.bus import new_namespace
from quantrail.backtest.inputs import load_market
from quantrail.backtest.result import collect
from quantrail.backtest.run import backtest_config, play_market
from quantrail.config import Config, config_from_mapping
from quantrail.runtime.clock import NS_PER_SECOND

CLOSES = ["10.00", "10.02", "10.05", "10.08", "10.10", "10.12", "10.11", "10.13", "10.15",
          "10.10", "10.00", "9.85", "9.70", "9.60", "9.62", "9.65", "9.66", "9.70"]  # fmt: skip


def _inputs(tmp_path: Path) -> tuple[Config, Any]:
    bars = write_bars_csv(tmp_path / "xyz.csv", bar_rows("XYZ", CLOSES))
    when = dt.datetime.fromtimestamp((DAY0 + 3 * 60 * NS_PER_SECOND) // NS_PER_SECOND, dt.UTC)
    signals = tmp_path / "signals.csv"
    signals.write_text(
        "ts,symbol,action,edge_score,confidence,stop,reasoning\n"
        f"{when.isoformat()},XYZ,LONG,80,0.8,9.90,breakout\n"
    )
    config = backtest_config(Config(), "scripted", signals, tmp_path)
    market = load_market([bars], "1m", config.backtest.tick_size)
    return config, market


def _on_redis(config: Config, redis_url: str) -> Config:
    raw: dict[str, Any] = msgspec.to_builtins(config)
    raw["bus"]["transport"] = "redis"
    raw["redis"]["url"] = redis_url
    raw["namespace"] = new_namespace()
    return config_from_mapping(raw, "test")


def _trades(result: Any) -> list[tuple[object, ...]]:
    return [
        (t.symbol, t.direction, t.qty, t.entry_price, t.exit_price, t.exit_reason,
         t.realized_pnl, t.fees)
        for t in result.trades
    ]  # fmt: skip


async def test_a_scripted_day_gives_the_same_trades_and_pnl_on_memory_and_on_redis(
    tmp_path: Path, redis_url: str
) -> None:
    config, market = _inputs(tmp_path)
    on_memory = await play_market(config, market)
    on_redis = await play_market(_on_redis(config, redis_url), market)
    first = collect(config.backtest.initial_equity, on_memory.events, on_memory.points)
    second = collect(config.backtest.initial_equity, on_redis.events, on_redis.points)
    assert _trades(first), "the scripted signal made no trade"
    assert _trades(first) == _trades(second)
    assert first.trades[0].exit_reason == "stop"
    assert (first.final_equity, first.net_pnl, first.fees) == (
        second.final_equity, second.net_pnl, second.fees,
    )  # fmt: skip
    assert first.net_pnl != Decimal(0)
