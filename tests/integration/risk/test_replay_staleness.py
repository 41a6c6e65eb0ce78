"""Staleness in a replay at 60x is judged in wall time, with the shipped limits.

The decision engine runs under a real ``ServiceRunner`` on a clock the real ``ReplayDriver``
moves at 60x wall speed. A feed publishes the account's exposure and the session clock half a
wall second late: 30 replayed seconds, six times the shipped 5 s ``session_stale_after_s``
counted in replayed time, but fresh in wall time, so the engine decides on the figures and
raises no STALE_DATA. Then the session feed stops: once more than 5 s of wall time (300
replayed seconds) have passed since its last tick, the engine throttles on STALE_DATA.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from kit.bus import make_bus
from kit.event_base import T0
from kit.market_events import session_clock
from kit.poll import eventually
from kit.position_events import exposure_snapshot
from quantrail.bus.bus import EventBus
from quantrail.config import AccountConfig, Config
from quantrail.events import AlertTriggered, RiskModeChanged
from quantrail.risk.engine import DecisionEngine
from quantrail.risk.planner import DeriskPlanner
from quantrail.risk.policy import STALE_DATA
from quantrail.risk.rules import load_risk_rules
from quantrail.runtime.clock import NS_PER_SECOND, SimulatedClock
from quantrail.runtime.replay_clock import ReplayDriver, ReplayWindow
from quantrail.runtime.runner import ServiceRunner
from quantrail.vocab import Mode, Phase

S = NS_PER_SECOND
SPEED = 60.0
LAG_NS = 30 * S  # half a wall second at 60x
ACCOUNT = "ACC1"


class LateFeed:
    """Exposure and session ticks stamped ``LAG_NS`` behind the replayed clock, ten a second
    of wall time; ``stop_session`` ends the session ticks (the exposure goes on)."""

    def __init__(self, bus: EventBus, clock: SimulatedClock) -> None:
        self.bus, self.clock = bus, clock
        self.session = True
        self.last_session_ns = 0

    async def run(self) -> None:
        while True:
            stamp = self.clock.now_ns() - LAG_NS
            events = [exposure_snapshot(ts_event=stamp)]
            if self.session:
                events.append(session_clock(Phase.MID, ts_event=stamp))
                self.last_session_ns = stamp
            await self.bus.publish_batch(events)
            await asyncio.sleep(0.1)  # the feed's own pace, not a wait for an effect


@pytest.fixture
async def replay_at_60x() -> AsyncIterator[tuple[EventBus, SimulatedClock, LateFeed]]:
    bus = make_bus("memory", None)
    clock = SimulatedClock(T0)
    rules = load_risk_rules()  # the shipped limits: 5 s session, 60 s exposure
    assert (rules.session_stale_after_s, rules.stale_after_s) == (5.0, 60.0)
    account = AccountConfig(name=ACCOUNT, equity=Decimal(1_000_000))
    engine = DecisionEngine(rules, DeriskPlanner.from_rules(rules), [account], 15.0)
    driver = ReplayDriver(bus, clock, ReplayWindow(T0, T0 + 3 * 3600 * S), SPEED)
    runner = ServiceRunner(bus, [engine], Config(), clock=clock, instance="t", heartbeats=False)
    running = asyncio.create_task(runner.run(install_signals=False))
    await runner.started.wait()
    feed = LateFeed(bus, clock)
    tasks = [asyncio.create_task(driver.run()), asyncio.create_task(feed.run())]
    try:
        yield bus, clock, feed
    finally:
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        runner.request_stop()
        assert await running == 0
        await bus.close()


async def test_a_feed_late_by_half_a_wall_second_is_fresh_and_one_that_stops_is_stale(
    replay_at_60x: tuple[EventBus, SimulatedClock, LateFeed],
) -> None:
    bus, clock, feed = replay_at_60x
    # Three wall seconds of replay (180 replayed seconds) on a feed 30 replayed seconds late.
    await eventually(clock.now_ns, lambda now: now >= T0 + 180 * S, what="3 s of replay")
    modes = await eventually(lambda: _modes(bus), bool, what="the engine's first decision")
    assert [(m.mode, m.reason) for m in modes] == [(Mode.NORMAL, "WITHIN_LIMITS")]
    assert float(modes[0].inputs["session_age_s"]) <= 5.0  # wall seconds, as compared
    assert await _stale_alerts(bus) == []

    feed.session = False
    stale = await eventually(
        lambda: _modes(bus), lambda found: found[-1].reason == STALE_DATA, within=20,
        what="a STALE_DATA throttle after the session feed stopped",
    )  # fmt: skip
    assert stale[-1].mode is Mode.THROTTLE_NEW_ORDERS
    # Caught only once the limit had passed in wall time: 5 s at 60x is 300 replayed seconds.
    assert stale[-1].ts_event - feed.last_session_ns > 300 * S
    alerts = await _stale_alerts(bus)
    assert len(alerts) == 1 and alerts[0].ts_event == stale[-1].ts_event


async def _modes(bus: EventBus) -> list[RiskModeChanged]:
    return [e for e in await bus.read_events("risk.mode") if isinstance(e, RiskModeChanged)]


async def _stale_alerts(bus: EventBus) -> list[AlertTriggered]:
    alerts = await bus.read_events("system.alert")
    return [a for a in alerts if isinstance(a, AlertTriggered) and STALE_DATA in a.message]
