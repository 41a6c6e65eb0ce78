"""The market-data publisher across a Redis outage, on a real redis-server.

A file replay waits while Redis is away: every quote of a 10/s file replayed across a 4 s
outage is published, once, in file order. A live feed instead conflates the quotes that pile up
to the latest per symbol and counts them.
"""

from __future__ import annotations

import asyncio
import logging
from decimal import Decimal
from pathlib import Path

import pytest

from kit.marketdata import T0_NS, prt, quote
from kit.outage import outage_bus, persistent_redis
from kit.poll import eventually
from quantrail.bus.bus import EventBus
from quantrail.config import Config
from quantrail.events.market import QuoteUpdated
from quantrail.marketdata.replay import read_market_file, write_market_file
from quantrail.marketdata.service import MarketDataService
from quantrail.ops.redis_server import RedisServer
from quantrail.runtime.clock import SimulatedClock
from quantrail.runtime.runner import ServiceRunner

pytestmark = pytest.mark.redis
__all__ = ["outage_bus", "persistent_redis"]  # fixtures
TENTH_NS = 100_000_000
COUNT = 100  # 10 s of quotes at 10/s


def quote_file(tmp_path: Path) -> Path:
    path = tmp_path / "quotes.csv"
    quotes = [
        quote(Decimal("24.00") + Decimal(i) / 100, Decimal("24.02") + Decimal(i) / 100,
              ts_ns=T0_NS + i * TENTH_NS)
        for i in range(COUNT)
    ]  # fmt: skip
    write_market_file(path, quotes)
    return path


async def run_to(clock: SimulatedClock, target_ns: int) -> None:
    """Move the clock a tick at a time, letting the publisher's I/O run between ticks."""
    while clock.now_ns() < target_ns:
        await clock.advance(0.1)
        await asyncio.sleep(0.005)


async def test_a_file_replay_across_a_redis_outage_publishes_every_quote_once(
    persistent_redis: RedisServer,
    outage_bus: EventBus,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, "quantrail.marketdata")
    clock = SimulatedClock(T0_NS)
    service = MarketDataService(iter(read_market_file(quote_file(tmp_path))), tick_s=0.1)
    runner = ServiceRunner(outage_bus, [service], Config(), clock=clock, heartbeats=False)
    task = asyncio.create_task(runner.run(install_signals=False))
    await runner.started.wait()
    await run_to(clock, T0_NS + 30 * TENTH_NS)
    await eventually(lambda: service.published, lambda n: n >= 30, what="3 s published")
    persistent_redis.kill()
    await run_to(clock, T0_NS + 70 * TENTH_NS)  # a 4 s outage: 40 quotes come due
    held = await eventually(lambda: service.health()["held"], lambda n: n > 0, what="held")
    assert isinstance(held, int) and service.published < 70
    persistent_redis.start()
    await run_to(clock, T0_NS + COUNT * TENTH_NS)
    await eventually(lambda: service.published, lambda n: n == COUNT, within=15.0)
    runner.request_stop()
    assert await task == 0
    events = await outage_bus.read_events("market.quote")
    assert all(isinstance(e, QuoteUpdated) for e in events)
    assert [e.ts_event for e in events] == [T0_NS + i * TENTH_NS for i in range(COUNT)]
    said = [r.getMessage() for r in caplog.records]
    assert sum(m.startswith("Redis unreachable, holding") for m in said) == 1
    assert sum(m.startswith("Redis reachable again after") for m in said) == 1


async def test_a_live_feed_conflates_quotes_per_symbol_during_an_outage_and_counts_them(
    persistent_redis: RedisServer, outage_bus: EventBus
) -> None:
    clock = SimulatedClock(T0_NS)
    feed = [
        *(quote(ts_ns=T0_NS + i * TENTH_NS, symbol=s) for i in range(1, 20) for s in ("A", "B")),
        prt(ts_ns=T0_NS + 25 * TENTH_NS, symbol="A"),
    ]
    feed.sort(key=lambda item: item.ts_ns)
    service = MarketDataService(iter(feed), tick_s=0.1, mode="live")
    runner = ServiceRunner(outage_bus, [service], Config(), clock=clock, heartbeats=False)
    persistent_redis.kill()  # the feed starts into an outage
    task = asyncio.create_task(runner.run(install_signals=False))
    await runner.started.wait()
    await run_to(clock, T0_NS + 30 * TENTH_NS)
    await eventually(lambda: service.health()["held"], lambda n: n == 3, what="A, B and a print")
    persistent_redis.start()
    await run_to(clock, T0_NS + 40 * TENTH_NS)
    await eventually(lambda: service.published, lambda n: n == 3, within=15.0)
    runner.request_stop()
    assert await task == 0
    assert service.conflated_quotes == 38 - 2
    quotes = await outage_bus.read_events("market.quote")
    assert sorted((q.symbol, q.ts_event) for q in quotes if isinstance(q, QuoteUpdated)) == [
        ("A", T0_NS + 19 * TENTH_NS),
        ("B", T0_NS + 19 * TENTH_NS),
    ]
    assert len(await outage_bus.read_events("market.trade")) == 1
