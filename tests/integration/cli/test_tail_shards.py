"""``quantrail tail`` and ``replay`` of a sharded stream (``bus.shards: 4``) on a real Redis:
entries of every shard, each symbol's in its order."""

from __future__ import annotations

import asyncio
import re
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest

from kit.bus import make_bus, new_namespace
from kit.cli import run_cli
from kit.cluster import shard_bus
from kit.market_events import trade_print
from kit.shards import SHARDS, SPREAD, checked, shard_keys_written
from quantrail.bus.bus import EventBus
from quantrail.events.base import Event

TRADES = "market.trade"
LINE = re.compile(r"market\.trade\.printed .*symbol=(\w+) price=([\d.]+)")


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "quantrail.yaml"
    path.write_text(f"bus:\n  shards: {SHARDS}\n")
    return path


def prints(first: int, count: int) -> list[Event]:
    return [
        trade_print(symbol, Decimal(20 + i) + Decimal(step) / 100, 100, ts_event=1_000 + step)
        for step in range(first, first + count)
        for i, symbol in enumerate(SPREAD)
    ]


def prices_by_symbol(output: str) -> dict[str, list[Decimal]]:
    seen: dict[str, list[Decimal]] = defaultdict(list)
    for symbol, price in LINE.findall(output):
        seen[symbol].append(Decimal(price))
    return dict(seen)


async def sharded(redis_url: str, namespace: str) -> EventBus:
    return checked(shard_bus(make_bus("redis", redis_url, namespace), SHARDS))


async def test_tail_from_start_and_replay_show_every_shard_in_symbol_order(
    redis_url: str, config: Path
) -> None:
    namespace = new_namespace()
    bus = await sharded(redis_url, namespace)
    try:
        await bus.publish_batch(prints(0, 3))
        assert len(await shard_keys_written(bus, TRADES)) == SHARDS
    finally:
        await bus.close()
    where = ["-c", str(config), "--redis", redis_url, "-n", namespace]
    result = await run_cli(["tail", TRADES, "--from-start", "--limit", "12", *where])
    assert result.exit_code == 0, result.output
    expected = {s: [Decimal(20 + i) + Decimal(k) / 100 for k in range(3)]
                for i, s in enumerate(SPREAD)}  # fmt: skip
    assert prices_by_symbol(result.output) == expected
    result = await run_cli(["replay", TRADES, *where])
    assert result.exit_code == 0 and "replayed 12 events" in result.output, result.output
    assert prices_by_symbol(result.output) == expected


async def test_tail_follows_what_comes_on_every_shard(redis_url: str, config: Path) -> None:
    namespace = new_namespace()
    bus = await sharded(redis_url, namespace)
    where = ["-c", str(config), "--redis", redis_url, "-n", namespace]
    try:
        await bus.publish_batch(prints(0, 2))  # before the tail: not shown
        tail = asyncio.create_task(run_cli(["tail", TRADES, "--limit", "16", *where]))
        step = 2
        deadline = asyncio.get_running_loop().time() + 10
        # Tail starts at each shard's end at a moment the test cannot see: publish a round
        # (one print per shard) until it has shown 16 entries.
        while not tail.done():
            assert asyncio.get_running_loop().time() < deadline, "tail showed too little"
            await bus.publish_batch(prints(step, 1))
            step += 1
            await asyncio.wait({tail}, timeout=0.05)
        result = tail.result()
    finally:
        await bus.close()
    assert result.exit_code == 0, result.output
    seen = prices_by_symbol(result.output)
    assert sorted(seen) == sorted(SPREAD) and sum(map(len, seen.values())) == 16
    for index, symbol in enumerate(SPREAD):
        steps = [int((price - (20 + index)) * 100) for price in seen[symbol]]
        assert steps[0] >= 2 and steps == list(range(steps[0], steps[0] + len(steps)))
