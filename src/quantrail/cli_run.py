"""Verbs that run services: the demo, scenarios, ``up`` and ``service``."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

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
    _render_day(summary)
    raise typer.Exit(0 if summary.flat_enough and summary.accounted else 1)


def _render_day(summary: object) -> None:
    from quantrail.ops.demo_day import DemoSummary
    from quantrail.session.phases import exchange_time

    assert isinstance(summary, DemoSummary)
    modes = Table(title=f"mode changes on {summary.day} (HAMMER)")
    # No "from" column: the row above says it, and 80 columns then fit every mode and reason.
    for column in ("New York", "mode", "reason", "gross %"):
        modes.add_column(column, no_wrap=True)
    for change in summary.mode_changes:
        gross = change.inputs.get("gross_pct", "")
        modes.add_row(
            exchange_time(change.ts_event, "America/New_York").strftime("%H:%M:%S"),
            change.mode.value, change.reason, f"{float(gross):.2f}" if gross else "-",
        )  # fmt: skip
    console.print(modes)
    orders = Table(title="orders")
    orders.add_column("what")
    orders.add_column("count", justify="right")
    orders.add_row("de-risk intents", str(summary.intents))
    for status, count in sorted(summary.order_status.items()):
        orders.add_row(f"  orders ending {status}", str(count))
    orders.add_row("fills", str(summary.fills))
    orders.add_row("fees", f"{summary.fees:.2f}")
    console.print(orders)
    opening = f"{summary.open_gross_pct:.2f}%" if summary.open_gross_pct is not None else "-"
    closing = f"{summary.close_gross_pct:.2f}%" if summary.close_gross_pct is not None else "-"
    console.print(f"gross exposure at the open {opening}, at the close {closing}")
    ok = "[green]yes[/green]"
    no = "[red]no[/red]"
    console.print(f"at or under 100% at the close: {ok if summary.flat_enough else no}")
    accounted = ok if summary.accounted else f"{no}: {', '.join(summary.unaccounted[:5])}"
    console.print(f"every de-risk intent accounted for: {accounted}")


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
    market: Annotated[str, typer.Option(help="none | synthetic | a market file")] = "none",
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
    market: Annotated[str, typer.Option(help="for marketdata: synthetic | a file")] = "none",
    instance: Annotated[str | None, typer.Option(help="instance name (default: host)")] = None,
) -> None:
    """Run one service in this process (against Redis)."""
    raise typer.Exit(_serve(config, redis, [name], market, instance))


def _serve(
    config_path: Path | None, redis: str | None, names: list[str], market: str,
    instance: str | None,
) -> int:  # fmt: skip
    from quantrail.bus.factory import open_bus
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
