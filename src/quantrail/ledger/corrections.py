"""Fill corrections (pure): a venue restating an execution it reported before.

A correction *replaces* the fill's quantity, price and fee (IB documents a correction as a new
execId revision of the same execution; ``docs/ibkr.md``); the fill keeps its id, account,
time, symbol, side and bucket. The ledger stores each correction as its own row beside the fill
it corrects (``fill_corrections``: history is never rewritten) and books the day as if the
fill had been made at the corrected values from the start: the day's fills are replayed with
the latest correction of each (``effective_fills``), so positions, lots, realized P&L of later
closes, fees and classes all come out as the venue now says they are.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from quantrail.events.orders import OrderFillCorrected
from quantrail.ledger.books import Fill, LedgerInputError


class UnknownFillError(LedgerInputError):
    """A correction of a fill the ledger never booked (its fill event was lost or refused)."""


@dataclass(frozen=True, slots=True)
class FillCorrection:
    """The venue's correction ``correction_id`` of fill ``fill_id``: now ``qty`` at ``price``
    with ``fee``. ``ts_ns`` is when the correction was reported (not the fill's time)."""

    correction_id: str
    fill_id: str
    account: str
    ts_ns: int
    qty: int
    price: Decimal
    fee: Decimal

    def __post_init__(self) -> None:
        where = f"correction {self.correction_id!r}"
        for name in ("correction_id", "fill_id", "account"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value or value.split() != [value]:
                raise LedgerInputError(
                    f"{where}: {name} must be a non-empty word (value: {value!r})"
                )
        if self.correction_id == self.fill_id:
            raise LedgerInputError(
                f"{where}: must differ from the fill id (value: {self.fill_id!r})"
            )

    def applied_to(self, fill: Fill) -> Fill:
        """The fill as corrected (checked like any fill: shares, price, fee against notional)."""
        if fill.fill_id != self.fill_id or fill.account != self.account:
            raise LedgerInputError(
                f"correction {self.correction_id!r}: corrects {self.account}/{self.fill_id}, "
                f"not {fill.account}/{fill.fill_id} (value: {fill.fill_id!r})"
            )
        return dataclasses.replace(fill, qty=self.qty, price=self.price, fee=self.fee)


def effective_fills(
    fills: Sequence[Fill], corrections: Iterable[FillCorrection]
) -> list[tuple[Fill, Fill]]:
    """Each fill as received with the fill as booked now: its latest correction applied
    (``corrections`` in the order they were stored; each replaces the one before)."""
    latest = {correction.fill_id: correction for correction in corrections}
    out: list[tuple[Fill, Fill]] = []
    for fill in fills:
        correction = latest.get(fill.fill_id)
        out.append((fill, fill if correction is None else correction.applied_to(fill)))
    return out


def correction_from_event(event: OrderFillCorrected) -> FillCorrection:
    """The ledger's ``FillCorrection`` for a corrected-fill event."""
    if not event.account:
        raise LedgerInputError(
            f"correction {event.correction_id!r}: account must name the account "
            f"(value: {event.account!r})"
        )
    return FillCorrection(
        correction_id=event.correction_id,
        fill_id=event.fill_id,
        account=event.account,
        ts_ns=event.ts_event,
        qty=event.last_qty,
        price=event.last_price,
        fee=event.fees,
    )
