"""A rig for the risk services: a runner on one bus with a simulated clock, and ways to drive it.

``rig_factory`` builds services for the accounts and baseline files a test writes; the rig runs
them in a ``ServiceRunner``, publishes events, moves simulated time one tick at a time and waits
(by polling, never sleeping) until every consumer has handled every entry. No mocks: the real
services, the real bus, the real calendar.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import TypeVar

import pytest

from kit.bus import make_bus
from kit.poll import eventually
from kit.session import xnys
from quantrail.bus.bus import EventBus
from quantrail.bus.consumer import BroadcastConsumer
from quantrail.config import AccountConfig, Config
from quantrail.events.base import Event
from quantrail.risk.engine import DecisionEngine
from quantrail.risk.exposure_service import ExposureService
from quantrail.risk.planner import DeriskPlanner
from quantrail.risk.rules import RiskRules
from quantrail.runtime.clock import NS_PER_SECOND, SimulatedClock
from quantrail.runtime.runner import ServiceRunner
from quantrail.runtime.service import Service
from quantrail.session import ExchangeCalendar, PhaseBoundaries
from quantrail.session.service import SessionClockService

E = TypeVar("E", bound=Event)
RULES = RiskRules()
EQUITY = Decimal(1_000_000)
ACCOUNT = "ACC1"


class Rig:
    """Services in a runner; publish, move time, wait until settled, read streams back."""

    def __init__(self, bus: EventBus, clock: SimulatedClock, services: Sequence[Service]) -> None:
        self.bus, self.clock, self.services = bus, clock, list(services)
        self.runner = ServiceRunner(
            bus, self.services, Config(), clock=clock, instance="t", heartbeats=False
        )
        self._task: asyncio.Task[int] | None = None

    async def start(self) -> Rig:
        self._task = asyncio.create_task(self.runner.run(install_signals=False))
        await self.runner.started.wait()
        await eventually(lambda: all(c.running for c in self.runner.consumers), what="consumers")
        await self.settle()
        return self

    async def stop(self) -> None:
        if self._task is not None:
            self.runner.request_stop()
            assert await self._task == 0
            self._task = None

    async def publish(self, *events: Event) -> None:
        await self.bus.publish_batch(list(events))
        await self.settle()

    async def advance(self, seconds: float, step: float = 1.0) -> None:
        """Move simulated time in ``step``s, letting every consumer catch up after each."""
        target = self.clock.now_ns() + int(seconds * NS_PER_SECOND)
        while self.clock.now_ns() < target:
            next_ns = min(target, self.clock.now_ns() + int(step * NS_PER_SECOND))
            await self.clock.advance_to(next_ns)
            await self.settle()

    async def settle(self) -> None:
        """Wait until no stream has unread or pending entries, twice in a row (flush tasks)."""
        previous: dict[str, str | None] | None = None

        async def probe() -> bool:
            nonlocal previous
            now = await self._drained()
            stable = now is not None and now == previous
            previous = now
            return stable

        await eventually(probe, what="services settled")

    async def _drained(self) -> dict[str, str | None] | None:
        """Last ids of every stream, or None while one of this rig's consumers lags behind."""
        transport, names = self.bus.transport, self.bus.names
        last: dict[str, str | None] = {}
        for key in await transport.streams(names.key("")):
            last[key] = (await transport.info(key)).last_id
        for key, group in self._groups():
            info = await transport.info(key)
            found = [g for g in info.groups if g.name == group]
            if not found or found[0].pending or found[0].lag:
                return None  # not created yet, or behind
            if info.last_id is not None and found[0].last_delivered_id != info.last_id:
                return None  # Redis may not know the lag; the last delivered id tells
        for consumer in self.runner.consumers:
            if isinstance(consumer, BroadcastConsumer):
                for key, position in consumer.positions.items():
                    if last.get(key) not in (None, position):
                        return None
        return last

    def _groups(self) -> list[tuple[str, str]]:
        """(stream key, group) of this rig's group subscriptions (a stopped rig's do not count)."""
        return [
            (self.bus.names.key(stream), sub.group or service.name)
            for service in self.services
            for sub in service.subscriptions()
            if not sub.broadcast
            for stream in sub.streams
        ]

    async def events(self, kind: type[E]) -> list[E]:
        """Every event of ``kind`` on its stream, oldest first."""
        stream = kind.__struct_config__.tag
        assert isinstance(stream, str)
        entries = await self.bus.iter_range(stream.rsplit(".", 1)[0])
        decoded = [self.bus.codec.from_fields(entry.fields) for entry in entries]
        return [event for event in decoded if isinstance(event, kind)]


def write_baseline(path: Path, rows: Sequence[tuple[str, int, str, str]]) -> Path:
    """A baseline CSV: (symbol, qty, bucket, prior_close) rows."""
    lines = ["symbol,qty,bucket,prior_close", *(",".join(map(str, row)) for row in rows)]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def account_with(tmp_path: Path) -> Callable[..., AccountConfig]:
    """``account_with(rows)``: ACC1 with 1,000,000 equity and that baseline file."""

    def build(
        rows: Sequence[tuple[str, int, str, str]], name: str = ACCOUNT, equity: Decimal = EQUITY
    ) -> AccountConfig:
        path = write_baseline(tmp_path / f"{name}.csv", rows)
        return AccountConfig(name=name, equity=equity, baseline=str(path))

    return build


def risk_services(
    calendar: ExchangeCalendar,
    accounts: Sequence[AccountConfig],
    groups: dict[str, str] | None = None,
    *,
    session: bool = True,
    exposure: bool = True,
    engine_name: str | None = None,
) -> list[Service]:
    """The three services as ``build_risk_services`` wires them, with the default rules."""
    services: list[Service] = []
    if session:
        services.append(SessionClockService(calendar, PhaseBoundaries(), 1.0))
    if exposure:
        services.append(ExposureService(accounts, groups or {}, RULES.buckets, 15.0))
    planner = DeriskPlanner.from_rules(RULES)
    services.append(DecisionEngine(RULES, planner, accounts, 15.0, name=engine_name))
    return services


@pytest.fixture
def calendar() -> ExchangeCalendar:
    return xnys()


@pytest.fixture
def services_for() -> Callable[..., list[Service]]:
    """``services_for(calendar, accounts, groups, session=, exposure=, engine_name=)``."""
    return risk_services


@pytest.fixture
async def rig() -> AsyncIterator[Callable[..., Rig]]:
    """``rig(services, start_ns=..., bus=None, clock=None)``: a rig stopped after the test.

    Rigs made with the same ``bus`` and ``clock`` are one deployment restarted.
    """
    made: list[Rig] = []

    def build(
        services: Sequence[Service],
        start_ns: int = 0,
        bus: EventBus | None = None,
        clock: SimulatedClock | None = None,
    ) -> Rig:
        made.append(
            Rig(bus or make_bus("memory", None), clock or SimulatedClock(start_ns), services)
        )
        return made[-1]

    yield build
    for each in made:
        await each.stop()
