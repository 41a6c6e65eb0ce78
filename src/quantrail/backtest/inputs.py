"""A backtest's market files: which kind each is, read and checked, as one ``Market``.

A file is bars when it is Parquet or its header is ``ts,symbol,open,high,low,close,volume``,
quotes and prints when its header is the replay format's (``quantrail.marketdata.replay``).
One run takes one kind. Bars of the same symbol and start in two files are an error.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

from quantrail.backtest.bars import BAR_COLUMNS, Bar, read_bars, timeframe_ns
from quantrail.backtest.run import BacktestInputError, Market, bar_market, in_window, tape_market
from quantrail.marketdata.replay import COLUMNS, MarketFileError, read_market_file
from quantrail.marketdata.types import MarketEvent


def file_kind(path: Path) -> str:
    """``bars`` or ``tape``; an unreadable or unknown header is a ``MarketFileError``."""
    if path.suffix.lower() == ".parquet":
        return "bars"
    try:
        with path.open(encoding="utf-8") as handle:
            header = handle.readline().strip()
    except OSError as exc:
        raise MarketFileError(path, 0, "file", str(path), exc.strerror or str(exc)) from None
    if header == ",".join(BAR_COLUMNS):
        return "bars"
    if header.split(",")[: len(COLUMNS)] == list(COLUMNS):
        return "tape"
    expected = f"{','.join(BAR_COLUMNS)} or {','.join(COLUMNS)}"
    raise MarketFileError(path, 1, "header", header, f"expected {expected}")


def load_market(
    paths: Sequence[Path],
    timeframe: str,
    tick: Decimal,
    start_ns: int | None = None,
    end_ns: int | None = None,
) -> Market:
    """Every file read and checked, then cut to the window [start, end]."""
    try:
        frame = timeframe_ns(timeframe)
    except ValueError as exc:
        raise BacktestInputError(f"--timeframe: {exc}") from None
    if start_ns is not None and end_ns is not None and start_ns > end_ns:
        raise BacktestInputError(f"--from: {start_ns} is after --to {end_ns}")
    if not paths:
        raise BacktestInputError("--market: at least one market file is needed")
    kinds = {path: file_kind(path) for path in paths}
    if len(set(kinds.values())) > 1:
        raise BacktestInputError("--market: all bars or all quote/print files, not both")
    if "bars" in kinds.values():
        bars = _all_bars(paths, timeframe)
        return bar_market(in_window(bars, start_ns, end_ns, lambda bar: bar.start_ns), tick)
    items: list[MarketEvent] = []
    for path in paths:
        items.extend(read_market_file(path))
    items.sort(key=lambda item: item.ts_ns)  # stable: a file's own order kept at equal times
    return tape_market(in_window(items, start_ns, end_ns, lambda item: item.ts_ns), frame)


def _all_bars(paths: Sequence[Path], timeframe: str) -> list[Bar]:
    seen: dict[tuple[str, int], Path] = {}
    bars: list[Bar] = []
    for path in paths:
        for bar in read_bars(path, timeframe):
            first = seen.setdefault((bar.symbol, bar.start_ns), path)
            if first != path:
                raise BacktestInputError(
                    f"--market: {path} repeats the {bar.symbol} bar at {bar.start_ns} of {first}"
                )
            bars.append(bar)
    return bars
