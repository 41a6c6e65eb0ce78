"""``quantrail bench venue``: the verb; the measurement lives in ``ops.bench_venue``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from quantrail.cli_options import console


def bench_venue(
    quotes: Annotated[int, typer.Option(help="quotes in each run")] = 1_000_000,
    order_every: Annotated[int, typer.Option(help="a market order every N quotes")] = 1_000,
    json_path: Annotated[Path | None, typer.Option("--json", help="write the report here")] = None,
) -> None:
    """Quotes/s over the first and last 10 % of a run with orders, and without (in process)."""
    from quantrail.ops.bench_venue import VenueBenchOptions, run_venue_bench

    try:
        options = VenueBenchOptions(quotes=quotes, order_every=order_every, json_path=json_path)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    run_venue_bench(options).render(console)
