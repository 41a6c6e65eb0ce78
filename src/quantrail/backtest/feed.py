"""The backtest's fast path for replayed market data: frozen events handed to the readers.

Live, every service that follows ``market.quote`` / ``market.trade`` does it with a broadcast
reader: it reads the stream, decodes each entry and calls the service's handler. In a backtest
that is most of the work per quote (one decode per reader, and a settle of the whole bus after
every step), so the backtest's runner gives those subscriptions a ``DirectReader`` instead: the
run publishes each step's market events on the bus as before (the streams hold them, and the
risk kernel's followers read them there), then hands the same frozen event objects to every
direct reader in service order, without decoding. The services, their handlers and their
timers are the live ones; only how a market event reaches a handler differs (design decision
9 allows it).

A handler that raises on a market event stops the run (live, the reader would retry and
dead-letter it): a backtest should not quietly skip a quote.

``CountingBus`` counts what is appended, so a step that set nothing off (no handler or timer
published anything) needs no settle of the bus.

A direct reader also carries its subscription's ``MarketFold``: the runner folds quiet runs of
quotes into every quote reader at once (``backtest/quote_runs.py``), and a relayed tick into
each reader that calls it quiet (the others handle it).
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from quantrail.backtest.timers import TimerPlan
from quantrail.bus.broadcast import BroadcastConsumer
from quantrail.bus.bus import EventBus
from quantrail.bus.consumer import GroupConsumer
from quantrail.bus.delivery import Delivery
from quantrail.config import Config
from quantrail.events.base import Event, stream_of_kind
from quantrail.runtime.clock import SimulatedClock
from quantrail.runtime.market_fold import TimedRun, TimerGrid
from quantrail.runtime.runner import ServiceRunner, _Hosted
from quantrail.runtime.service import Service, Subscription, Timer

QUOTES = "market.quote"
TICKS = "market.tick"
MARKET_STREAMS = frozenset({QUOTES, "market.trade"})
"""What the backtest publishes itself; readers of these alone are fed directly."""
RELAYED_STREAMS = frozenset({TICKS})
"""What a service publishes in the run and the runner hands to its direct readers."""
DIRECT_STREAMS = MARKET_STREAMS | RELAYED_STREAMS


class CountingBus(EventBus):
    """An ``EventBus`` that counts the entries appended through it, and keeps the relayed
    streams' events (with their ids) for the runner to hand to their direct readers."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.appended = 0
        self.relayed = 0  # of ``appended``: events of the relayed streams
        self.held: list[tuple[Event, str]] = []
        self._relayed_kinds: dict[str, bool] = {}

    async def publish_batch(self, events: Sequence[Event]) -> list[str]:
        self.appended += len(events)
        ids = await super().publish_batch(events)
        relayed = self._relayed_kinds
        for event, entry_id in zip(events, ids, strict=True):
            kind = event.kind
            if (is_relayed := relayed.get(kind)) is None:
                is_relayed = relayed[kind] = stream_of_kind(kind) in RELAYED_STREAMS
            if is_relayed:
                self.relayed += 1
                self.held.append((event, entry_id))
        return ids

    async def publish_run(self, events: Sequence[Event], *, checked: bool = False) -> None:
        """Market data the run publishes itself (never relayed), counted as a whole."""
        self.appended += len(events)
        await super().publish_run(events, checked=checked)

    async def publish_folded(self, events: Sequence[Event]) -> None:
        """Publish relayed-stream events the run has already handed to their readers
        (folded): counted as relayed, not held."""
        self.relayed += len(events)
        await self.publish_run(events)

    @property
    def unrelayed(self) -> int:
        """What was appended apart from the relayed streams (their readers are fed by hand)."""
        return self.appended - self.relayed

    async def publish_raw(self, stream: str, fields: Mapping[bytes, bytes]) -> str:
        self.appended += 1
        return await super().publish_raw(stream, fields)


class DirectReader(BroadcastConsumer):
    """A broadcast reader the run feeds by hand: it reads nothing from the transport, so it
    has no positions for the simulation's settle to wait on."""

    def __init__(
        self, bus: EventBus, subscription: Subscription, name: str, fed: list[TimerPlan]
    ) -> None:
        deps = bus._deps(None)  # the bus's own consumer dependencies, as its readers get
        super().__init__(deps, streams=subscription.streams, handler=subscription.handler,
                         name=name)  # fmt: skip
        self.logical = frozenset(subscription.streams)
        self.folds = subscription.fold
        self._plans = fed  # the service's timer plans, told after each event
        self._stopped = asyncio.Event()

    async def run(self) -> None:
        self.running = True
        try:
            await self._stopped.wait()
        finally:
            self.running = False

    def stop(self) -> None:
        super().stop()
        self._stopped.set()

    async def deliver(self, event: Event, delivery: Delivery) -> None:
        self.stats.read += 1
        await self._handler(event, delivery)
        self.stats.handled += 1
        for plan in self._plans:
            plan.poke()

    def fold(self, events: Sequence[Event]) -> None:
        """A quiet run of events at once (``MarketFold``), counted as handled one by one."""
        folds = self.folds
        assert folds is not None
        folds.fold(events)
        self._folded(len(events), folds.pokes)

    def fold_at(self, events: Sequence[Event], at_ns: Sequence[int]) -> None:
        """Relayed events at once, each handled at its ``at_ns`` (``Released``, else the
        plain fold)."""
        folds = self.folds
        assert folds is not None
        if folds.released is None:
            self.fold(events)
            return
        folds.released.fold(events, at_ns)
        self._folded(len(events), folds.pokes)

    def quiet_at(self, events: Sequence[Event], at_ns: Sequence[int]) -> int:
        """How many relayed events, from the first, it takes quietly at their times."""
        folds = self.folds
        if folds is None:
            return 0
        if folds.released is None:
            return folds.quiet(events)
        return folds.released.quiet(events, at_ns)

    def take(self, events: Sequence[Event], at_ns: Sequence[int]) -> int:
        """``Released.take``: the events handled while quiet; how many."""
        assert self.folds is not None and self.folds.released is not None
        take = self.folds.released.take
        assert take is not None
        taken = take(events, at_ns)
        self._folded(taken, pokes=True)
        return taken

    @property
    def takes(self) -> bool:
        """Whether it handles relayed events in runs itself (``Released.take``)."""
        folds = self.folds
        return folds is not None and folds.released is not None and folds.released.take is not None

    def _folded(self, handled: int, pokes: bool) -> None:
        """Events taken in a batch: counted as handled one by one, and (``pokes``) the
        service's timer plans told its state may have moved."""
        self.count(handled)
        if pokes:
            for plan in self._plans:
                plan.poke()

    def count(self, handled: int) -> None:
        self.stats.read += handled
        self.stats.handled += handled

    @property
    def plans(self) -> list[TimerPlan]:
        return self._plans

    def horizon(self, grid: TimerGrid) -> int | None:
        """The time no walk on ``grid`` reaches (``MarketFold.horizon``; None: none known)."""
        folds = self.folds
        return None if folds is None or folds.horizon is None else folds.horizon(grid)

    def timed(self, events: Sequence[Event], grid: TimerGrid) -> TimedRun:
        """The run walked with the service's one timer on ``grid`` (``MarketFold.timed``)."""
        assert self.folds is not None and self.folds.timed is not None
        return self.folds.timed(events, grid)


def _poking(
    callback: Callable[..., Awaitable[object]], plans: list[TimerPlan]
) -> Callable[..., Awaitable[None]]:
    """``callback``, then every plan of its service told that the state may have changed."""

    async def poked(*args: Any) -> None:
        try:
            await callback(*args)
        finally:
            for plan in plans:
                plan.poke()

    return poked


def poking(subscription: Subscription, plans: list[TimerPlan]) -> Subscription:
    """The subscription with a handler that pokes the service's plans after each event."""
    return dataclasses.replace(subscription, handler=_poking(subscription.handler, plans))


class BacktestRunner(ServiceRunner):
    """The live runner, except that market-data readers are ``DirectReader``s (module doc)."""

    def __init__(
        self, bus: EventBus, services: Sequence[Service], config: Config, *,
        clock: SimulatedClock, instance: str,
    ) -> None:  # fmt: skip
        super().__init__(bus, services, config, clock=clock, instance=instance, heartbeats=False)
        self.direct: dict[str, list[DirectReader]] = {stream: [] for stream in DIRECT_STREAMS}
        self.counting = bus if isinstance(bus, CountingBus) else None
        self._plans: dict[str, list[TimerPlan]] = {}
        self.quotes_on_bus = False  # a reader of market.quote that reads the transport
        self.folding = True  # quiet runs and relayed events folded (``MarketFold``)

    def _consumer_for(
        self, service: Service, subscription: Subscription
    ) -> GroupConsumer | BroadcastConsumer:
        streams = set(subscription.streams)
        direct = subscription.broadcast and bool(streams) and streams <= DIRECT_STREAMS
        plans = self._plans.setdefault(service.name, [])
        if not direct:
            self.quotes_on_bus |= QUOTES in streams
            return super()._consumer_for(service, poking(subscription, plans))
        reader = DirectReader(self.bus, subscription, f"{service.name}-{self.instance}", plans)
        for stream in streams:
            self.direct[stream].append(reader)
        return reader

    async def _run_timer(self, hosted: _Hosted, timer: Timer) -> None:
        """A timer with ``due_ns`` skips its idle wake-ups (``backtest/timers.py``); any
        other runs as live. Either way the service's plans are told when its timer ran."""
        service = hosted.service
        plans = self._plans.setdefault(service.name, [])
        timer = dataclasses.replace(timer, callback=self._relaying(_poking(timer.callback, plans)))
        if timer.due_ns is None or not isinstance(self.clock, SimulatedClock):
            await super()._run_timer(hosted, timer)
            return
        plan = TimerPlan.start(timer, self.clock, service.name)
        plans.append(plan)
        try:
            await self._stop.wait()
        finally:
            plan.stop()

    def _relaying(self, callback: Callable[[], Awaitable[None]]) -> Callable[[], Awaitable[None]]:
        """A timer's callback, then its relayed events handed on (a candle tick released by
        the timer reaches its readers before the next timer at that instant, as live)."""

        async def relayed() -> None:
            try:
                await callback()
            finally:
                await self.relay()

        return relayed

    def can_fold(self) -> bool:
        """Whether runs of quotes can be folded: folding is on, and every reader of
        ``market.quote`` is direct and offers a ``MarketFold``."""
        readers = self.direct[QUOTES]
        folds = all(reader.folds is not None for reader in readers)
        return self.folding and not self.quotes_on_bus and folds

    def timed_reader(self, stream: str) -> tuple[DirectReader, TimerPlan] | None:
        """The first reader of ``stream`` that walks runs with its service's one timer
        (``MarketFold.timed``), and that timer's plan."""
        for reader in self.direct[stream]:
            folds = reader.folds
            if folds is not None and folds.timed is not None and len(reader.plans) == 1:
                return reader, reader.plans[0]
        return None

    def idle(self, stream: str, skip: DirectReader | None = None) -> bool:
        """Whether every reader of ``stream`` (but ``skip``) is idle (``MarketFold.idle``)."""
        for reader in self.direct[stream]:
            folds = reader.folds
            if reader is not skip and (folds is None or folds.idle is None or not folds.idle()):
                return False
        return True

    def quiet(
        self,
        stream: str,
        events: Sequence[Event],
        skip: DirectReader | None = None,
        *,
        checked: bool = False,
    ) -> int:
        """How many of ``events`` (of ``stream``), from the first, every reader (but
        ``skip``) calls quiet; ``checked``: the events are known to pass each reader's own
        check (``MarketFold.quiet_checked``, where a reader has one)."""
        count = len(events)
        for reader in self.direct[stream]:
            if reader is skip:
                continue
            folds = reader.folds
            if folds is None:
                return 0
            quiet = folds.quiet_checked if checked and folds.quiet_checked else folds.quiet
            count = quiet(events[:count] if count < len(events) else events)
            if count == 0:
                break
        return count

    def taker(self, stream: str) -> DirectReader | None:
        """The reader of ``stream`` that takes relayed runs itself (the first that can)."""
        return next((reader for reader in self.direct[stream] if reader.takes), None)

    def quiet_released(self, stream: str, released: Sequence[tuple[int, Event]]) -> int:
        """How many of ``released`` ((time, event) in order), from the first, every reader
        takes quietly at its time; the ``taker`` has handled them already (and kept its
        answer for the one after, ``Released.take``)."""
        events, times = _unzipped(released)
        count, taker = len(events), self.taker(stream)
        for reader in self.direct[stream]:
            if reader is taker:
                continue
            count = reader.quiet_at(events[:count], times[:count])
            if count == 0:
                return 0
        return count if taker is None else taker.take(events[:count], times[:count])

    def fold_released(self, stream: str, released: Sequence[tuple[int, Event]]) -> None:
        """Hand quiet relayed events (already published) to every reader at once, each at its
        time (the ``taker`` has them already)."""
        if not released:
            return
        events, times = _unzipped(released)
        taker = self.taker(stream)
        for reader in self.direct[stream]:
            if reader is taker:
                continue
            reader.fold_at(events, times)

    def fold(self, stream: str, events: Sequence[Event], skip: DirectReader | None = None) -> None:
        """Hand a quiet run of events (already published) to every reader at once (``skip``
        took them already and is only counted)."""
        for reader in self.direct[stream]:
            if reader is skip:
                reader.count(len(events))
            else:
                reader.fold(events)

    async def feed(self, events: Sequence[Event], ids: Sequence[str]) -> None:
        """Hand each event (published under ``ids``) to every direct reader of its stream,
        then what the relayed streams received meanwhile (the ticks its readers set off).
        The readers of one event share its ``Delivery`` (named for the run, not a reader):
        none of them is a consumer of the transport."""
        for event, entry_id in zip(events, ids, strict=True):
            await self._hand(event, entry_id)
        await self.relay()

    async def relay(self) -> None:
        """Hand the relayed streams' new events to their readers, until none is left (as
        their bus readers would have read them, in publishing order)."""
        counting = self.counting
        if counting is None:
            return
        while counting.held:
            held, counting.held = counting.held, []
            for event, entry_id in held:
                await self._hand(event, entry_id)

    async def _hand(self, event: Event, entry_id: str) -> None:
        stream = stream_of_kind(event.kind)
        readers = self.direct.get(stream)
        if not readers:
            return
        single, delivery = (event,), None
        relayed = self.folding and stream in RELAYED_STREAMS
        now = (self.clock.now_ns(),)
        for reader in readers:
            # A relayed event a reader takes quietly is folded into it; the others handle it.
            if relayed and reader.folds is not None and reader.quiet_at(single, now):
                reader.fold_at(single, now)
                continue
            if delivery is None:
                delivery = Delivery(
                    stream=stream, entry_id=entry_id, group=None, consumer=self.instance,
                    deliveries=1, mark=None, mark_ttl_s=0,
                )  # fmt: skip
            await reader.deliver(event, delivery)


def _unzipped(released: Sequence[tuple[int, Event]]) -> tuple[list[Event], list[int]]:
    """(time, event) pairs as the events and their times."""
    return [event for _at, event in released], [at for at, _event in released]
