"""Candles and features with ``bus.shards: 4`` on a real Redis and on the Redis
Cluster.

Both replay ``market.trade`` (candles ``market.quote`` too) at start and follow it from where
the replay stopped, one id cursor per shard; both find what they already published by
replaying their own (sharded) output stream. One symbol lives on each shard: every symbol gets
its candles and features, in its own order, through a restart, none twice.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from kit.event_base import T0
from kit.shards import SPREAD, shard_keys_written
from kit.strategy_chain import MINUTE_NS, chain_config, prints_for_closes
from quantrail.bus.bus import EventBus
from quantrail.events.market import CandleClosed, FeatureComputed, TradePrinted
from quantrail.marketdata.candle_service import build_candles_service
from quantrail.marketdata.features import TRUTH_TICK
from quantrail.marketdata.features_service import build_features_service
from quantrail.runtime.clock import NS_PER_SECOND, SimulatedClock
from quantrail.runtime.service import Service
from quantrail.runtime.simulation import Simulation

CONFIG = chain_config("")


def closes(index: int) -> list[Decimal]:
    """Four minutes of closes, a different level per symbol."""
    return [Decimal(20 + index) + Decimal(minute) / 10 for minute in range(4)]


def minute(number: int) -> list[TradePrinted]:
    """The print of minute ``number`` of every symbol."""
    return [
        prints_for_closes(closes(index), symbol=symbol)[number]
        for index, symbol in enumerate(SPREAD)
    ]


def services() -> list[Service]:
    return [build_candles_service(CONFIG), build_features_service(CONFIG)]


async def candles_by_symbol(sim: Simulation) -> dict[str, list[tuple[int, Decimal]]]:
    seen: dict[str, list[tuple[int, Decimal]]] = defaultdict(list)
    for candle in await sim.events(CandleClosed):
        if candle.timeframe == "1m":
            seen[candle.symbol].append((candle.start_ns, candle.close))
    return dict(seen)


async def truth_ticks_by_symbol(sim: Simulation) -> dict[str, list[Decimal | None]]:
    seen: dict[str, list[Decimal | None]] = defaultdict(list)
    for feature in await sim.events(FeatureComputed):
        if feature.name == TRUTH_TICK:
            seen[feature.symbol].append(feature.value)
    return dict(seen)


def expected_candles(minutes: int) -> dict[str, list[tuple[int, Decimal]]]:
    return {
        symbol: [(T0 + m * MINUTE_NS, closes(index)[m]) for m in range(minutes)]
        for index, symbol in enumerate(SPREAD)
    }


async def test_candles_and_features_for_every_shard_through_a_restart(
    sharded_bus: EventBus,
) -> None:
    bus = sharded_bus
    clock = SimulatedClock(T0)
    await bus.publish_batch([*minute(0), *minute(1)])  # before the start: replayed
    assert len(await shard_keys_written(bus, "market.trade")) == 4
    first = await Simulation(bus, clock, services(), CONFIG).start()
    try:
        await first.publish(*minute(2))  # live, on every shard
        await first.advance_to(T0 + 3 * MINUTE_NS + NS_PER_SECOND, step=10.0)
        assert await candles_by_symbol(first) == expected_candles(3)
        assert await truth_ticks_by_symbol(first) == {
            symbol: closes(index)[:3] for index, symbol in enumerate(SPREAD)
        }
        assert len(await shard_keys_written(bus, "market.candle")) == 4
    finally:
        assert await first.stop() == 0

    await bus.publish_batch(minute(3))  # while both are down
    await clock.advance_to(T0 + 4 * MINUTE_NS + NS_PER_SECOND)
    again = await Simulation(bus, clock, services(), CONFIG).start()
    try:
        await again.advance(30, step=10.0)
        # Minute 3 caught up from the replay; nothing published before is published again.
        assert await candles_by_symbol(again) == expected_candles(4)
        assert await truth_ticks_by_symbol(again) == {
            symbol: closes(index) for index, symbol in enumerate(SPREAD)
        }
    finally:
        assert await again.stop() == 0
