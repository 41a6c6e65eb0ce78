"""The runner on the in-process bus: subscriptions, timers, heartbeats, graceful stop."""

from __future__ import annotations

import asyncio

from kit.bus import PING_STREAM, Ping, make_bus, pings
from kit.poll import eventually
from quantrail.bus.delivery import Delivery
from quantrail.config import Config, config_from_mapping
from quantrail.events.base import Event
from quantrail.events.system import HealthHeartbeat
from quantrail.runtime.clock import SimulatedClock
from quantrail.runtime.runner import ServiceRunner
from quantrail.runtime.service import Service, Subscription, Timer
from quantrail.runtime.simulation import Simulation


class Recorder(Service):
    name = "recorder"

    def __init__(self, fail_on: int | None = None) -> None:
        super().__init__()
        self.seen: list[int] = []
        self.ticks = 0
        self.started = self.stopped = False
        self.fail_on = fail_on

    def subscriptions(self) -> list[Subscription]:
        return [Subscription(streams=[PING_STREAM], handler=self.on_ping)]

    def timers(self) -> list[Timer]:
        return [Timer(0.01, self.tick, "tick")]

    async def on_start(self) -> None:
        self.started = True

    async def on_stop(self) -> None:
        self.stopped = True

    async def tick(self) -> None:
        self.ticks += 1

    async def on_ping(self, event: Event, _delivery: Delivery) -> None:
        assert isinstance(event, Ping)
        if event.seq == self.fail_on:
            raise RuntimeError("boom")
        self.seen.append(event.seq)

    def health(self) -> dict[str, object]:
        return {"seen": len(self.seen)}


def config(**runtime: object) -> Config:
    return config_from_mapping({"runtime": runtime})


async def heartbeats(bus: object) -> list[HealthHeartbeat]:
    entries = await bus.read_range("system.health")  # type: ignore[attr-defined]
    return [bus.codec.from_fields(e.fields) for e in entries]  # type: ignore[attr-defined]


async def test_runner_hosts_a_service_and_stops_gracefully() -> None:
    bus = make_bus("memory", None)
    service = Recorder()
    runner = ServiceRunner(bus, [service], config(heartbeat_s=0.05), instance="t")
    task = asyncio.create_task(runner.run(install_signals=False))
    await runner.started.wait()
    assert service.started
    await bus.publish_batch(pings(25))
    await eventually(lambda: len(service.seen), lambda n: n == 25)
    await eventually(lambda: service.ticks, lambda n: n >= 2, what="timer ticks")
    beats = await eventually(lambda: heartbeats(bus), lambda b: len(b) >= 2, what="heartbeats")
    runner.request_stop()
    assert await task == 0
    assert service.stopped
    last = beats[-1]
    assert last.service == "recorder" and last.instance == "t" and last.status == "HEALTHY"
    assert last.metrics["seen"] == 25
    assert last.metrics["recorder-t"]["handled"] == 25  # type: ignore[index]
    assert last.breakers == {"recorder.main": "CLOSED"}
    info = await bus.transport.info(bus.names.key(PING_STREAM))
    assert info.groups[0].name == "recorder" and info.groups[0].pending == 0


async def test_open_breaker_shows_as_degraded_in_the_heartbeat() -> None:
    bus = make_bus("memory", None)
    service = Recorder(fail_on=3)
    cfg = config(heartbeat_s=0.02, breaker={"failures": 1, "reset_s": 60})
    runner = ServiceRunner(bus, [service], cfg, instance="t")
    task = asyncio.create_task(runner.run(install_signals=False))
    await bus.publish_batch(pings(5))
    beats = await eventually(
        lambda: heartbeats(bus),
        lambda b: any(h.status == "DEGRADED" for h in b),
        what="degraded heartbeat",
    )
    runner.request_stop()
    assert await task == 0
    degraded = next(h for h in beats if h.status == "DEGRADED")
    assert degraded.breakers == {"recorder.main": "OPEN"}
    assert service.seen == [0, 1, 2]  # handling paused at the failing entry, nothing skipped


async def test_duplicate_service_names_are_refused() -> None:
    bus = make_bus("memory", None)
    try:
        ServiceRunner(bus, [Recorder(), Recorder()], Config())
    except ValueError as exc:
        assert "unique" in str(exc)
    else:
        raise AssertionError("two services with one name were accepted")


class FailsToStart(Recorder):
    name = "fails_to_start"

    async def on_start(self) -> None:
        raise RuntimeError("no database")


async def test_a_failed_start_stops_what_started_and_leaves_the_rest_alone() -> None:
    bus = make_bus("memory", None)
    first, failing, never = Recorder(), FailsToStart(), Recorder()
    never.name = "never_started"
    runner = ServiceRunner(bus, [first, failing, never], config(), instance="t")
    try:
        await runner.run(install_signals=False)
    except RuntimeError as exc:
        assert str(exc) == "no database"
    else:
        raise AssertionError("the failed start was not raised")
    assert first.stopped and failing.stopped  # on_start was called: on_stop cleans up
    assert not never.started and not never.stopped  # never started: not stopped either
    await bus.close()


async def test_a_simulation_whose_service_fails_to_start_raises_at_once() -> None:
    bus = make_bus("memory", None)
    first = Recorder()
    simulation = Simulation(bus, SimulatedClock(0), [first, FailsToStart()], config())
    try:
        await asyncio.wait_for(simulation.start(), timeout=30)  # it used to wait for ever
    except RuntimeError as exc:
        assert str(exc) == "no database"
    else:
        raise AssertionError("the failed start was not raised")
    assert first.stopped
    assert await simulation.stop() == 0  # nothing left running
    await bus.close()
