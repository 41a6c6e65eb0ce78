"""Services: declare subscriptions, timers and handlers; the runner does the I/O around them."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from quantrail.bus.bus import EventBus
from quantrail.bus.delivery import Handler
from quantrail.config import Config
from quantrail.events.base import Event
from quantrail.runtime.clock import Clock
from quantrail.runtime.market_fold import MarketFold


@dataclass(frozen=True, slots=True)
class Subscription:
    """What a service reads and which handler gets it.

    ``group`` defaults to the service name: instances of one service compete for entries.
    ``broadcast`` subscriptions reach every instance (the kill switch); ``start`` is where a
    new group or a broadcast reader begins (``0`` = everything kept, ``$`` = only new); a
    broadcast reader also takes a ``ShardedCursor``'s positions, one id per shard of its stream,
    to go on where a start-up replay stopped.
    """

    streams: Sequence[str]
    handler: Handler
    name: str = "main"
    group: str | None = None
    broadcast: bool = False
    start: str | Mapping[str, str] | None = None
    idempotent: bool = True
    fold: MarketFold[Any] | None = None
    """``market.quote`` readers: the batch form of ``handler`` (``MarketFold``); the live
    runner hands quotes one by one and ignores it."""


@dataclass(frozen=True, slots=True)
class Timer:
    """A periodic task on the service's clock (heartbeat-like publishers, snapshots)."""

    interval_s: float
    callback: Callable[[], Awaitable[object]]
    name: str = "timer"
    due_ns: Callable[[], int | None] | None = None
    """Optional: the first time the callback has work as things stand (None: none until the
    service's input changes its state). The live runner ignores it and wakes every interval;
    the backtest's runner skips the wake-ups before it (``backtest/feed.py``)."""


@dataclass(slots=True)
class ServiceContext:
    bus: EventBus
    clock: Clock
    config: Config
    service: str
    instance: str
    log: logging.Logger = field(default_factory=lambda: logging.getLogger("quantrail.service"))

    async def publish(self, event: Event) -> str:
        return await self.bus.publish(event)

    async def publish_batch(self, events: Sequence[Event]) -> list[str]:
        return await self.bus.publish_batch(events)

    def now_ns(self) -> int:
        return self.clock.now_ns()

    def wall_seconds(self, span_ns: int) -> float:
        """A span of the clock's time as staleness limits count it (runtime/clock.py)."""
        return self.clock.wall_seconds(span_ns)


class Service:
    """Base class: override ``subscriptions``, ``timers``, ``on_start`` and ``on_stop``."""

    name: str = "service"

    def __init__(self) -> None:
        self._ctx: ServiceContext | None = None

    @property
    def ctx(self) -> ServiceContext:
        if self._ctx is None:
            raise RuntimeError(f"service {self.name} is not started")
        return self._ctx

    def bind(self, ctx: ServiceContext) -> None:
        self._ctx = ctx

    def subscriptions(self) -> Sequence[Subscription]:
        return ()

    def timers(self) -> Sequence[Timer]:
        return ()

    async def on_start(self) -> None:
        """Called once before any handler or timer runs (load state, publish a first event)."""

    async def on_stop(self) -> None:
        """Called once after every consumer has stopped and acked its batch."""

    def health(self) -> dict[str, object]:
        """Extra figures for the heartbeat."""
        return {}
