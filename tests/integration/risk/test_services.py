"""``build_risk_services``: the three services from the config tree, working together.

The end-to-end test runs on both transports (the ``bus`` fixture: memory and redis-server).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from kit.session import ny_ns
from quantrail.bus.bus import EventBus
from quantrail.config import AccountConfig, Config, config_from_mapping
from quantrail.events.exposure import ExposureSnapshot
from quantrail.events.risk import RiskModeChanged
from quantrail.events.session import SessionClockTicked
from quantrail.risk.engine import DecisionEngine
from quantrail.risk.exposure_service import ExposureService
from quantrail.risk.planner import DeriskPlanner
from quantrail.risk.rules import RiskRules, RiskRulesError
from quantrail.risk.services import build_risk_services
from quantrail.runtime.clock import SimulatedClock
from quantrail.session.service import SessionClockService
from quantrail.vocab import Mode, Phase

NOON = ny_ns("2026-11-20 12:00")
RULES = RiskRules()
PLANNER = DeriskPlanner.from_rules(RULES)


def config(tmp_path: Path, **risk: Any) -> Config:
    baseline = tmp_path / "acc1.csv"
    baseline.write_text("symbol,qty,bucket,prior_close\nPFA,20000,LT,25.00\nQBK,-4000,MM_PURE,20\n")
    section = {
        "accounts": [{"name": "ACC1", "equity": "1000000", "baseline": str(baseline)}],
        "groups": {"PFA": "PREFS", "QBK": "BANKS"},
        **risk,
    }
    return config_from_mapping({"risk": section, "session": {"tick_s": 1}})


async def test_built_services_run_the_day_from_config(
    bus: EventBus, rig: Callable[..., Any], tmp_path: Path
) -> None:
    clock = SimulatedClock(NOON)
    services = build_risk_services(config(tmp_path), clock)
    assert [type(s) for s in services] == [SessionClockService, ExposureService, DecisionEngine]
    running = await rig(services, bus=bus, clock=clock).start()
    await running.advance(2)
    ticks = await running.events(SessionClockTicked)
    assert [t.phase for t in ticks] == [Phase.MID] * 3
    (snapshot,) = await running.events(ExposureSnapshot)
    # 20000 x 25.00 + 4000 x 20.00 = 500,000 + 80,000 = 58 %
    assert (snapshot.gross_exposure_pct, snapshot.group_exposure["BANKS"].gross_pct) == (58.0, 8.0)
    (change,) = await running.events(RiskModeChanged)
    assert (change.mode, change.reason) == (Mode.NORMAL, "WITHIN_LIMITS")
    assert (await bus.get_state("mode:ACC1"))["mode"] == "NORMAL"
    assert await bus.get_state("positions:ACC1") == {"PFA": "20000", "QBK": "-4000"}


def test_a_bad_rules_file_stops_the_build_naming_it(tmp_path: Path) -> None:
    with pytest.raises(RiskRulesError, match=r"nope\.yaml"):
        build_risk_services(
            config(tmp_path, rules=str(tmp_path / "nope.yaml")), SimulatedClock(NOON)
        )


def test_a_clock_outside_the_calendar_is_refused() -> None:
    with pytest.raises(ValueError, match="outside the XNYS calendar range"):
        build_risk_services(Config(), SimulatedClock(ny_ns("2031-06-02 12:00")))


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda a: ExposureService(a, {}, RULES.buckets, 0), "interval_s: must be a finite"),
        (lambda a: ExposureService(a, {}, {}, 15), "bucket_limits: every bucket needs limits"),
        (
            lambda a: ExposureService(a, {}, RULES.buckets, timezone="Mars/Base"),
            "timezone: unknown",
        ),
        (lambda a: ExposureService(a + a, {}, RULES.buckets), "accounts: names must be unique"),
        (lambda a: DecisionEngine(RULES, PLANNER, a, float("inf")), "derisk_step_interval_s"),
        (lambda a: DecisionEngine(RULES, PLANNER, a, watchdog_s=-1), "watchdog_s: must be"),
    ],
)
def test_bad_service_arguments_are_refused_naming_them(
    build: Callable[[list[AccountConfig]], object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        build([AccountConfig(name="ACC1", equity=Decimal(1))])
