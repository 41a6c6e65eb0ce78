"""A replayed paper day on Redis, services in separate processes, gives the memory bus's fills.

The short day (tests/kit/opsrun.py): a scripted LONG ACME at +90 s, bought at 25.01, stopped
out when the market falls through 24.50, sold at 24.40. On the memory bus it runs in one
Simulation; on Redis ``quantrail up --clock replay --speed 60`` owns the clock and hosts every
service but execution, positions and the exit brain, which run as ``quantrail service NAME
--clock replay --follow`` processes of their own.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from subprocess import Popen

from kit.bus import make_bus, new_namespace
from kit.opsrun import (
    DAY_END_NS,
    DAY_START_NS,
    all_running,
    logs_of,
    short_day_market,
    short_day_settings,
    start_cli,
    stop_cli,
    write_config,
)
from kit.poll import eventually
from quantrail.bus.bus import EventBus
from quantrail.bus.memory import MemoryTransport
from quantrail.config import config_from_mapping
from quantrail.events import HealthHeartbeat, OrderFill
from quantrail.events.streams import StreamNames
from quantrail.events.system import ClockTicked
from quantrail.ops.service_names import SERVICE_NAMES
from quantrail.ops.services import build_services
from quantrail.runtime.clock import SimulatedClock
from quantrail.runtime.simulation import Simulation

FOLLOWERS = ("execution", "positions", "exit_brain")
Fill = tuple[str, str, str, int, Decimal]


def fills_of(events: list[object]) -> list[Fill]:
    return [
        (e.order_id, e.fill_id, e.side.value, e.last_qty, e.last_price)
        for e in events
        if isinstance(e, OrderFill)
    ]


async def memory_fills(tmp_path: Path, market: Path) -> list[Fill]:
    config = config_from_mapping(short_day_settings(tmp_path, "memory"))
    clock = SimulatedClock(DAY_START_NS)
    bus = EventBus(MemoryTransport(now_ns=clock.now_ns), config=config.bus,
                   names=StreamNames("mem"), clock=clock)  # fmt: skip
    services = build_services(config, bus, clock, list(SERVICE_NAMES), str(market))
    sim = await Simulation(bus, clock, services, config).start()
    try:
        await sim.advance_to(DAY_END_NS, step=1)
    finally:
        await sim.stop()
    return fills_of(await bus.read_events("trades.order"))


async def test_a_replayed_day_on_redis_in_separate_processes_fills_as_on_the_memory_bus(
    redis_url: str, tmp_path: Path
) -> None:
    market = short_day_market(tmp_path / "acme.csv")
    expected = await memory_fills(tmp_path, market)
    assert [(side, qty, price) for _o, _f, side, qty, price in expected] == [
        ("BUY", 1000, Decimal("25.01")), ("SELL", 1000, Decimal("24.40")),
    ]  # fmt: skip

    namespace = new_namespace()
    config = write_config(tmp_path / "redis.yaml", short_day_settings(tmp_path, "redis"))
    bus = make_bus("redis", redis_url, namespace)
    processes: list[Popen[bytes]] = []
    try:
        # A first tick at the day's start lets the followers start before the owner runs.
        await bus.publish(ClockTicked(ts_event=DAY_START_NS, source="test", speed=60))
        for name in FOLLOWERS:
            processes.append(start_cli(
                "service", name, "-c", str(config), "--redis", redis_url, "--instance", name,
                "--clock", "replay", "--follow", cwd=tmp_path, namespace=namespace,
            ))  # fmt: skip
        await eventually(
            lambda: _beating(bus, processes, tmp_path), lambda found: set(FOLLOWERS) <= found,
            within=60, what="a heartbeat from every follower",
        )  # fmt: skip
        skips = [arg for name in FOLLOWERS for arg in ("--skip", name)]
        processes.append(start_cli(
            "up", "-c", str(config), "--redis", redis_url, "--instance", "owner",
            "--clock", "replay", "--speed", "60", "--market", str(market),
            "--metrics-port", "0", *skips, cwd=tmp_path, namespace=namespace,
        ))  # fmt: skip
        await eventually(
            lambda: _last_tick(bus, processes, tmp_path), lambda ts: ts >= DAY_END_NS, within=60,
            what="the replayed clock at the day's end",
        )  # fmt: skip
        try:
            got = await eventually(
                lambda: _fills(bus), lambda fills: len(fills) >= len(expected), within=20,
                what="the fills on Redis",
            )  # fmt: skip
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{await _story(bus)}\n{logs_of(tmp_path)}") from None
        assert got == expected, logs_of(tmp_path)
        assert all(process.poll() is None for process in processes), logs_of(tmp_path)
    finally:
        codes = [await stop_cli(process) for process in processes]
        await bus.close()
    assert codes == [0] * len(processes), logs_of(tmp_path)


async def _beating(bus: EventBus, processes: list[Popen[bytes]], folder: Path) -> set[str]:
    all_running(processes, folder)
    return {e.service for e in await bus.read_events("system.health")
            if isinstance(e, HealthHeartbeat)}  # fmt: skip


async def _last_tick(bus: EventBus, processes: list[Popen[bytes]], folder: Path) -> int:
    all_running(processes, folder)
    events = await bus.read_events("system.clock")
    return max((e.ts_event for e in events if isinstance(e, ClockTicked)), default=0)


async def _story(bus: EventBus) -> str:
    """What the chain did on Redis, for a failure message."""
    lines = []
    for stream in ("trades.request", "trades.order", "system.alert", "risk.evaluation"):
        for event in await bus.read_events(stream):
            lines.append(f"{stream} {event.kind} {event.ts_event} {getattr(event, 'message', '')}")
    return "\n".join(lines)


async def _fills(bus: EventBus) -> list[Fill]:
    return fills_of(list(await bus.read_events("trades.order")))
