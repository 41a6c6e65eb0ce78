"""Broadcast readers: every instance receives every entry (the kill switch), no group."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from quantrail.bus.consumer_base import ConsumerBase, ConsumerDeps
from quantrail.bus.delivery import Delivery, Handler
from quantrail.bus.transport import Entry, TransportError
from quantrail.runtime.breaker import CircuitBreaker


class BroadcastConsumer(ConsumerBase):
    """Every instance receives every entry (kill switch): XREAD from a position, no group."""

    def __init__(
        self,
        deps: ConsumerDeps,
        *,
        streams: Sequence[str],
        handler: Handler,
        name: str,
        breaker: CircuitBreaker | None = None,
        start: str | Mapping[str, str] = "$",
    ) -> None:
        """``start``: ``$`` (only new), an entry id for every stream, or one id per stream key
        (a cursor's positions over a sharded stream's keys; a key it does not name: ``0-0``)."""
        super().__init__(deps, streams=streams, handler=handler, name=name, breaker=breaker)
        self._start = start
        self.positions: dict[str, str] = {}

    async def run(self) -> None:
        self.running = True
        try:
            for key in self._keys:
                if key not in self.positions:
                    self.positions[key] = await self._start_of(key)
            while not self._stopping:
                try:
                    entries = await self._transport.read(
                        dict(self.positions), self._config.batch_size, self._config.block_ms
                    )
                except TransportError as exc:
                    await self._reconnect_wait(exc, 0)
                    continue
                for entry in entries:
                    self.stats.read += 1
                    delivery = Delivery(
                        stream=self._logical_name(entry.stream),
                        entry_id=entry.entry_id,
                        group=None,
                        consumer=self.name,
                        deliveries=1,
                        mark=None,
                        mark_ttl_s=0,
                    )
                    await self._handle(entry, 1, delivery, _always)
                    self.positions[entry.stream] = entry.entry_id
        finally:
            self._watchdog.close()
            self.running = False

    async def _start_of(self, key: str) -> str:
        if isinstance(self._start, Mapping):
            return self._start.get(key, "0-0")
        if self._start == "$":
            return await self._retrying(lambda: self._transport.last_id(key))
        return self._start


async def _always(_entry: Entry) -> bool:
    return True
