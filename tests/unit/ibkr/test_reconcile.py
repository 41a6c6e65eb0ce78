"""Reconciliation with IB, pure: what to book, adopt, close, resend and raise."""

from __future__ import annotations

from decimal import Decimal

from quantrail.ibkr.reconcile import IbExecution, IbOpenOrder, OurOrder, reconcile


def ours(order_id: str, acknowledged: bool = True, qty: int = 100, filled: int = 0,
         fill_ids: frozenset[str] = frozenset()) -> OurOrder:  # fmt: skip
    return OurOrder(order_id, acknowledged, qty, filled, fill_ids)


def open_at_ib(order_ref: str, ib_order_id: int = 7) -> IbOpenOrder:
    return IbOpenOrder(order_ref, ib_order_id, "AAPL", "BUY", 100, "Submitted")


def executed(exec_id: str, order_ref: str, shares: int = 100, ib_order_id: int = 7) -> IbExecution:
    return IbExecution(
        exec_id, order_ref, ib_order_id, "DU1", "AAPL", "BOT", shares, Decimal("10.00"),
        Decimal("1.00"), 0,
    )  # fmt: skip


def test_a_fill_made_while_we_were_away_is_booked_once() -> None:
    result = reconcile(
        [ours("O1", filled=0)], [], [executed("E1", "O1"), executed("E1", "O1")],
    )  # fmt: skip
    assert [e.exec_id for e in result.fills] == ["E1"]
    assert result.gone == [] and result.unsent == []


def test_a_fill_we_already_have_is_not_booked_again() -> None:
    result = reconcile(
        [ours("O1", filled=100, fill_ids=frozenset({"E1"}))], [], [executed("E1", "O1")]
    )
    assert result.fills == [] and result.clean


def test_an_order_sent_before_a_crash_that_ib_has_is_adopted_not_resent() -> None:
    result = reconcile([ours("O1", acknowledged=False)], [open_at_ib("O1", 42)], [])
    assert result.accepted == [("O1", 42)]
    assert result.unsent == []


def test_an_order_ib_never_received_may_be_sent_again() -> None:
    result = reconcile([ours("O1", acknowledged=False)], [], [])
    assert result.unsent == ["O1"]


def test_an_unacknowledged_order_that_executed_is_adopted_and_its_fill_booked() -> None:
    result = reconcile([ours("O1", acknowledged=False)], [], [executed("E1", "O1", ib_order_id=9)])
    assert result.accepted == [("O1", 9)]
    assert [e.exec_id for e in result.fills] == ["E1"]
    assert result.unsent == [] and result.gone == []


def test_a_working_order_ib_no_longer_has_is_closed_unless_fully_filled() -> None:
    result = reconcile([ours("O1", qty=100), ours("O2", qty=100)], [], [executed("E2", "O2", 100)])
    assert result.gone == ["O1"]


def test_orders_and_fills_that_are_not_ours_are_external() -> None:
    result = reconcile([], [open_at_ib("by-hand", 0)], [executed("E9", "")])
    assert [o.order_ref for o in result.external_orders] == ["by-hand"]
    assert [e.exec_id for e in result.external_fills] == ["E9"]


def test_position_mismatches_name_account_symbol_and_both_figures() -> None:
    result = reconcile(
        [], [], [], {("DU1", "AAPL"): 300}, {("DU1", "AAPL"): 200, ("DU1", "MSFT"): 5}
    )
    assert result.position_mismatches == [("DU1", "AAPL", 300, 200), ("DU1", "MSFT", 0, 5)]


def test_a_corrected_execution_counts_once_at_its_latest_revision() -> None:
    """O1 (500) executed 300 as E.01, which IB corrected as E.02: 300 filled, not 600, so the
    order IB no longer works is closed; both revisions go to the venue (it books E.02 as a
    correction of E.01)."""
    result = reconcile(
        [ours("O1", qty=500)], [], [executed("E.01", "O1", 300), executed("E.02", "O1", 300)]
    )
    assert [e.exec_id for e in result.fills] == ["E.01", "E.02"]
    assert result.gone == ["O1"]
