"""Lots: the open pieces of a position, each remembering where and at what price it came from.

A BASELINE lot is the overnight position from the BefDay snapshot, priced at the prior close; an
INTRADAY lot is opened by a fill today, priced at that fill. All open lots of a symbol share the
sign of the net position (a fill first closes lots, and only what is left opens a new one).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from decimal import Decimal

from quantrail.vocab import Bucket


class Origin(enum.StrEnum):
    BASELINE = "BASELINE"
    INTRADAY = "INTRADAY"


@dataclass(frozen=True, slots=True)
class Lot:
    """An open lot: ``qty`` signed shares (negative = short) still open at ``price``.

    ``lot_id`` is ``B:<symbol>`` for the baseline lot and ``F:<fill_id>`` for the intraday lot a
    fill opened (a fill opens at most one lot), so ids are stable across restarts.
    """

    lot_id: str
    symbol: str
    origin: Origin
    bucket: Bucket
    qty: int
    price: Decimal
    opened_ts_ns: int

    @property
    def sign(self) -> int:
        return 1 if self.qty > 0 else -1


@dataclass(frozen=True, slots=True)
class LotClose:
    """Part or all of one lot closed by a fill.

    ``realized`` is exact (not rounded): (close - open) x shares, sign flipped for a short lot.
    For a baseline lot ``open_price`` is the prior close, so it measures the baseline reduction.
    """

    lot_id: str
    symbol: str
    origin: Origin
    qty: int
    open_price: Decimal
    close_price: Decimal
    qty_open_before: int
    qty_open_after: int
    realized: Decimal


def baseline_lot_id(symbol: str) -> str:
    return f"B:{symbol}"


def intraday_lot_id(fill_id: str) -> str:
    return f"F:{fill_id}"


def close_lots(lots: list[Lot], qty: int, price: Decimal) -> tuple[list[Lot], list[LotClose]]:
    """Close up to ``qty`` shares against ``lots`` at ``price``.

    ``lots`` are in the order they were opened. Intraday lots go first, oldest first (FIFO),
    then the baseline lot. Returns the lots still
    open (same order) and the closes made. The caller never asks to close more than is open.
    """
    remaining = qty
    closes: list[LotClose] = []
    after: dict[str, Lot] = {}
    for lot in _closing_order(lots):
        if remaining == 0:
            break
        take = min(remaining, abs(lot.qty))
        left = lot.qty - lot.sign * take
        closes.append(_close(lot, take, left, price))
        after[lot.lot_id] = replace(lot, qty=left)
        remaining -= take
    if remaining:
        raise ValueError(f"qty: {qty} shares to close but only {qty - remaining} open")
    still_open = [after.get(lot.lot_id, lot) for lot in lots]
    return [lot for lot in still_open if lot.qty != 0], closes


def _closing_order(lots: list[Lot]) -> list[Lot]:
    # FIFO by booking order (the list order), not by timestamp: venues may stamp out of order.
    intraday = [lot for lot in lots if lot.origin is Origin.INTRADAY]
    baseline = [lot for lot in lots if lot.origin is Origin.BASELINE]
    return intraday + baseline


def _close(lot: Lot, take: int, left: int, price: Decimal) -> LotClose:
    return LotClose(
        lot_id=lot.lot_id,
        symbol=lot.symbol,
        origin=lot.origin,
        qty=take,
        open_price=lot.price,
        close_price=price,
        qty_open_before=lot.qty,
        qty_open_after=left,
        realized=open_pnl(lot.price, price, lot.sign * take),
    )


def open_pnl(open_price: Decimal, price: Decimal, signed_qty: int) -> Decimal:
    """P&L of ``signed_qty`` shares opened at ``open_price`` and valued at ``price``.

    Written without multiplying a zero by a negative number, so no ``-0.00`` reaches a report.
    """
    if signed_qty >= 0:
        return (price - open_price) * signed_qty
    return (open_price - price) * -signed_qty
