"""``quantrail bench scale``: consumer processes and a Redis Cluster (see ops/bench_scale)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from quantrail.cli_options import console


def scale(
    quick: Annotated[bool, typer.Option(help="fewer events, shorter paced phases")] = False,
    json_path: Annotated[Path | None, typer.Option("--json", help="write the report here")] = None,
    count: Annotated[int | None, typer.Option(min=1, help="events of each max-rate phase")] = None,
    rate: Annotated[int | None, typer.Option(min=1, help="events/s of each paced phase")] = None,
) -> None:
    """1, 2, 4 consumer processes on 1 Redis and a 3-master cluster (private, never yours)."""
    from quantrail.ops.bench_scale import ScaleOptions, render, run_scale_bench

    options = ScaleOptions(quick=quick, json_path=json_path, count=count, rate=rate)
    phases = run_scale_bench(options, say=lambda line: console.print(f"[dim]{line}[/dim]"))
    render(phases, console)
