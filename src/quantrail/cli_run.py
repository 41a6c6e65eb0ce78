"""Verbs that run services: the demo, scenarios, ``up`` and ``service``."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from quantrail.ops.service_names import SERVICE_NAMES

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


def up(
    config: Annotated[Path | None, typer.Option("--config", "-c")] = None,
    redis: Annotated[str | None, typer.Option("--redis", help="Redis URL (default: memory)")] = (
        None
    ),
    market: Annotated[str, typer.Option(help="none | synthetic | ibkr | a market file")] = "none",
    instance: Annotated[str | None, typer.Option(help="instance name (default: host)")] = None,
) -> None:
    """Start every service in one process (memory bus, or Redis with --redis)."""

    raise typer.Exit(_serve(config, redis, list(SERVICE_NAMES), market, instance))


def service(
    name: Annotated[
        str,
        typer.Argument(help=f"one of: {', '.join(SERVICE_NAMES)}"),
    ],
    config: Annotated[Path | None, typer.Option("--config", "-c")] = None,
    redis: Annotated[str | None, typer.Option("--redis", help="Redis URL")] = None,
    market: Annotated[str, typer.Option(help="for marketdata: synthetic | ibkr | a file")] = "none",
    instance: Annotated[str | None, typer.Option(help="instance name (default: host)")] = None,
) -> None:
    """Run one service in this process (against Redis)."""
    raise typer.Exit(_serve(config, redis, [name], market, instance))


def _serve(
    config_path: Path | None, redis: str | None, names: list[str], market: str,
    instance: str | None,
) -> int:  # fmt: skip
    from quantrail.bus.factory import open_bus
    from quantrail.bus.redis_health import warn_if_not_persistent
    from quantrail.cli_options import load_cli_config
    from quantrail.ops.services import build_services
    from quantrail.runtime.clock import WallClock
    from quantrail.runtime.logs import setup_logging
    from quantrail.runtime.runner import ServiceRunner

    config = load_cli_config(config_path, redis, checked=True)  # stops on what would fail
    setup_logging(config.log.level, config.log.format)
    clock = WallClock()

    async def main() -> int:
        bus = open_bus(config, clock)
        await warn_if_not_persistent(bus)
        try:
            services = build_services(config, bus, clock, names, market)
        except ValueError as exc:
            console.print(f"[red]{exc}[/red]")
            return 2
        runner = ServiceRunner(bus, services, config, clock=clock, instance=instance)
        try:
            return await runner.run()
        finally:
            await bus.close()

    return asyncio.run(main())
