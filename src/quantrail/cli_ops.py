"""``quantrail health``: each service's status from its heartbeats, and the active alerts."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from quantrail.cli_bus import _run, _with_bus
from quantrail.cli_options import (
    ConfigOption,
    NamespaceOption,
    RedisOption,
    console,
    load_cli_config,
)

if TYPE_CHECKING:
    from quantrail.runtime.clock import Clock

STATUS_STYLE = {"HEALTHY": "green", "DEGRADED": "yellow", "UNHEALTHY": "red", "MISSING": "red"}


def health(
    config: ConfigOption = None,
    redis: RedisOption = None,
    namespace: NamespaceOption = None,
    since_s: Annotated[
        int, typer.Option("--since", help="read heartbeats of the last N seconds")
    ] = 3600,
    replay: Annotated[
        bool, typer.Option("--replay", help="ages against the replayed clock (system.clock)")
    ] = False,
) -> None:
    """Each service's status from its heartbeats; exit 0 all healthy, 1 otherwise."""
    from quantrail.ops.health_report import active_alerts, service_statuses
    from quantrail.runtime.clock import WallClock

    cfg = load_cli_config(config, redis, namespace)

    async def work(bus: Any) -> int:
        start = f"{max(0, int(time.time() * 1000) - since_s * 1000)}-0"
        beats = [
            bus.codec.from_fields(e.fields) for e in await bus.iter_range("system.health", start)
        ]
        clock = await _replayed_clock(bus) if replay else WallClock()
        missing_s = cfg.health.heartbeat_missing_s
        rows = service_statuses(beats, clock.now_ns(), missing_s, clock.wall_seconds)
        alerts = active_alerts(await bus.read_events("system.alert"))
        _print(rows, alerts)
        return 0 if rows and all(row.ok for row in rows) else 1

    raise typer.Exit(_run(_with_bus(cfg, work)))


async def _replayed_clock(bus: Any) -> Clock:
    """The replay's clock as its latest tick shows it (time and speed); none yet: wall time."""
    from quantrail.events.system import ClockTicked
    from quantrail.runtime.clock import SimulatedClock, WallClock
    from quantrail.runtime.replay_clock import pace_of

    last = await bus.transport.last_id(bus.names.key("system.clock"))
    entries = await bus.read_range("system.clock", last, last, 1) if last != "0-0" else []
    tick = bus.codec.from_fields(entries[-1].fields) if entries else None
    if not isinstance(tick, ClockTicked):
        return WallClock()
    return SimulatedClock(tick.ts_event, speed=pace_of(tick))


def _print(rows: list[Any], alerts: list[Any]) -> None:
    if not rows:
        console.print("[red]no heartbeats[/red] on system.health: is anything running?")
    table = Table(title="services")
    for column in ("service", "instance", "status", "last beat", "uptime", "open breakers"):
        table.add_column(column)
    for row in rows:
        style = STATUS_STYLE.get(row.status, "")
        table.add_row(
            row.service, row.instance, f"[{style}]{row.status}[/{style}]",
            f"{row.age_s:.0f} s ago", f"{row.uptime_s} s", ", ".join(row.breakers_open) or "-",
        )  # fmt: skip
    if rows:
        console.print(table)
    if not alerts:
        console.print("no active alerts")
        return
    listing = Table(title="active alerts")
    for column in ("alert", "severity", "message"):
        listing.add_column(column)
    for alert in alerts:
        listing.add_row(alert.alert_id, alert.severity, alert.message)
    console.print(listing)
