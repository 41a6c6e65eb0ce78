"""A rig for the risk services: a runner on one bus with a simulated clock, and ways to drive it.

``rig_factory`` builds services for the accounts and baseline files a test writes; the rig runs
them in a ``ServiceRunner``, publishes events, moves simulated time one tick at a time and waits
(by polling, never sleeping) until every consumer has handled every entry. No mocks: the real
services, the real bus, the real calendar.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import TypeVar

import pytest

from kit.bus import make_bus
from kit.session import xnys
from quantrail.bus.bus import EventBus
from quantrail.config import AccountConfig, Config
from quantrail.events.base import Event
from quantrail.risk.engine import DecisionEngine
from quantrail.risk.exposure_service import ExposureService
from quantrail.risk.planner import DeriskPlanner
from quantrail.risk.rules import RiskRules
from quantrail.runtime.clock import SimulatedClock
from quantrail.runtime.service import Service
from quantrail.runtime.simulation import Simulation
from quantrail.session import ExchangeCalendar, PhaseBoundaries
from quantrail.session.service import SessionClockService

E = TypeVar("E", bound=Event)
RULES = RiskRules()
EQUITY = Decimal(1_000_000)
ACCOUNT = "ACC1"


class Rig(Simulation):
    """The product's simulation with this suite's instance name; stopping must exit 0."""

    def __init__(self, bus: EventBus, clock: SimulatedClock, services: Sequence[Service]) -> None:
        super().__init__(bus, clock, services, Config(), instance="t")

    async def start(self) -> Rig:
        await super().start()
        return self

    async def stop(self) -> int:
        code = await super().stop()
        assert code == 0
        return code


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
