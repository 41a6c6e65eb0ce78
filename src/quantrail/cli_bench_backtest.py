"""``quantrail bench backtest``: the verb; the measurement lives in ``ops.bench_backtest``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from quantrail.cli_options import console


def bench_backtest(
    quotes: Annotated[int, typer.Option(help="synthetic quotes of one equity")] = 1_000_000,
    bars: Annotated[int, typer.Option(help="synthetic 1-minute bars")] = 100_000,
    order_every: Annotated[int, typer.Option(help="an order about every N quotes")] = 1_000,
    quick: Annotated[bool, typer.Option(help="at most 20,000 quotes and 500 bars")] = False,
    compare: Annotated[
        bool, typer.Option(help="run NautilusTrader too when it is installed")
    ] = True,
    json_path: Annotated[Path | None, typer.Option("--json", help="write the report here")] = None,
    rounds: Annotated[
        int, typer.Option(help="rounds of each quote path (ours, then NautilusTrader's)")
    ] = 3,
) -> None:
    """Quotes/s and bars/s through the backtest (no-op, and the chain with orders), against
    NautilusTrader's BacktestEngine when it is installed (the compare extra)."""
    from quantrail.ops.bench_backtest import BenchOptions, run_backtest_bench

    try:
        options = BenchOptions(quotes=quotes, bars=bars, order_every=order_every, quick=quick,
                               compare=compare, json_path=json_path, rounds=rounds)  # fmt: skip
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    run_backtest_bench(options).render(console)
