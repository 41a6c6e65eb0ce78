"""``scripted``: replays advisories from a CSV, so a desk can trade signals made elsewhere and
tests can drive the chain exactly.

The file (param ``path``) has the header ``ts,symbol,action,edge_score,confidence,stop,reasoning``
and one advisory per row: ``ts`` ISO-8601 with a zone (``2024-03-15T09:45:00-04:00``, up to nine
fractional digits, kept exactly) or int nanoseconds UTC; ``action`` LONG, SHORT or NO_SIGNAL;
``edge_score`` an int 0-100; ``confidence`` 0-1; ``stop`` the required stop price (empty only
for NO_SIGNAL); ``reasoning`` free text (quote it if it holds commas). The whole file is read
and checked when the strategy is built: a bad row is a ``ScriptError`` naming the file, line,
column and value.

A row is due when the service clock reaches its ``ts`` (the service asks on its timer and before
each event), rows in time order (equal times: file order). Its signal id is
``sig:scripted:<symbol>:<ts ns>:<line>``; the entry price is the last price the service saw for
the symbol. A stop on the wrong side of that price declines (gate ``stop``); a NO_SIGNAL row
declines with gate ``scripted``.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

from quantrail.strategy.api import ACTIONS, Action, Advice, BaseStrategy, MarketView

HEADER = ("ts", "symbol", "action", "edge_score", "confidence", "stop", "reasoning")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_FRACTION = re.compile(r"(?<=:\d\d)[.,](\d+)")


class ScriptError(ValueError):
    """A bad script file; the message starts ``path: `` and names file, line, column, value."""


@dataclass(frozen=True, slots=True)
class ScriptRow:
    line: int
    ts_ns: int
    symbol: str
    action: Action
    edge_score: int
    confidence: float
    stop: Decimal | None
    reasoning: str

    @property
    def signal_id(self) -> str:
        return f"sig:scripted:{self.symbol}:{self.ts_ns}:{self.line}"


def parse_ts(text: str) -> int:
    """ISO-8601 with a zone, or int nanoseconds UTC, to int nanoseconds UTC (exact)."""
    if text.isdigit():
        return int(text)
    # datetime keeps microseconds only: the fraction is taken apart so nanoseconds stay exact.
    fraction_ns = 0
    if match := _FRACTION.search(text):
        digits = match.group(1)
        if len(digits) > 9:
            raise ValueError("more than nine fractional digits (nanoseconds)")
        fraction_ns = int(digits.ljust(9, "0"))
        text = text[: match.start()] + text[match.end() :]
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError("must carry a zone (Z or +hh:mm) or be int nanoseconds")
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + fraction_ns


def _parse_row(cells: dict[str, str]) -> dict[str, object]:
    """Each column's value, or raise ``_Bad(column, problem)``."""
    values: dict[str, object] = {}
    values["ts"] = _column("ts", cells, parse_ts)
    values["symbol"] = _column("symbol", cells, _symbol)
    action = _column("action", cells, _action)
    values["action"] = action
    values["edge_score"] = _column("edge_score", cells, _edge)
    values["confidence"] = _column("confidence", cells, _confidence)
    values["stop"] = _column("stop", cells, lambda t: _stop(t, required=action != "NO_SIGNAL"))
    return values


class _Bad(Exception):
    def __init__(self, column: str, value: str, problem: str) -> None:
        super().__init__(problem)
        self.column, self.value, self.problem = column, value, problem


def _column(name: str, cells: dict[str, str], parse: object) -> object:
    text = cells.get(name) or ""
    try:
        return parse(text.strip())  # type: ignore[operator]
    except (ValueError, InvalidOperation, OverflowError) as exc:
        raise _Bad(name, text, str(exc) or "not valid") from None


def _symbol(text: str) -> str:
    if not text:
        raise ValueError("must not be empty")
    return text


def _action(text: str) -> str:
    if text not in ACTIONS:
        raise ValueError("must be LONG, SHORT or NO_SIGNAL")
    return text


def _edge(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 100:
        raise ValueError("must be an int in [0, 100]")
    return value


def _confidence(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise ValueError("must be a number in [0, 1]")
    return value


def _stop(text: str, *, required: bool) -> Decimal | None:
    if not text:
        if required:
            raise ValueError("a LONG or SHORT row needs a stop")
        return None
    value = Decimal(text)
    if not value.is_finite() or value <= 0:
        raise ValueError("must be a price > 0")
    return value


def read_script(path: Path) -> list[ScriptRow]:
    """Every row of the script, in time order; ``ScriptError`` at the first bad one."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScriptError(f"path: cannot read {str(path)!r}: {exc.strerror or exc}") from None
    reader = csv.reader(text.splitlines())
    header = tuple(cell.strip() for cell in next(reader, []))
    if header[: len(HEADER) - 1] != HEADER[:-1] or len(header) > len(HEADER):
        raise ScriptError(
            f"path: {path} line 1: the header must be {','.join(HEADER)}, got {','.join(header)!r}"
        )
    rows: list[ScriptRow] = []
    for line, cells in enumerate(reader, start=2):
        if not any(cell.strip() for cell in cells):
            continue  # blank line
        named = dict(zip(HEADER, cells, strict=False))
        try:
            values = _parse_row(named)
        except _Bad as bad:
            raise ScriptError(
                f"path: {path} line {line}, column {bad.column}: {bad.problem}, got {bad.value!r}"
            ) from None
        rows.append(_row(line, values, named.get("reasoning", "")))
    return sorted(rows, key=lambda row: (row.ts_ns, row.line))


def _row(line: int, values: dict[str, object], reasoning: str) -> ScriptRow:
    ts, edge, confidence = values["ts"], values["edge_score"], values["confidence"]
    stop = values["stop"]
    assert isinstance(ts, int) and isinstance(edge, int) and isinstance(confidence, float)
    assert stop is None or isinstance(stop, Decimal)
    action = str(values["action"])
    assert action in ACTIONS
    return ScriptRow(
        line=line, ts_ns=ts, symbol=str(values["symbol"]), action=action,
        edge_score=edge, confidence=confidence, stop=stop, reasoning=reasoning,
    )  # fmt: skip


class Scripted(BaseStrategy):
    model_version = "scripted-1"

    def __init__(self, path: str) -> None:
        if not isinstance(path, str) or not path:
            raise ValueError(f"path: must name a CSV file, got {path!r}")
        self.path = path
        self.rows = read_script(Path(path))
        self._next = 0

    def on_clock(self, now_ns: int, view: MarketView) -> Sequence[Advice]:
        due: list[Advice] = []
        while self._next < len(self.rows) and self.rows[self._next].ts_ns <= now_ns:
            due.append(self._advice(self.rows[self._next], view))
            self._next += 1
        return due

    def next_clock_ns(self) -> int | None:
        """The next row's time: ``on_clock`` has nothing to say before it."""
        return self.rows[self._next].ts_ns if self._next < len(self.rows) else None

    def _advice(self, row: ScriptRow, view: MarketView) -> Advice:
        if row.action == "NO_SIGNAL":
            return Advice(
                symbol=row.symbol, action="NO_SIGNAL", gate_failed="scripted",
                reasoning=row.reasoning, inputs={"line": row.line},
                ts_data_ns=row.ts_ns, signal_id=row.signal_id,
            )  # fmt: skip
        entry = view.last_price(row.symbol)
        assert row.stop is not None
        wrong_side = entry is not None and (
            (row.action == "LONG" and row.stop >= entry)
            or (row.action == "SHORT" and row.stop <= entry)
        )
        if wrong_side:
            return Advice(
                symbol=row.symbol, action="NO_SIGNAL", gate_failed="stop",
                reasoning=f"stop {row.stop} is on the wrong side of the last price {entry}",
                inputs={"line": row.line, "stop": str(row.stop)},
                ts_data_ns=row.ts_ns, signal_id=row.signal_id,
            )  # fmt: skip
        return Advice(
            symbol=row.symbol, action=row.action, edge_score=row.edge_score,
            confidence=row.confidence, stop_price=row.stop, entry_price=entry,
            reasoning=row.reasoning,
                ts_data_ns=row.ts_ns, signal_id=row.signal_id,
        )  # fmt: skip
