"""Hosting services in this process for ``quantrail up`` and ``quantrail service``.

Clocks (docs/operations.md):

* ``wall``: live time.
* ``replay`` (the owner): a ``SimulatedClock`` from the replay window's start, moved at
  ``speed`` x wall time (``max``: step by step as soon as the hosted services settle) and
  published on ``system.clock``.
* ``replay`` with ``follow``: a ``SimulatedClock`` moved to the owner's ticks.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import signal
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from quantrail.bus.bus import EventBus
from quantrail.bus.factory import open_bus
from quantrail.bus.redis_health import warn_if_not_persistent
from quantrail.config import Config
from quantrail.marketdata.replay import read_market_file
from quantrail.ops.metrics import ProcessMetrics
from quantrail.ops.services import build_services
from quantrail.runtime.clock import NS_PER_SECOND, Clock, SimulatedClock, WallClock
from quantrail.runtime.replay_clock import (
    MAX_SPEED,
    ClockFollower,
    ReplayDriver,
    ReplayWindow,
)
from quantrail.runtime.runner import ServiceRunner
from quantrail.runtime.service import Service
from quantrail.runtime.simulation import Simulation
from quantrail.session.calendar import ExchangeCalendar

log = logging.getLogger("quantrail.serve")
ClockMode = Literal["wall", "replay"]
MARGIN_NS = 5 * 60 * NS_PER_SECOND  # a replayed day starts 5 min before the open, ends 5 after


@dataclass(frozen=True, slots=True)
class ServeOptions:
    names: list[str]
    market: str = "none"
    instance: str | None = None
    clock: ClockMode = "wall"
    day: dt.date | None = None
    speed: float = 1.0
    follow: bool = False
    metrics_port: int = 0


def replay_window(config: Config, market: str, day: dt.date | None, today: dt.date) -> ReplayWindow:
    """The replayed span: ``day``'s session (5 min either side); else a market file's span;
    else the last trading day before ``today``. Errors name the option and the value."""
    calendar = ExchangeCalendar.from_config(config.session)
    if day is None and market not in ("", "none", "synthetic"):
        stamps = [item.ts_ns for item in read_market_file(Path(market))]
        if not stamps:
            raise ValueError(f"market: {market!r} holds no quotes or prints to replay")
        return ReplayWindow(min(stamps), max(stamps) + 60 * NS_PER_SECOND)
    if day is None:
        day = today - dt.timedelta(days=1)
        while calendar.trading_session(day) is None:
            day -= dt.timedelta(days=1)
    session = calendar.trading_session(day)
    if session is None:
        raise ValueError(f"date: {day.isoformat()} is not a {calendar.exchange} trading day")
    return ReplayWindow(session.open_ns - MARGIN_NS, session.close_ns + MARGIN_NS)


async def serve(config: Config, options: ServeOptions) -> int:
    """Host ``options.names`` until SIGINT/SIGTERM; returns the exit code (2: bad input)."""
    if not config.risk.accounts:
        log.warning("the config names no accounts (risk.accounts): nothing will be traded")
    if options.clock == "replay" and not options.follow:
        window = replay_window(config, options.market, options.day, dt.date.today())
        clock: Clock = SimulatedClock(window.start_ns)
    elif options.clock == "replay":
        clock = SimulatedClock(0)
    else:
        clock = WallClock()
    metrics = ProcessMetrics(config.bus.consumer.max_deliveries, clock.now_ns)
    metrics.serve(options.metrics_port)  # first: a taken port stops us before anything starts
    host = _Host(config, options, open_bus(config, clock), clock, metrics)
    try:
        await warn_if_not_persistent(host.bus)  # a Redis that keeps nothing on disk: said once
        if options.clock == "replay" and options.follow:
            return await _serve_following(host)
        if options.clock == "replay":
            return await _serve_owning(host, window)
        return await _serve_with(host)
    finally:
        metrics.close()
        await host.bus.close()


@dataclass(frozen=True, slots=True)
class _Host:
    """What hosting needs, whichever the clock."""

    config: Config
    options: ServeOptions
    bus: EventBus
    clock: Clock
    metrics: ProcessMetrics

    @property
    def replayed(self) -> SimulatedClock:
        assert isinstance(self.clock, SimulatedClock)
        return self.clock

    def services(self) -> list[Service]:
        return build_services(self.config, self.bus, self.clock, self.options.names,
                              self.options.market)  # fmt: skip


async def _serve_with(host: _Host, extra: asyncio.Task[None] | None = None) -> int:
    runner = ServiceRunner(host.bus, host.services(), host.config, clock=host.clock,
                           instance=host.options.instance, metrics=host.metrics)  # fmt: skip
    try:
        return await runner.run()
    finally:
        if extra is not None:
            extra.cancel()
            await asyncio.gather(extra, return_exceptions=True)


async def _serve_following(host: _Host) -> int:
    follower = ClockFollower(host.bus, host.replayed)
    await follower.first_tick()
    return await _serve_with(host, asyncio.create_task(follower.run()))


async def _serve_owning(host: _Host, window: ReplayWindow) -> int:
    speed = host.options.speed
    log.info("replaying %s to %s at %s", _utc(window.start_ns), _utc(window.end_ns),
             "max speed" if speed == MAX_SPEED else f"{speed:g}x")  # fmt: skip
    if speed != MAX_SPEED:
        driver = ReplayDriver(host.bus, host.replayed, window, speed)
        return await _serve_with(host, asyncio.create_task(driver.run()))
    return await _run_settled(host, window)


async def _run_settled(host: _Host, window: ReplayWindow) -> int:
    """``--speed max``: the hosted services settle after every replayed second (Simulation)."""
    services = host.services()
    sim = Simulation(host.bus, host.replayed, services, host.config,
                     instance=host.options.instance or "replay", heartbeats=True,
                     settle_timeout_s=300.0)  # fmt: skip
    sim.runner.metrics = host.metrics
    host.metrics.watch(lambda: sim.runner.consumers, services)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    await sim.start()
    driver = ReplayDriver(host.bus, host.replayed, window, MAX_SPEED, settle=sim.settle)
    task = asyncio.create_task(driver.run())
    try:
        await stop.wait()
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    return await sim.stop()


def _utc(ts_ns: int) -> str:
    return dt.datetime.fromtimestamp(ts_ns / NS_PER_SECOND, dt.UTC).isoformat(timespec="seconds")
