"""``quantrail backtest``: the live chain over history on a simulated clock."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from quantrail.cli_errors import fail
from quantrail.cli_options import ConfigOption, console, err_console, load_cli_config

if TYPE_CHECKING:
    from quantrail.backtest.run import Market, RunOutcome
    from quantrail.config import Config


def backtest(
    files: Annotated[
        list[Path] | None, typer.Argument(help="more market files (e.g. from a shell glob)")
    ] = None,
    market: Annotated[
        list[Path] | None,
        typer.Option("--market", help="bars CSV/Parquet or quote/print CSV (repeatable)"),
    ] = None,
    strategy: Annotated[
        str | None, typer.Option(help="breakout, meanrevert, scripted or module:Class")
    ] = None,
    signals: Annotated[
        Path | None, typer.Option(help="signals CSV for the scripted strategy")
    ] = None,
    config: ConfigOption = None,
    start: Annotated[str | None, typer.Option("--from", help="first time (ISO-8601 or ns)")] = None,
    end: Annotated[str | None, typer.Option("--to", help="last time (ISO-8601 or ns)")] = None,
    out: Annotated[Path, typer.Option(help="directory for the result")] = Path("backtest-out"),
    timeframe: Annotated[str, typer.Option(help="bar length of the bar files")] = "1m",
    progress: Annotated[bool, typer.Option(help="show a progress bar")] = True,
) -> None:
    """Run the trading chain over market history; write result.json, trades.csv, report.html."""
    from quantrail.backtest.inputs import load_market
    from quantrail.backtest.output import write_outputs
    from quantrail.backtest.result import ReconciliationError, summary
    from quantrail.backtest.run import BacktestInputError, backtest_config, scratch_dir
    from quantrail.config import ConfigError
    from quantrail.marketdata.replay import MarketFileError

    paths = [*(market or []), *(files or [])]
    if signals is not None and strategy is None:
        strategy = "scripted"
    cfg = load_cli_config(config)
    try:
        if signals is not None and not signals.is_file():
            raise BacktestInputError(f"--signals: no such file {str(signals)!r}")
        window = (_time("--from", start), _time("--to", end))
        data = load_market(paths, timeframe, cfg.backtest.tick_size, *window)
        with scratch_dir() as work:
            run_cfg = backtest_config(cfg, strategy, signals, Path(work))
            outcome = asyncio.run(_run(run_cfg, data, progress))
    except (MarketFileError, BacktestInputError, ConfigError) as exc:
        fail(f"invalid input: {exc}", 2)
    except ReconciliationError as exc:
        fail(f"result does not reconcile: {exc}", 1)
    if outcome.missing:
        err_console.print(
            f"[yellow]not in this build, ran without:[/yellow] {', '.join(outcome.missing)}"
        )
    write_outputs(outcome.result, data.bars, out, f"Backtest: {run_cfg.strategy.name or '-'}")
    _print_summary(summary(outcome.result))
    console.print(f"wrote result.json, trades.csv, report.html to {out}/", markup=False)


async def _run(config: Config, data: Market, show: bool) -> RunOutcome:
    from quantrail.backtest.run import run_market

    columns = (TextColumn("backtest"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    hidden = not show or not err_console.is_terminal  # a bar in a log file is noise
    with Progress(*columns, console=err_console, disable=hidden, transient=True) as bar:
        task = bar.add_task("steps", total=len(data.steps))
        return await run_market(config, data, lambda i: bar.update(task, completed=i + 1))


def _time(option: str, text: str | None) -> int | None:
    from quantrail.backtest.run import BacktestInputError
    from quantrail.marketdata.replay import parse_ts

    if text is None:
        return None
    try:
        return parse_ts(text)
    except ValueError as exc:
        reason = getattr(exc, "reason", str(exc))
        raise BacktestInputError(f"{option}: {reason} (value: {text!r})") from None


def _print_summary(figures: dict[str, object]) -> None:
    table = Table(title="Backtest summary", show_header=False)
    for key, value in figures.items():
        table.add_row(key, "-" if value is None else str(value))
    console.print(table)
