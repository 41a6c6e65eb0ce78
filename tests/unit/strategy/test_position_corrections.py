"""A venue's correction of a fill of an open position: the position as if the fill had been
at the corrected price and fee from the start, one update, once."""

from __future__ import annotations

from decimal import Decimal

from kit.order_events import order_fill_corrected
from kit.positions import SECOND, fill
from quantrail.events import PositionUpdated
from quantrail.risk.baseline import BaselineRow
from quantrail.strategy.position_state import NO_CONTEXT, PositionKeeper
from quantrail.vocab import Bucket, Side

D = Decimal


def _three_fills() -> PositionKeeper:
    """Buy 100 @ 25.00 (f1), buy 200 @ 25.03 (f2), sell 100 @ 25.10 (f3): long 200."""
    book = PositionKeeper(update_interval_ns=5 * SECOND)
    for each in (
        fill(qty=100, price="25.00", fill_id="f1", order_qty=300, fees="0.35"),
        fill(qty=200, price="25.03", fill_id="f2", order_qty=300, cum_qty=300, fees="0.70"),
        fill(Side.SELL, qty=100, price="25.10", fill_id="f3", fees="0.35"),
    ):
        book.apply_fill(each, NO_CONTEXT, "external")
    return book


def _correction(fill_id: str, price: str, fee: str, **overrides: object) -> object:
    fields: dict[str, object] = {
        "fill_id": fill_id, "correction_id": f"{fill_id}.02", "fees": fee, "qty": 300,
        "last_qty": 100, "previous_qty": 100, "cum_qty": 300,
    }  # fmt: skip
    return order_fill_corrected(price=price, **(fields | overrides))


def test_a_corrected_opening_fill_replays_the_position_to_the_hand_computed_figures() -> None:
    book = _three_fills()
    [update] = book.apply_correction(_correction("f1", "24.94", "0.50"))  # type: ignore[arg-type]
    assert isinstance(update, PositionUpdated)
    # (100 x 24.94 + 200 x 25.03) / 300 = 25.00; the sale realizes (25.10 - 25.00) x 100 = 10
    assert (update.qty, update.entry_price, update.realized_pnl) == (200, D("25"), D("10.00"))
    assert update.idempotency_key == "pos:ACC1:ACME:f1:correction:f1.02"
    position = book.positions[("ACC1", "ACME")]
    assert position.fees == D("0.50") + D("0.70") + D("0.35")
    assert book.apply_correction(_correction("f1", "24.94", "0.50")) == []  # type: ignore[arg-type]


def test_a_corrected_later_fill_and_a_second_correction_build_on_each_other() -> None:
    book = _three_fills()
    book.apply_correction(_correction("f2", "25.00", "0.70", last_qty=200, previous_qty=200))  # type: ignore[arg-type]
    again = _correction("f2", "24.97", "0.70", last_qty=200, previous_qty=200,
                        correction_id="f2.03")  # fmt: skip
    [update] = book.apply_correction(again)  # type: ignore[arg-type]
    assert isinstance(update, PositionUpdated)
    # (100 x 25.00 + 200 x 24.97) / 300 = 24.98; realized (25.10 - 24.98) x 100 = 12.00
    assert (update.entry_price, update.realized_pnl) == (D("24.98"), D("12.00"))


def test_a_baseline_position_keeps_its_prior_close_and_replays_the_corrected_fill() -> None:
    book = PositionKeeper(update_interval_ns=5 * SECOND)
    book.load_baseline("ACC1", [BaselineRow("ACME", 100, Bucket.LT, D("24.00"))], "2024-03-15", 0)
    book.apply_fill(fill(qty=100, price="25.00", fill_id="f1"), NO_CONTEXT, "external")
    [update] = book.apply_correction(_correction("f1", "26.00", "0", qty=100, cum_qty=100))  # type: ignore[arg-type]
    assert isinstance(update, PositionUpdated)
    assert (update.qty, update.entry_price) == (200, D("25"))  # (24 + 26) / 2


def test_a_quantity_change_or_a_closed_position_is_left_to_the_ledger() -> None:
    book = _three_fills()
    changed = _correction("f1", "25.00", "0.35", last_qty=90, previous_qty=100)
    assert book.apply_correction(changed) == []  # type: ignore[arg-type]
    book.apply_fill(fill(Side.SELL, qty=200, price="25.10", fill_id="f4"), NO_CONTEXT, "x")
    assert book.apply_correction(_correction("f2", "25.00", "0.70", last_qty=200,
                                             previous_qty=200)) == []  # type: ignore[arg-type]  # fmt: skip
