"""Market data files: CSV that the synthetic market writes and the replay source reads.

Header ``ts,type,symbol,price,size,bid,ask,bid_size,ask_size,venue`` with an optional last
column ``conditions`` (a print's condition codes joined by ``|``). ``ts`` is int nanoseconds
UTC or ISO-8601 with a zone (up to 9 fractional digits, kept exactly). ``type`` is QUOTE (uses
bid, ask, bid_size, ask_size) or PRINT (uses price, size, conditions); the columns of the other
type must be empty. The writer writes int nanoseconds and the conditions column, so a round
trip is exact. Any bad row stops the read with file, line, column and value named.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

from quantrail.marketdata.types import MarketEvent, Print, Quote

COLUMNS = ("ts", "type", "symbol", "price", "size", "bid", "ask", "bid_size", "ask_size", "venue")
CONDITIONS_COLUMN = "conditions"
CONDITION_SEPARATOR = "|"
_QUOTE_ONLY = ("bid", "ask", "bid_size", "ask_size")
_PRINT_ONLY = ("price", "size", CONDITIONS_COLUMN)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ISO = re.compile(
    r"(?P<base>\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2})?)"
    r"(?:\.(?P<frac>\d{1,9}))?"
    r"(?P<zone>Z|[+-]\d{2}(?::?\d{2})?)?"
)


class MarketFileError(ValueError):
    """A market file that cannot be read: names the file, line, column and value."""

    def __init__(self, path: Path, line: int, column: str, value: str, reason: str) -> None:
        self.path = path
        self.line = line
        self.column = column
        self.value = value
        super().__init__(f"{path}, line {line}, column '{column}': {reason} (value: {value!r})")


class _BadCell(ValueError):
    def __init__(self, column: str, value: str, reason: str) -> None:
        self.column = column
        self.value = value
        self.reason = reason
        super().__init__(reason)


def parse_ts(text: str) -> int:
    """Int nanoseconds UTC from int ns or ISO-8601 with a zone."""
    if re.fullmatch(r"\d+", text):
        return int(text)
    match = _ISO.fullmatch(text)
    if match is None:
        raise _BadCell("ts", text, "expected int nanoseconds or ISO-8601 with a zone")
    if match["zone"] is None:
        raise _BadCell("ts", text, "ISO-8601 time has no zone (add Z or +hh:mm)")
    try:
        moment = datetime.fromisoformat(match["base"] + match["zone"])
    except ValueError as exc:
        raise _BadCell("ts", text, f"not a valid time: {exc}") from exc
    # Whole seconds via timedelta (exact integers), the fraction from the text: no float.
    delta = moment - _EPOCH
    whole_ns = (delta.days * 86_400 + delta.seconds) * 1_000_000_000
    fraction_ns = int((match["frac"] or "").ljust(9, "0"))
    if whole_ns + fraction_ns < 0:
        raise _BadCell("ts", text, "time is before 1970-01-01T00:00:00Z")
    return whole_ns + fraction_ns


def _decimal(row: dict[str, str], column: str, *, positive: bool) -> Decimal:
    text = row[column]
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise _BadCell(column, text, "not a decimal number") from None
    if not value.is_finite():
        raise _BadCell(column, text, "not a finite number")
    if value < 0 or (positive and value == 0):
        raise _BadCell(column, text, "must be > 0" if positive else "must be >= 0")
    return value


def _shares(row: dict[str, str], column: str, *, positive: bool) -> int:
    text = row[column]
    if not re.fullmatch(r"\d+", text):
        raise _BadCell(column, text, "not a whole number of shares")
    if positive and int(text) == 0:
        raise _BadCell(column, text, "must be > 0")
    return int(text)


def _symbol(row: dict[str, str]) -> str:
    text = row["symbol"]
    if not text or text != text.strip():
        raise _BadCell("symbol", text, "must be non-empty without outer spaces")
    return text


def _require_empty(row: dict[str, str], columns: tuple[str, ...], kind: str) -> None:
    for column in columns:
        if row.get(column):
            raise _BadCell(column, row[column], f"must be empty on a {kind} row")


def _quote(row: dict[str, str], ts_ns: int) -> Quote:
    _require_empty(row, _PRINT_ONLY, "QUOTE")
    return Quote(
        symbol=_symbol(row),
        bid=_decimal(row, "bid", positive=False),
        ask=_decimal(row, "ask", positive=False),
        bid_size=_shares(row, "bid_size", positive=False),
        ask_size=_shares(row, "ask_size", positive=False),
        ts_ns=ts_ns,
        venue=row["venue"],
    )


def _print(row: dict[str, str], ts_ns: int) -> Print:
    _require_empty(row, _QUOTE_ONLY, "PRINT")
    codes = row.get(CONDITIONS_COLUMN) or ""
    conditions = tuple(codes.split(CONDITION_SEPARATOR)) if codes else ()
    if not all(conditions):
        raise _BadCell(CONDITIONS_COLUMN, codes, f"empty code between '{CONDITION_SEPARATOR}'")
    return Print(
        symbol=_symbol(row),
        price=_decimal(row, "price", positive=True),
        size=_shares(row, "size", positive=True),
        ts_ns=ts_ns,
        venue=row["venue"],
        conditions=conditions,
    )


def _row_event(row: dict[str, str]) -> MarketEvent:
    ts_ns = parse_ts(row["ts"])
    kind = row["type"].upper()
    if kind == "QUOTE":
        return _quote(row, ts_ns)
    if kind == "PRINT":
        return _print(row, ts_ns)
    raise _BadCell("type", row["type"], "expected QUOTE or PRINT")


def _check_header(path: Path, header: list[str] | None) -> None:
    allowed = (list(COLUMNS), [*COLUMNS, CONDITIONS_COLUMN])
    if header not in allowed:
        expected = ",".join(COLUMNS)
        raise MarketFileError(
            path, 1, "header", ",".join(header or []), f"expected {expected}[,conditions]"
        )


def read_market_file(path: str | Path, *, require_time_order: bool = True) -> Iterator[MarketEvent]:
    """Quotes and prints from a market CSV in file order, read lazily row by row.

    With ``require_time_order`` (the default) a row older than the row before it is an error:
    a replay drives a simulated clock, which cannot go back.
    """
    path = Path(path)
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        _check_header(path, header)
        assert header is not None
        last_ts = -1
        for cells in reader:
            if not cells:
                continue  # blank line
            try:
                event = _row_event(_row(header, cells))
                if require_time_order and event.ts_ns < last_ts:
                    raise _BadCell("ts", cells[0], "earlier than the row before")
            except _BadCell as bad:
                line = reader.line_num
                raise MarketFileError(path, line, bad.column, bad.value, bad.reason) from None
            last_ts = event.ts_ns
            yield event


def _row(header: list[str], cells: list[str]) -> dict[str, str]:
    if len(cells) != len(header):
        raise _BadCell("row", ",".join(cells), f"expected {len(header)} columns, got {len(cells)}")
    return dict(zip(header, cells, strict=True))


def _cells(event: MarketEvent) -> list[str]:
    if isinstance(event, Quote):
        quote_cells = [str(event.bid), str(event.ask), str(event.bid_size), str(event.ask_size)]
        return [str(event.ts_ns), "QUOTE", event.symbol, "", "", *quote_cells, event.venue, ""]
    if any(CONDITION_SEPARATOR in code for code in event.conditions):
        raise ValueError(
            f"conditions: a code may not contain '{CONDITION_SEPARATOR}', got {event.conditions!r}"
        )
    print_cells = [str(event.price), str(event.size), "", "", "", ""]
    codes = CONDITION_SEPARATOR.join(event.conditions)
    return [str(event.ts_ns), "PRINT", event.symbol, *print_cells, event.venue, codes]


def write_market_file(path: str | Path, events: Iterable[MarketEvent]) -> int:
    """Write events (with the conditions column) to a market CSV; returns the number written."""
    count = 0
    with Path(path).open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow([*COLUMNS, CONDITIONS_COLUMN])
        for event in events:
            writer.writerow(_cells(event))
            count += 1
    return count
