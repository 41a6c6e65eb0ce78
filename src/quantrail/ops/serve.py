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
    bus = open_bus(config, clock)
    try:
        if options.clock == "replay" and options.follow:
            assert isinstance(clock, SimulatedClock)
            return await _serve_following(config, options, bus, clock)
        if options.clock == "replay":
            assert isinstance(clock, SimulatedClock)
            return await _serve_owning(config, options, bus, clock, window)
        return await _serve_with(config, options, bus, clock)
    finally:
        await bus.close()


def _metrics(config: Config, clock: Clock, options: ServeOptions) -> ProcessMetrics:
    metrics = ProcessMetrics(config.bus.consumer.max_deliveries, clock.now_ns)
    metrics.serve(options.metrics_port)
    return metrics


async def _serve_with(
    config: Config, options: ServeOptions, bus: EventBus, clock: Clock,
    extra: asyncio.Task[None] | None = None,
) -> int:  # fmt: skip
    services = build_services(config, bus, clock, options.names, options.market)
    metrics = _metrics(config, clock, options)
    runner = ServiceRunner(
        bus, services, config, clock=clock, instance=options.instance, metrics=metrics
    )
    try:
        return await runner.run()
    finally:
        metrics.close()
        if extra is not None:
            extra.cancel()
            await asyncio.gather(extra, return_exceptions=True)


async def _serve_following(
    config: Config, options: ServeOptions, bus: EventBus, clock: SimulatedClock
) -> int:
    follower = ClockFollower(bus, clock)
    await follower.first_tick()
    task = asyncio.create_task(follower.run())
    return await _serve_with(config, options, bus, clock, task)


async def _serve_owning(
    config: Config, options: ServeOptions, bus: EventBus, clock: SimulatedClock,
    window: ReplayWindow,
) -> int:  # fmt: skip
    log.info("replaying %s to %s at %s", _utc(window.start_ns), _utc(window.end_ns),
             "max speed" if options.speed == MAX_SPEED else f"{options.speed:g}x")  # fmt: skip
    if options.speed != MAX_SPEED:
        driver = ReplayDriver(bus, clock, window, options.speed)
        return await _serve_with(config, options, bus, clock, asyncio.create_task(driver.run()))
    services = build_services(config, bus, clock, options.names, options.market)
    return await _run_settled(config, options, bus, clock, window, services)


async def _run_settled(
    config: Config, options: ServeOptions, bus: EventBus, clock: SimulatedClock,
    window: ReplayWindow, services: list[Service],
) -> int:  # fmt: skip
    """``--speed max``: the hosted services settle after every replayed second (Simulation)."""
    sim = Simulation(bus, clock, services, config, instance=options.instance or "replay",
                     heartbeats=True, settle_timeout_s=300.0)  # fmt: skip
    sim.runner.metrics = metrics = _metrics(config, clock, options)
    metrics.watch(lambda: sim.runner.consumers, services)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    await sim.start()
    driver = asyncio.create_task(ReplayDriver(bus, clock, window, MAX_SPEED,
                                              settle=sim.settle).run())  # fmt: skip
    try:
        await stop.wait()
    finally:
        driver.cancel()
        await asyncio.gather(driver, return_exceptions=True)
        metrics.close()
    return await sim.stop()


def _utc(ts_ns: int) -> str:
    return dt.datetime.fromtimestamp(ts_ns / NS_PER_SECOND, dt.UTC).isoformat(timespec="seconds")
