"""Position accounting: partial fills, average cost, crossing zero, fees, ids, marks."""

from __future__ import annotations

from decimal import Decimal

from kit.event_base import T0
from kit.positions import SECOND, fill
from quantrail.events import PositionClosed, PositionOpened, PositionUpdated
from quantrail.risk.baseline import BaselineRow
from quantrail.strategy.position_state import (
    NO_CONTEXT,
    EntryContext,
    PositionKeeper,
    exit_reason_for,
)
from quantrail.vocab import Bucket, Direction, Side

D = Decimal
STOP = EntryContext(
    request_id="req-1", stop_loss=D("24.50"), strategy="breakout", signal_id="sig-1",
    evaluation_id="eval-1", correlation_id="sig-1",
)  # fmt: skip


def keeper() -> PositionKeeper:
    return PositionKeeper(update_interval_ns=5 * SECOND)


def test_partial_fills_average_the_cost_and_a_full_sale_realizes_by_hand() -> None:
    book = keeper()
    first = fill(qty=100, price="25.00", fill_id="f1", order_qty=300, fees="0.35")
    second = fill(qty=200, price="25.03", fill_id="f2", order_qty=300, cum_qty=300, fees="0.70")
    [opened] = book.apply_fill(first, STOP, "external")
    [update] = book.apply_fill(second, STOP, "external")
    assert isinstance(opened, PositionOpened) and isinstance(update, PositionUpdated)
    assert opened.position_id == "pos:ACC1:ACME:f1" and opened.idempotency_key.endswith(":opened")
    assert (opened.qty, opened.entry_price, opened.stop_loss) == (100, D("25.00"), D("24.50"))
    assert (opened.strategy, opened.signal_id, opened.evaluation_id) == (
        "breakout", "sig-1", "eval-1",
    )  # fmt: skip
    assert opened.request_id == "req-1" and opened.correlation_id == "sig-1"
    # (100 x 25.00 + 200 x 25.03) / 300 = 7506 / 300 = 25.02
    assert (update.qty, update.entry_price) == (300, D("25.02"))
    sale = fill(
        Side.SELL, qty=300, price="25.52", fill_id="f3", fees="1.05", ts_event=T0 + 90 * SECOND
    )
    [closed] = book.apply_fill(sale, NO_CONTEXT, "target")
    assert isinstance(closed, PositionClosed)
    # (25.52 - 25.02) x 300 = 150.00 before fees; fees 0.35 + 0.70 + 1.05 = 2.10
    assert closed.realized_pnl == D("150.00") and closed.fees == D("2.10")
    assert closed.realized_pnl_percent == float(D("150") / D("7506") * 100)
    assert (closed.entry_price, closed.exit_price, closed.qty) == (D("25.02"), D("25.52"), 300)
    assert closed.direction is Direction.LONG and closed.hold_duration_seconds == 90
    assert (
        closed.opened_ns == T0 and closed.strategy == "breakout" and closed.exit_reason == "target"
    )
    assert not book.positions


def test_a_partial_sale_keeps_the_average_and_the_exit_price_averages_the_closing_fills() -> None:
    book = keeper()
    book.apply_fill(fill(qty=200, price="10.00", fill_id="b"), NO_CONTEXT, "")
    [update] = book.apply_fill(fill(Side.SELL, 100, "11.00", "s1"), NO_CONTEXT, "")
    assert isinstance(update, PositionUpdated)
    assert (update.qty, update.entry_price, update.realized_pnl) == (100, D("10.00"), D("100.00"))
    [closed] = book.apply_fill(fill(Side.SELL, 100, "12.00", "s2"), NO_CONTEXT, "external")
    assert isinstance(closed, PositionClosed)
    # 100 x (11 - 10) + 100 x (12 - 10) = 300.00; exit (11 + 12) / 2 = 11.50
    assert (closed.realized_pnl, closed.exit_price, closed.qty) == (D("300.00"), D("11.50"), 200)
    assert closed.realized_pnl_percent == 15.0 and closed.exit_reason == "external"


def test_a_short_realizes_when_bought_back_lower() -> None:
    book = keeper()
    [opened] = book.apply_fill(fill(Side.SELL, 100, "20.00", "s"), NO_CONTEXT, "")
    assert isinstance(opened, PositionOpened) and opened.direction is Direction.SHORT
    [closed] = book.apply_fill(fill(Side.BUY, 100, "19.50", "b"), NO_CONTEXT, "stop")
    assert isinstance(closed, PositionClosed)
    assert (closed.direction, closed.realized_pnl, closed.exit_reason) == (
        Direction.SHORT, D("50.00"), "stop",
    )  # fmt: skip


def test_a_fill_through_zero_closes_and_opens_a_new_position_splitting_the_fee() -> None:
    book = keeper()
    book.apply_fill(fill(qty=100, price="10.00", fill_id="open", fees="0.35"), STOP, "")
    cross = fill(Side.SELL, qty=300, price="11.00", fill_id="cross", fees="1.05")
    closed, reopened = book.apply_fill(cross, NO_CONTEXT, "external")
    assert isinstance(closed, PositionClosed) and isinstance(reopened, PositionOpened)
    # 100 x (11 - 10) = 100.00; the fee 1.05 split 100/300 -> 0.35 closing, 0.70 opening
    assert (closed.qty, closed.realized_pnl, closed.fees) == (100, D("100.00"), D("0.70"))
    assert reopened.position_id == "pos:ACC1:ACME:cross"
    assert (reopened.direction, reopened.qty, reopened.entry_price) == (
        Direction.SHORT, 200, D("11.00"),
    )  # fmt: skip
    assert reopened.stop_loss is None  # the selling order opened it, with no request
    assert book.positions[("ACC1", "ACME")].fees == D("0.70")


def test_a_fill_id_seen_before_changes_nothing() -> None:
    book = keeper()
    book.apply_fill(fill(qty=100, fill_id="f1"), NO_CONTEXT, "")
    assert book.apply_fill(fill(qty=100, fill_id="f1"), NO_CONTEXT, "") == []
    assert book.positions[("ACC1", "ACME")].qty == 100


def test_baseline_positions_open_at_the_prior_close_with_befday_ids() -> None:
    book = keeper()
    rows = [
        BaselineRow("ACME", 500, Bucket.LT, D("25.00")),
        BaselineRow("FLAT", 0, Bucket.LT, D("9.00")),
    ]
    [opened] = book.load_baseline("ACC1", rows, "2024-03-15", T0)
    assert isinstance(opened, PositionOpened)
    assert opened.position_id == "pos:ACC1:ACME:befday:2024-03-15" and opened.stop_loss is None
    [closed] = book.apply_fill(fill(Side.SELL, 500, "24.00", "f"), NO_CONTEXT, "derisk")
    assert isinstance(closed, PositionClosed)
    assert (closed.realized_pnl, closed.exit_reason) == (D("-500.00"), "derisk")


def test_marks_update_at_most_once_per_interval_and_only_when_the_price_moved() -> None:
    book = keeper()
    book.apply_fill(fill(qty=100, price="25.00", fill_id="f"), NO_CONTEXT, "")
    assert book.mark("ACME", D("25.10"), T0 + SECOND) == []  # within 5 s of the fill
    [update] = book.mark("ACME", D("25.20"), T0 + 5 * SECOND)
    assert isinstance(update, PositionUpdated)
    assert (update.current_price, update.unrealized_pnl) == (D("25.20"), D("20.00"))
    assert update.age_seconds == 5 and update.idempotency_key.endswith(f":mark:{T0 + 5 * SECOND}")
    assert book.mark("ACME", D("25.30"), T0 + 6 * SECOND) == []  # held back by the interval
    [late] = book.mark("ACME", D("25.30"), T0 + 10 * SECOND)  # goes out with the next price
    assert isinstance(late, PositionUpdated) and late.current_price == D("25.30")
    assert book.mark("ACME", D("25.30"), T0 + 20 * SECOND) == []  # unchanged
    assert book.mark("OTHER", D("1.00"), T0 + 20 * SECOND) == []


def test_exit_reasons_come_from_the_closing_intent() -> None:
    assert exit_reason_for("exit:trailing:pos:A:B:f:3", False) == "trailing"
    assert exit_reason_for("flatten:ev:ACC1:ACME:100", False) == "kill_switch"
    assert exit_reason_for("0123abcd", True) == "derisk"
    assert exit_reason_for("req:eval:sig", False) == "external"
