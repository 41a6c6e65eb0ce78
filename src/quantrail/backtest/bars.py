"""OHLCV bars: reading them (CSV or Parquet) and turning one into the market events the live
chain consumes.

Columns ``ts,symbol,open,high,low,close,volume``. ``ts`` is the bar's *start* (int ns UTC or
ISO-8601 with a zone); the bar covers ``[ts, ts + timeframe)``. Prices are exact decimals (a
Parquet float column is read through its shortest repr, so 101.23 stays 101.23), volume whole
shares. Checks: every price > 0, ``high >= max(open, close)``, ``low <= min(open, close)``,
``volume >= 0``, and ``ts`` strictly increasing per symbol. A bad row stops the read with file,
line (Parquet: data row + 1, as if it had a header line), column and value.

The price path inside a bar (``bar_path``): four points at fixed offsets, ``open`` at 0, then
the two extremes, then ``close`` at 3/4 of the bar. An up bar (close >= open) is taken to have
gone down first: open, low, high, close; a down bar: open, high, low, close. Each point is a
quote (bid one tick under, ask one tick over, so the mid is the price, both sides showing the
bar's volume) and a print carrying a share of the bar's volume (the shares split evenly, the
remainder on the close; no print for a point with no shares). The candles rebuilt from these
prints have the bar's open, high, low, close and volume.
"""

from __future__ import annotations

import csv
import dataclasses
import re
from collections.abc import Iterator, Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from quantrail.marketdata.replay import MarketFileError, parse_ts
from quantrail.marketdata.types import MarketEvent, Print, Quote

BAR_COLUMNS = ("ts", "symbol", "open", "high", "low", "close", "volume")
PATH_OFFSETS = (0, 1, 2, 3)
"""Offsets of the price path's points in quarters of the bar."""
BAR_VENUE = "BAR"
_TIMEFRAME = re.compile(r"(?P<n>[1-9]\d*)(?P<unit>s|m|h|d)")
_UNIT_NS = {"s": 10**9, "m": 60 * 10**9, "h": 3600 * 10**9, "d": 86_400 * 10**9}


def timeframe_ns(text: str) -> int:
    """``"1m"`` -> 60e9: a count and a unit (s, m, h, d)."""
    found = _TIMEFRAME.fullmatch(text)
    if found is None:
        raise ValueError(f"timeframe: expected a count and s, m, h or d (like 1m), got {text!r}")
    return int(found["n"]) * _UNIT_NS[found["unit"]]


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Bar:
    symbol: str
    start_ns: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: int
    timeframe_ns: int

    @property
    def end_ns(self) -> int:
        return self.start_ns + self.timeframe_ns


class _BadCell(ValueError):
    def __init__(self, column: str, value: str, reason: str) -> None:
        self.column, self.value, self.reason = column, value, reason
        super().__init__(reason)


def read_bars(path: str | Path, timeframe: str = "1m") -> list[Bar]:
    """Every bar of a CSV or Parquet (by suffix) file, in file order, checked."""
    path = Path(path)
    frame = timeframe_ns(timeframe)
    rows = _parquet_rows(path) if path.suffix.lower() == ".parquet" else _csv_rows(path)
    bars: list[Bar] = []
    last_start: dict[str, int] = {}
    for line, row in rows:
        try:
            bar = _bar(row, frame)
            previous = last_start.get(bar.symbol)
            if previous is not None and bar.start_ns <= previous:
                raise _BadCell("ts", row["ts"], f"not after the {bar.symbol} bar before it")
        except _BadCell as bad:
            raise MarketFileError(path, line, bad.column, bad.value, bad.reason) from None
        last_start[bar.symbol] = bar.start_ns
        bars.append(bar)
    return bars


def _csv_rows(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header != list(BAR_COLUMNS):
            found = ",".join(header or [])
            raise MarketFileError(path, 1, "header", found, f"expected {','.join(BAR_COLUMNS)}")
        for cells in reader:
            if not cells:
                continue
            if len(cells) != len(BAR_COLUMNS):
                reason = f"expected {len(BAR_COLUMNS)} columns, got {len(cells)}"
                raise MarketFileError(path, reader.line_num, "row", ",".join(cells), reason)
            yield reader.line_num, dict(zip(BAR_COLUMNS, cells, strict=True))


def _parquet_rows(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except (OSError, ValueError) as exc:
        raise MarketFileError(path, 0, "file", path.name, f"not a Parquet file: {exc}") from None
    missing = [name for name in BAR_COLUMNS if name not in table.column_names]
    if missing:
        found = ",".join(table.column_names)
        raise MarketFileError(path, 1, "header", found, f"missing column {missing[0]!r}")
    columns = {name: table.column(name).to_pylist() for name in BAR_COLUMNS}
    for index in range(table.num_rows):
        yield index + 2, {name: _cell_text(columns[name][index]) for name in BAR_COLUMNS}


def _cell_text(value: Any) -> str:
    """A Parquet cell as the text a CSV would hold (timestamps as ISO-8601 in UTC)."""
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        text = str(value.isoformat())
        return text + "Z" if getattr(value, "tzinfo", None) is None else text
    return str(value)


def _bar(row: dict[str, str], frame: int) -> Bar:
    try:
        start = parse_ts(row["ts"])
    except ValueError as exc:  # the replay reader's own cell error: same column and value
        raise _BadCell("ts", row["ts"], str(getattr(exc, "reason", exc))) from None
    symbol = row["symbol"]
    if not symbol or symbol != symbol.strip():
        raise _BadCell("symbol", symbol, "must be non-empty without outer spaces")
    open_, high, low, close = (_price(row, name) for name in ("open", "high", "low", "close"))
    if high < max(open_, close):
        raise _BadCell("high", row["high"], "below max(open, close)")
    if low > min(open_, close):
        raise _BadCell("low", row["low"], "above min(open, close)")
    volume_text = row["volume"]
    if not re.fullmatch(r"\d+(\.0+)?", volume_text):
        raise _BadCell("volume", volume_text, "not a whole number of shares >= 0")
    return Bar(
        symbol=symbol, start_ns=start, open=open_, high=high, low=low, close=close,
        volume=int(Decimal(volume_text)), timeframe_ns=frame,
    )  # fmt: skip


def _price(row: dict[str, str], column: str) -> Decimal:
    text = row[column]
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise _BadCell(column, text, "not a decimal number") from None
    if not value.is_finite() or value <= 0:
        raise _BadCell(column, text, "must be a finite price > 0")
    return value


# --- a bar as market events ------------------------------------------------------------------


def path_prices(bar: Bar) -> tuple[Decimal, Decimal, Decimal, Decimal]:
    """Open, the extreme reached first, the other extreme, close (see the module doc)."""
    if bar.close >= bar.open:
        return bar.open, bar.low, bar.high, bar.close
    return bar.open, bar.high, bar.low, bar.close


def path_sizes(volume: int) -> tuple[int, int, int, int]:
    share, rest = divmod(volume, len(PATH_OFFSETS))
    return share, share, share, share + rest


def point_ts(bar: Bar, point: int) -> int:
    return bar.start_ns + bar.timeframe_ns * PATH_OFFSETS[point] // 4


def bar_point(bar: Bar, point: int, tick: Decimal) -> list[MarketEvent]:
    """The quote and (when it has shares) the print of one point of the bar's path."""
    price = path_prices(bar)[point]
    size = path_sizes(bar.volume)[point]
    ts = point_ts(bar, point)
    bid = price - tick if price > tick else Decimal(0)
    quote = Quote(
        symbol=bar.symbol, bid=bid, ask=price + tick, bid_size=bar.volume,
        ask_size=bar.volume, ts_ns=ts, venue=BAR_VENUE,
    )  # fmt: skip
    if size == 0:
        return [quote]
    return [quote, Print(symbol=bar.symbol, price=price, size=size, ts_ns=ts, venue=BAR_VENUE)]


def bar_events(bar: Bar, tick: Decimal) -> list[MarketEvent]:
    """The whole path of one bar, in time order."""
    return [event for point in range(len(PATH_OFFSETS)) for event in bar_point(bar, point, tick)]


def bars_by_start(bars: Sequence[Bar]) -> list[tuple[int, list[Bar]]]:
    """Bars grouped by start time, oldest first; within a time, by symbol (a fixed order)."""
    groups: dict[int, list[Bar]] = {}
    for bar in bars:
        groups.setdefault(bar.start_ns, []).append(bar)
    return [(start, sorted(groups[start], key=lambda b: b.symbol)) for start in sorted(groups)]
