"""Rules in the market, session, exposure, position, risk, strategy and audit contracts."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kit.market_events import feature, quote, session_clock
from kit.position_events import (
    exposure_snapshot,
    position_closed,
    position_opened,
    position_updated,
)
from kit.risk_events import kill_switch_activated, kill_switch_reset, risk_evaluation
from kit.strategy_events import exit_decision, regime_classified, signal_issued
from quantrail.vocab import Direction, Phase


def test_quote_keeps_exact_prices() -> None:
    q = quote("ACME", "25.00", "25.02")
    assert q.ask - q.bid == Decimal("0.02")


def test_feature_value_may_be_absent() -> None:
    assert feature(value=None, concentration=None).value is None


def test_session_date_must_be_iso() -> None:
    with pytest.raises(ValueError, match="session_date: must be YYYY-MM-DD, got '03/15/2024'"):
        session_clock(session_date="03/15/2024")


def test_trading_day_needs_open_and_close() -> None:
    with pytest.raises(ValueError, match="open_ns/close_ns: required on a trading day"):
        session_clock(close_ns=None)


def test_non_trading_day_has_no_open_or_close() -> None:
    closed = session_clock(
        phase=Phase.CLOSED,
        is_trading_day=False,
        open_ns=None,
        close_ns=None,
        session_date="2024-03-16",
    )
    assert closed.open_ns is None and closed.phase is Phase.CLOSED


def test_exposure_snapshot_figures_reconcile() -> None:
    snap = exposure_snapshot()
    gross = (snap.long_notional + snap.short_notional) / snap.equity * 100
    assert gross == Decimal(100) and snap.gross_exposure_pct == 100.0
    assert snap.buckets["LT"].current + snap.buckets["MM_PURE"].current == Decimal(1000000)


def test_exposure_snapshot_requires_an_account() -> None:
    with pytest.raises(ValueError, match="account: must not be empty, got ''"):
        exposure_snapshot(account="")


def test_exposure_short_notional_is_a_magnitude() -> None:
    with pytest.raises(ValueError, match="short_notional: must be a positive magnitude, got -5"):
        exposure_snapshot(short_notional="-5")


def test_exposure_buckets_are_known_books() -> None:
    with pytest.raises(ValueError, match="buckets: unknown bucket 'HFT'"):
        exposure_snapshot(buckets={"HFT": exposure_snapshot().buckets["LT"]})


@pytest.mark.parametrize(
    ("qty", "direction"), [(100, Direction.LONG), (-100, Direction.SHORT), (0, Direction.FLAT)]
)
def test_position_state_qty_is_signed(qty: int, direction: Direction) -> None:
    assert position_updated(qty=qty).direction is direction


def test_position_opened_and_closed_need_a_side_and_size() -> None:
    with pytest.raises(ValueError, match="direction: must be LONG or SHORT, got FLAT"):
        position_opened(direction=Direction.FLAT)
    with pytest.raises(ValueError, match="qty: must be > 0 shares"):
        position_closed(qty=-100)


def test_position_closed_pnl_is_exact() -> None:
    closed = position_closed()
    # (25.26 - 25.01) x 100 = 25.00
    assert (closed.exit_price - closed.entry_price) * closed.qty == closed.realized_pnl


def test_veto_needs_a_reason() -> None:
    assert risk_evaluation("VETOED").veto_reason == "daily loss limit"
    with pytest.raises(ValueError, match="veto_reason: required when decision is VETOED"):
        risk_evaluation("VETOED", veto_reason="")


def test_kill_switch_names_who_and_why() -> None:
    assert kill_switch_activated(flatten=True).human_override_required is True
    with pytest.raises(ValueError, match="activated_by: must not be empty"):
        kill_switch_activated(activated_by="")
    with pytest.raises(ValueError, match="reset_by: must name the person, got ''"):
        kill_switch_reset(reset_by="")


def test_scores_stay_in_range() -> None:
    with pytest.raises(ValueError, match=r"confidence: must be in \[0, 1\], got 1.5"):
        regime_classified(confidence=1.5)
    with pytest.raises(ValueError, match=r"edge_score: must be in \[0, 100\], got 101"):
        signal_issued(edge_score=101)


def test_signals_never_have_execution_power() -> None:
    assert signal_issued().execution_power == "NONE"


def test_exit_decisions_carry_what_they_need() -> None:
    assert exit_decision("EXIT_PARTIAL", exit_percent=50.0).exit_percent == 50.0
    with pytest.raises(ValueError, match=r"exit_percent: must be in \(0, 100\] for EXIT_PARTIAL"):
        exit_decision("EXIT_PARTIAL")
    with pytest.raises(ValueError, match="new_stop: required for TIGHTEN_STOP, got None"):
        exit_decision("TIGHTEN_STOP")
    assert exit_decision("TIGHTEN_STOP", new_stop="24.80").new_stop == Decimal("24.80")
