"""A simulated run: services on a bus with a simulated clock, moved step by step.

After every publish or clock step the simulation waits until it has *settled*: every group
consumer of its services has read and acked everything, every broadcast reader has caught up,
and the streams stopped growing. Only then does time move on, so the same inputs and seed give
the same events, whatever the machine's speed.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import TypeVar

from quantrail.bus.broadcast import BroadcastConsumer
from quantrail.bus.bus import EventBus
from quantrail.bus.memory import MemoryTransport
from quantrail.config import Config
from quantrail.events.base import Event, stream_of_kind
from quantrail.events.streams import DEADLETTER
from quantrail.runtime.clock import NS_PER_SECOND, SimulatedClock
from quantrail.runtime.runner import ServiceRunner
from quantrail.runtime.service import Service

E = TypeVar("E", bound=Event)


class SettleTimeout(RuntimeError):
    """The services kept working (or a consumer stalled) past the settle deadline."""


class Simulation:
    def __init__(
        self,
        bus: EventBus,
        clock: SimulatedClock,
        services: Sequence[Service],
        config: Config | None = None,
        *,
        instance: str = "sim",
        heartbeats: bool = False,
        settle_timeout_s: float = 30.0,
    ) -> None:
        self.bus, self.clock, self.services = bus, clock, list(services)
        self.runner = ServiceRunner(
            bus, self.services, config or Config(), clock=clock, instance=instance,
            heartbeats=heartbeats,
        )  # fmt: skip
        self._settle_timeout_s = settle_timeout_s
        self._task: asyncio.Task[int] | None = None
        self._watched: tuple[object, list[str]] | None = None  # (what it was built from, keys)

    async def start(self) -> Simulation:
        """Start every service; a service whose start fails raises its error here at once
        (the runner stops the ones started before it)."""
        task = self._task = asyncio.create_task(self.runner.run(install_signals=False))
        started = asyncio.ensure_future(self.runner.started.wait())
        await asyncio.wait({started, task}, return_when=asyncio.FIRST_COMPLETED)
        if not started.done():
            started.cancel()
            self._task = None
            task.result()  # the failed start's error
            raise RuntimeError("the services stopped before they had all started")
        await self.settle()
        return self

    async def stop(self) -> int:
        if self._task is None:
            return 0
        self.runner.request_stop()
        code = await self._task
        self._task = None
        return code

    async def publish(self, *events: Event) -> None:
        await self.bus.publish_batch(list(events))
        await self.settle()

    async def advance(self, seconds: float, step: float = 1.0) -> None:
        """Move simulated time in ``step``s, settling after each."""
        await self.advance_to(self.clock.now_ns() + int(seconds * NS_PER_SECOND), step)

    async def advance_to(self, target_ns: int, step: float = 1.0) -> None:
        while self.clock.now_ns() < target_ns:
            next_ns = min(target_ns, self.clock.now_ns() + int(step * NS_PER_SECOND))
            await self.clock.advance_to(next_ns)
            await self.settle()

    async def settle(self) -> None:
        """Wait until nothing is unread or pending, twice in a row (lets flush tasks run)."""
        deadline = time.monotonic() + self._settle_timeout_s
        previous: dict[str, str | None] | None = None
        while True:
            now = await self._drained()
            if now is not None and now == previous:
                return
            previous = now
            if time.monotonic() > deadline:
                raise SettleTimeout(f"services did not settle in {self._settle_timeout_s}s")
            await asyncio.sleep(0.001)  # yield to the services; this is the loop's pacing

    async def _drained(self) -> dict[str, str | None] | None:
        """Last ids of every stream, or None while one of the consumers is behind."""
        transport = self.bus.transport
        groups = self._groups()
        readers = [c for c in self.runner.consumers if isinstance(c, BroadcastConsumer)]
        keys = self._sorted_watched_keys(groups, readers)
        if isinstance(transport, MemoryTransport):
            # The same answers as ``info`` gives, without building it for every group of every
            # stream: this runs after every step of a simulation.
            last = {key: transport.last_entry_id(key) for key in keys}
            if not all(transport.caught_up(key, group) for key, group in groups):
                return None
            return last if _readers_caught_up(readers, last) else None
        last = {}
        for key in keys:
            last[key] = (await transport.info(key)).last_id
        for key, group in groups:
            info = await transport.info(key)
            found = [g for g in info.groups if g.name == group]
            if not found or found[0].pending or found[0].lag:
                return None
            if info.last_id is not None and found[0].last_delivered_id != info.last_id:
                return None
        return last if _readers_caught_up(readers, last) else None

    def _sorted_watched_keys(
        self, groups: list[tuple[str, str]], readers: list[BroadcastConsumer]
    ) -> list[str]:
        """``_watched_keys`` sorted, built again only when what it is made of changed: the
        bus's written keys (they only grow), the groups, the readers and their streams."""
        sources = (
            len(self.bus.written_keys),
            tuple(groups),
            tuple((id(reader), len(reader.positions)) for reader in readers),
        )
        if self._watched is None or self._watched[0] != sources:
            self._watched = (sources, sorted(self._watched_keys()))
        return self._watched[1]

    def _watched_keys(self) -> set[str]:
        """The streams that settling watches: what this bus wrote, what the services read, and
        the dead letters. Not a SCAN of the namespace: on a long-lived Redis a SCAN walks every
        key (idempotency marks included) and made each settle cost grow with the server's age."""
        keys = set(self.bus.written_keys) | {key for key, _ in self._groups()}
        keys.add(self.bus.names.key(DEADLETTER))
        for consumer in self.runner.consumers:
            if isinstance(consumer, BroadcastConsumer):
                keys.update(consumer.positions)
        return keys

    def _groups(self) -> list[tuple[str, str]]:
        return [
            (self.bus.names.key(stream), sub.group or service.name)
            for service in self.services
            for sub in service.subscriptions()
            if not sub.broadcast
            for logical in sub.streams
            for stream in self.bus.shard_streams(logical)  # every shard (bus.shards)
        ]

    async def events(self, kind: type[E]) -> list[E]:
        """Every event of ``kind`` on its stream, oldest first."""
        tag = kind.__struct_config__.tag
        assert isinstance(tag, str)
        return [e for e in await self.stream_events(stream_of_kind(tag)) if isinstance(e, kind)]

    async def stream_events(self, stream: str) -> list[Event]:
        """Every event on a (logical) stream, oldest first."""
        return await self.bus.read_events(stream)


def _readers_caught_up(readers: list[BroadcastConsumer], last: dict[str, str | None]) -> bool:
    """Every broadcast reader is at the newest entry of each stream it reads."""
    for reader in readers:
        for key, position in reader.positions.items():
            if last.get(key) not in (None, position):
                return False
    return True
