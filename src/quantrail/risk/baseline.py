"""Baseline position files: an account's positions at the start of the day.

CSV with the header ``symbol,qty,bucket,prior_close`` (qty signed: negative = short), or YAML: a
list of mappings with the same keys. The prior close is the mark until the first print. A bad row
stops loading with the file, the line, the column and the value named.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

from quantrail.vocab import Bucket

COLUMNS = ("symbol", "qty", "bucket", "prior_close")


class BaselineFileError(ValueError):
    def __init__(self, path: Path, line: int, column: str, value: Any, reason: str) -> None:
        self.path, self.line, self.column, self.value = path, line, column, value
        super().__init__(f"{path}, line {line}, column {column!r}: {reason} (value: {value!r})")


@dataclass(frozen=True, slots=True)
class BaselineRow:
    symbol: str
    qty: int
    bucket: Bucket
    prior_close: Decimal


def load_baseline(path: str | Path) -> list[BaselineRow]:
    """Rows of a baseline file, CSV or YAML by extension; one row per symbol."""
    file = Path(path)
    if not file.exists():
        raise BaselineFileError(file, 0, "<file>", str(file), "baseline file not found")
    is_yaml = file.suffix.lower() in (".yaml", ".yml")
    rows = _yaml_rows(file) if is_yaml else _csv_rows(file)
    parsed = [_row(file, line, raw) for line, raw in rows]
    seen: set[str] = set()
    for (line, _raw), row in zip(rows, parsed, strict=True):
        if row.symbol in seen:
            raise BaselineFileError(file, line, "symbol", row.symbol, "symbol listed twice")
        seen.add(row.symbol)
    return parsed


def _csv_rows(file: Path) -> list[tuple[int, dict[str, Any]]]:
    with file.open(newline="") as handle:
        reader = csv.DictReader(handle)
        header = tuple(reader.fieldnames or ())
        missing = [c for c in COLUMNS if c not in header]
        if missing:
            raise BaselineFileError(file, 1, missing[0], header, "missing column in the header")
        return [(index + 2, dict(raw)) for index, raw in enumerate(reader)]


def _yaml_rows(file: Path) -> list[tuple[int, dict[str, Any]]]:
    try:
        loaded = yaml.safe_load(file.read_text()) or []
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 0
        raise BaselineFileError(file, line, "<yaml>", str(file), f"not valid YAML: {exc}") from None
    if not isinstance(loaded, list):
        raise BaselineFileError(file, 1, "<root>", type(loaded).__name__, "must be a list of rows")
    rows: list[tuple[int, dict[str, Any]]] = []
    for index, raw in enumerate(loaded, start=1):
        if not isinstance(raw, dict):
            raise BaselineFileError(file, index, "<row>", raw, "each row must be a mapping")
        rows.append((index, raw))
    return rows


def _row(file: Path, line: int, raw: dict[str, Any]) -> BaselineRow:
    def fail(column: str, reason: str) -> BaselineFileError:
        return BaselineFileError(file, line, column, raw.get(column), reason)

    symbol = str(raw.get("symbol") or "").strip()
    if not symbol:
        raise fail("symbol", "symbol is empty")
    try:
        qty = int(str(raw.get("qty")).strip())
    except ValueError:
        raise fail("qty", "qty must be a whole number of shares") from None
    try:
        bucket = Bucket(str(raw.get("bucket")).strip())
    except ValueError:
        raise fail("bucket", f"bucket must be one of {[b.value for b in Bucket]}") from None
    try:
        prior_close = Decimal(str(raw.get("prior_close")).strip())
    except InvalidOperation:
        raise fail("prior_close", "prior_close must be a decimal price") from None
    if not prior_close.is_finite() or prior_close <= 0:
        raise fail("prior_close", "prior_close must be > 0")
    return BaselineRow(symbol, qty, bucket, prior_close)
