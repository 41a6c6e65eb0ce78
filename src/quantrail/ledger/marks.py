"""Marks: the price an open position is valued at when the day is closed.

The ledger does not see market data, so a closing mark comes from, in order:

1. a price given by the caller (a marks file ``symbol,price``: the official closes);
2. the later of the last live quote's mid (``live_marks``, fed by ``market.quote``) and the
   last fill of the day in that symbol (the last price the ledger saw trade);
3. the symbol's prior close from the BefDay snapshot (nothing traded or quoted today).

Each mark says which of these it came from, and reports print it.
"""

from __future__ import annotations

import csv
import enum
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from quantrail.ledger.books import AccountDay


class MarkSource(enum.StrEnum):
    GIVEN = "given"
    LAST_FILL = "last_fill"
    LAST_QUOTE = "last_quote"
    PRIOR_CLOSE = "prior_close"


@dataclass(frozen=True, slots=True)
class Mark:
    price: Decimal
    source: MarkSource


class MarksFileError(ValueError):
    """A bad marks file: names the file, the line, the column and the value."""

    def __init__(self, path: Path, line: int, column: str, value: object, reason: str) -> None:
        super().__init__(f"{path}, line {line}, column {column!r}: {reason} (value: {value!r})")


def closing_marks(
    books: AccountDay,
    given: Mapping[str, Decimal] | None = None,
    live: Mapping[str, tuple[int, Decimal]] | None = None,
) -> dict[str, Mark]:
    """A mark for every symbol the day touched (baseline or fills), by the rule above;
    ``live`` maps a symbol to its last quote (ts_ns, mid)."""
    given = given or {}
    marks: dict[str, Mark] = {}
    last_ts: dict[str, int] = {}
    for position in books.snapshot.positions:
        marks[position.symbol] = Mark(position.prior_close, MarkSource.PRIOR_CLOSE)
    for result in books.results():  # booking order: the last fill of a symbol wins
        marks[result.fill.symbol] = Mark(result.fill.price, MarkSource.LAST_FILL)
        last_ts[result.fill.symbol] = result.fill.ts_ns
    for symbol, (ts_ns, price) in (live or {}).items():
        if symbol in marks and ts_ns >= last_ts.get(symbol, ts_ns):
            marks[symbol] = Mark(price, MarkSource.LAST_QUOTE)
    for symbol in marks.keys() & given.keys():
        marks[symbol] = Mark(given[symbol], MarkSource.GIVEN)
    return dict(sorted(marks.items()))


def read_marks_file(path: str | Path) -> dict[str, Decimal]:
    """Prices from a CSV with the header ``symbol,price`` (one row per symbol)."""
    file = Path(path)
    if not file.exists():
        raise MarksFileError(file, 0, "<file>", str(file), "marks file not found")
    prices: dict[str, Decimal] = {}
    with file.open(newline="") as handle:
        reader = csv.DictReader(handle)
        header = list(reader.fieldnames or [])
        if header != ["symbol", "price"]:
            reason = "header must be symbol,price"
            raise MarksFileError(file, 1, "<header>", ",".join(header), reason)
        for row in reader:
            line = reader.line_num
            symbol = (row.get("symbol") or "").strip()
            if not symbol or symbol in prices:
                reason = "symbol is empty" if not symbol else "symbol listed twice"
                raise MarksFileError(file, line, "symbol", row.get("symbol"), reason)
            prices[symbol] = _price(file, line, row.get("price"))
    return prices


def _price(file: Path, line: int, text: str | None) -> Decimal:
    try:
        price = Decimal((text or "").strip())
    except InvalidOperation:
        price = Decimal(0)
    if not price.is_finite() or price <= 0:
        raise MarksFileError(file, line, "price", text, "price must be a decimal > 0")
    return price
