"""The health monitor's stream figures with ``bus.shards: 4``, on a single Redis and on the
Redis Cluster: a sharded stream's length, lag and pending are its shards' summed, and its lag
alert fires on entries spread over the shards (none of which alone crosses the threshold)."""

from __future__ import annotations

from kit.event_base import T0
from kit.market_events import quote
from kit.shards import SPREAD, shard_keys_written
from quantrail.bus.bus import EventBus
from quantrail.config import config_from_mapping
from quantrail.ops.health_config import HealthConfig
from quantrail.ops.health_service import HealthService
from quantrail.runtime.clock import SimulatedClock
from quantrail.runtime.service import ServiceContext

PER_SYMBOL = 30  # 4 x 30 = 120 entries: over max_lag 100 in all, 30 on any one shard


def sample(service: HealthService, name: str, **labels: str) -> float:
    for family in service.metric_families():
        for found in family.samples:
            if found.name == name and all(found.labels.get(k) == v for k, v in labels.items()):
                return float(found.value)
    raise AssertionError(f"{name} {labels} not exported")


async def test_a_sharded_stream_is_summed_over_its_shards(sharded_bus: EventBus) -> None:
    bus = sharded_bus
    await bus.publish_batch(
        [quote(symbol, ts_event=T0 + n) for symbol in SPREAD for n in range(PER_SYMBOL)]
    )
    shards = await shard_keys_written(bus, "market.quote")
    assert len(shards) == len(SPREAD)
    for shard in shards:  # a group that has read 10 of each shard's 30 and acked none
        key = bus.names.key(shard)
        await bus.transport.create_group(key, "features")
        await bus.transport.read_group("features", "features-a", {key: ">"}, 10, 0)
    clock = SimulatedClock(T0)
    service = HealthService(HealthConfig(max_lag=100))
    service.bind(ServiceContext(bus, clock, config_from_mapping({}), service.name, "t"))

    edges = await service.check()

    total = PER_SYMBOL * len(SPREAD)
    assert sample(service, "quantrail_stream_length_entries", stream="market.quote") == total
    lag = sample(
        service, "quantrail_consumer_group_lag_entries", stream="market.quote", group="features"
    )
    assert lag == total - 10 * len(SPREAD)  # 80: under the threshold, no alert
    pending = sample(
        service, "quantrail_consumer_group_pending_entries", stream="market.quote", group="features"
    )
    assert pending == 10 * len(SPREAD)
    assert edges == 0
    # More entries on every shard: 30 more each, 200 behind in all, none over 100 alone.
    await bus.publish_batch(
        [quote(symbol, ts_event=T0 + 100 + n) for symbol in SPREAD for n in range(PER_SYMBOL)]
    )
    assert await service.check() == 1
    alerts = await bus.read_events("system.alert")
    assert [a.alert_id for a in alerts] == ["consumer_lag:market.quote:features"]
    assert alerts[0].details["lag"] == 200
