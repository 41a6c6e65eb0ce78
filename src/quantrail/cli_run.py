"""Verbs that run services: the demo, scenarios, ``up`` and ``service``."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from quantrail.ops.metrics_port import DEFAULT_UP_METRICS_PORT
from quantrail.ops.service_names import SERVICE_NAMES

if TYPE_CHECKING:
    from quantrail.ops.serve import ServeOptions

console = Console()


def demo(
    seed: Annotated[int, typer.Option(help="random seed: same seed, same day")] = 7,
    core: Annotated[bool, typer.Option("--core", help="the event-core demo instead")] = False,
    symbols: Annotated[int, typer.Option(min=6, help="symbols in the synthetic market")] = 24,
) -> None:
    """Play a simulated trading day on the in-process bus (no Redis needed)."""
    if core:
        from quantrail.ops.demo_core import run_core_demo

        raise typer.Exit(asyncio.run(run_core_demo(console, seed=seed)))
    from quantrail.ops.demo_day import DemoOptions, run_demo_day

    with Progress(
        TextColumn("simulating the trading day"), BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"), TimeElapsedColumn(),
        console=console, transient=True,
    ) as progress:  # fmt: skip
        task = progress.add_task("day", total=1)

        def on_step(step: int, steps: int) -> None:
            progress.update(task, completed=step, total=steps)

        summary = asyncio.run(run_demo_day(DemoOptions(seed=seed, symbols=symbols), on_step))
    from quantrail.ops.demo_render import render_day

    render_day(console, summary)
    raise typer.Exit(0 if summary.flat_enough and summary.accounted else 1)


def scenario_run(
    paths: Annotated[list[Path], typer.Argument(help="scenario files or folders")],
    redis: Annotated[str | None, typer.Option("--redis", help="run on Redis instead")] = None,
) -> None:
    """Run scenario files: pass/fail each with a diff; exit 0 all pass, 1 any fails, 2 invalid."""
    from quantrail.scenario.command import run_paths

    raise typer.Exit(asyncio.run(run_paths(paths, console, redis)))


ClockOption = Annotated[
    str, typer.Option("--clock", help="wall | replay (a past or synthetic day)")
]
DateOption = Annotated[
    str | None, typer.Option("--date", help="replay: the day, YYYY-MM-DD (default: see docs)")
]
SpeedOption = Annotated[str, typer.Option("--speed", help="replay: N x wall speed, or max")]
FollowOption = Annotated[
    bool, typer.Option("--follow", help="replay: follow the clock another process owns")
]


def up(
    config: Annotated[Path | None, typer.Option("--config", "-c")] = None,
    redis: Annotated[str | None, typer.Option("--redis", help="Redis URL (default: memory)")] = (
        None
    ),
    market: Annotated[str, typer.Option(help="none | synthetic | ibkr | a market file")] = (
        "synthetic"
    ),
    instance: Annotated[str | None, typer.Option(help="instance name (default: host)")] = None,
    clock: ClockOption = "wall",
    date: DateOption = None,
    speed: SpeedOption = "1",
    follow: FollowOption = False,
    skip: Annotated[
        list[str] | None, typer.Option("--skip", help="a service run elsewhere (repeatable)")
    ] = None,
    metrics_port: Annotated[
        int, typer.Option("--metrics-port", help="serve /metrics here (0 = off)")
    ] = DEFAULT_UP_METRICS_PORT,
) -> None:
    """Start every service in one process (memory bus, or Redis with --redis)."""
    unknown = [name for name in skip or [] if name not in SERVICE_NAMES]
    if unknown:
        console.print(f"[red]skip: unknown {unknown[0]!r}; known: {', '.join(SERVICE_NAMES)}[/red]")
        raise typer.Exit(2)
    names = [name for name in SERVICE_NAMES if name not in (skip or [])]
    raise typer.Exit(
        _serve(config, redis, names, market, instance,
               _RunFlags(clock, date, speed, follow, metrics_port))
    )  # fmt: skip


def service(
    name: Annotated[
        str,
        typer.Argument(help=f"one of: {', '.join(SERVICE_NAMES)}"),
    ],
    config: Annotated[Path | None, typer.Option("--config", "-c")] = None,
    redis: Annotated[str | None, typer.Option("--redis", help="Redis URL")] = None,
    market: Annotated[str, typer.Option(help="for marketdata: synthetic | ibkr | a file")] = "none",
    instance: Annotated[str | None, typer.Option(help="instance name (default: host)")] = None,
    clock: ClockOption = "wall",
    date: DateOption = None,
    speed: SpeedOption = "1",
    follow: FollowOption = False,
    metrics_port: Annotated[
        int, typer.Option("--metrics-port", help="serve /metrics here (0 = off)")
    ] = 0,
) -> None:
    """Run one service in this process (against Redis)."""
    raise typer.Exit(
        _serve(config, redis, [name], market, instance,
               _RunFlags(clock, date, speed, follow, metrics_port))
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class _RunFlags:
    clock: str
    date: str | None
    speed: str
    follow: bool
    metrics_port: int


def _serve(
    config_path: Path | None, redis: str | None, names: list[str], market: str,
    instance: str | None, flags: _RunFlags,
) -> int:  # fmt: skip
    from quantrail.cli_options import load_cli_config
    from quantrail.ops.serve import serve
    from quantrail.runtime.logs import setup_logging

    config = load_cli_config(config_path, redis, checked=True)  # stops on what would fail
    setup_logging(config.log.level, config.log.format)
    try:
        options = _options(names, market, instance, flags)
        return asyncio.run(serve(config, options))
    except ValueError as exc:
        console.print(f"[red]{exc}[/red]")
        return 2


def _options(names: list[str], market: str, instance: str | None, flags: _RunFlags) -> ServeOptions:
    import datetime as dt

    from quantrail.ops.serve import ServeOptions
    from quantrail.runtime.replay_clock import parse_speed

    if flags.clock not in ("wall", "replay"):
        raise ValueError(f"clock: must be 'wall' or 'replay' (value: {flags.clock!r})")
    if flags.clock == "wall" and (flags.follow or flags.date):
        raise ValueError("--date and --follow go with --clock replay")
    try:
        day = dt.date.fromisoformat(flags.date) if flags.date else None
    except ValueError:
        raise ValueError(f"date: must be YYYY-MM-DD (value: {flags.date!r})") from None
    if not 0 <= flags.metrics_port <= 65535:
        raise ValueError(f"metrics-port: must be 0..65535 (value: {flags.metrics_port})")
    return ServeOptions(
        names=names, market=market, instance=instance,
        clock="replay" if flags.clock == "replay" else "wall", day=day,
        speed=parse_speed(flags.speed), follow=flags.follow, metrics_port=flags.metrics_port,
    )  # fmt: skip
