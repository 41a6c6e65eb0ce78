"""Bus builders for tests: a small test event, a codec for it, and buses on either transport."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Sequence

from quantrail.bus.bus import EventBus
from quantrail.bus.delivery import Delivery
from quantrail.bus.memory import MemoryTransport
from quantrail.bus.redis import RedisTransport
from quantrail.config import BusConfig, ConsumerConfig
from quantrail.events.base import Event
from quantrail.events.catalog import ALL_EVENTS
from quantrail.events.codec import Codec
from quantrail.events.streams import StreamNames

PING_STREAM = "test.ping"


class Ping(Event, frozen=True, kw_only=True, tag="test.ping.sent"):
    """A test event: a sequence number and an optional instruction for the test handler."""

    seq: int
    note: str = ""


TEST_CODEC = Codec((*ALL_EVENTS, Ping))


def fast_consumer_config(**overrides: object) -> ConsumerConfig:
    """Short timings so retries, claims and blocking reads finish quickly in tests."""
    values: dict[str, object] = {
        "batch_size": 50,
        "block_ms": 50,
        "claim_idle_ms": 200,
        "claim_interval_ms": 100,
        "max_deliveries": 3,
        "backoff_ms": [10, 20, 40],
        "handler_timeout_s": 5.0,
    }
    values.update(overrides)
    return ConsumerConfig(**values)  # type: ignore[arg-type]


def new_namespace() -> str:
    return "t" + uuid.uuid4().hex[:12]


def make_bus(transport_name: str, redis_url: str | None, namespace: str | None = None) -> EventBus:
    namespace = namespace or new_namespace()
    transport = (
        RedisTransport(redis_url) if transport_name == "redis" and redis_url else MemoryTransport()
    )
    return EventBus(
        transport,
        config=BusConfig(consumer=fast_consumer_config()),
        names=StreamNames(namespace),
        codec=TEST_CODEC,
        reconnect_backoff_ms=(20, 50, 100, 200),
    )


def pings(count: int, start: int = 0, note: str = "") -> list[Ping]:
    return [Ping(ts_event=1_000 + i, seq=i, note=note) for i in range(start, start + count)]


class EffectLog:
    """Records each handled event's seq: the effects a test counts."""

    def __init__(self) -> None:
        self.effects: Counter[int] = Counter()
        self.deliveries: list[Delivery] = []

    async def handle(self, event: Event, delivery: Delivery) -> None:
        assert isinstance(event, Ping)
        self.effects[event.seq] += 1
        self.deliveries.append(delivery)

    def seqs(self) -> set[int]:
        return set(self.effects)

    def doubled(self) -> Sequence[int]:
        return [seq for seq, n in self.effects.items() if n > 1]
