"""The evaluation and its audit record, built together; the kernel's state book."""

from __future__ import annotations

from decimal import Decimal

from kit.event_base import ACCOUNT, T0
from kit.kernel import (
    NY,
    SECOND_NS,
    TEST_KEY,
    advisory,
    daily_status,
    kernel_config,
    kernel_state,
)
from kit.market_events import quote
from kit.position_events import position_closed, position_opened
from kit.risk_events import kill_switch_activated, kill_switch_reset, risk_mode_changed
from kit.strategy_events import regime_classified
from kit.system_events import heartbeat
from quantrail.risk.kernel import evaluate
from quantrail.risk.kernel_events import evaluation_events
from quantrail.risk.kernel_state import KernelBook
from quantrail.risk.signing import SigningKeys, approval_message, verify
from quantrail.vocab import Direction, Mode

NOW = T0 + 5 * SECOND_NS


def events_for(stop: str = "9.50", **state: object):  # type: ignore[no-untyped-def]
    signal = advisory(stop_price=stop)
    verdict = evaluate(signal, kernel_state(**state), kernel_config(), NOW)
    return signal, evaluation_events(
        signal, verdict, account=ACCOUNT, key=TEST_KEY, config=kernel_config(), now_ns=NOW
    )


def test_an_approval_is_signed_chained_to_its_signal_and_audited_with_the_same_id() -> None:
    signal, (audit, evaluation) = events_for()
    assert evaluation.evaluation_id == evaluation.idempotency_key == f"eval:{signal.signal_id}"
    assert evaluation.correlation_id == signal.signal_id
    assert evaluation.causation_id == signal.event_id
    assert (evaluation.decision, evaluation.approved_qty, evaluation.requested_qty) == (
        "APPROVED", 2000, 2000
    )  # fmt: skip
    assert evaluation.position_allowed is not None
    assert evaluation.position_allowed.max_qty == 2000
    assert evaluation.position_allowed.max_risk_usd == Decimal("1000")
    assert (evaluation.entry_price, evaluation.stop_price) == (Decimal("10.00"), Decimal("9.50"))
    assert evaluation.risk_amount == Decimal("1000") and evaluation.risk_percent == 1.0
    message = approval_message(
        evaluation_id=evaluation.evaluation_id, account=ACCOUNT, symbol="ACME",
        direction=Direction.LONG, max_qty=2000, ts_ns=NOW,
    )  # fmt: skip
    assert evaluation.key_id == TEST_KEY.key_id
    assert verify(message, evaluation.signature, evaluation.key_id, SigningKeys(TEST_KEY)) is None
    assert audit.decision_id == evaluation.evaluation_id
    assert audit.correlation_id == signal.signal_id
    assert audit.output["decision"] == "APPROVED" and audit.output["approved_qty"] == 2000
    assert audit.input_summary["signal_id"] == signal.signal_id
    assert audit.reasoning.startswith("risk 1.0% of equity 100000")
    assert audit.policy_references


def test_a_modification_says_from_and_to_and_a_veto_is_unsigned_with_every_reason() -> None:
    _signal, (audit, modified) = events_for(stop="9.90")
    assert modified.decision == "MODIFIED"
    assert modified.modifications["qty"] == {"from": 10_000, "to": 2_500}
    assert audit.output["modifications"]["qty"] == {"from": 10_000, "to": 2_500}
    _signal, (audit, vetoed) = events_for(kill_switch_active=True, daily_pnl_pct=-6.0)
    assert vetoed.decision == "VETOED"
    assert vetoed.veto_reason == "KILL_SWITCH_ACTIVE"
    assert vetoed.veto_reasons == ["KILL_SWITCH_ACTIVE", "DAILY_LOSS_LIMIT"]
    assert vetoed.signature == "" and vetoed.key_id == "" and vetoed.position_allowed is None
    assert not vetoed.risk_dimensions.system_integrity_passed
    assert audit.reasoning == "vetoed: KILL_SWITCH_ACTIVE, DAILY_LOSS_LIMIT"


def test_the_book_keeps_what_each_stream_says_per_account() -> None:
    book = KernelBook({ACCOUNT: Decimal("100000")}, NY)
    for event in (
        quote(ts_event=T0 - SECOND_NS),
        daily_status(),
        kill_switch_activated(),
        risk_mode_changed(Mode.THROTTLE_NEW_ORDERS),
        position_opened(position_id="p1"),
        position_opened(position_id="p2"),
        position_closed(position_id="p1"),
        regime_classified(regime="CHAOTIC", ts_event=T0 + SECOND_NS),
        heartbeat("killswitch", ts_event=T0),
    ):
        book.apply(event)
    state = book.snapshot(advisory(), ACCOUNT, NOW)
    assert state.kill_switch_active and state.mode is Mode.THROTTLE_NEW_ORDERS
    assert state.equity == Decimal("99000.00") and state.daily_pnl_pct == -1.0
    assert state.open_positions == 1
    assert state.market_data_ns == T0 - SECOND_NS
    assert state.regime == "CHAOTIC"  # newer than the advisory's TRENDING
    assert state.heartbeats == {"killswitch": T0}
    book.apply(kill_switch_reset())
    assert not book.snapshot(advisory(), ACCOUNT, NOW).kill_switch_active
    book.apply(kill_switch_activated(account=None))  # no account: every account
    assert book.kill_switch_active(ACCOUNT) and book.kill_switch_active("OTHER")


def test_an_old_days_status_is_not_todays_and_approvals_count_once_per_day() -> None:
    book = KernelBook({ACCOUNT: Decimal("100000")}, NY)
    book.apply(daily_status(session_date="2024-03-14", daily_pnl_percent=-9.0))
    state = book.snapshot(advisory(), ACCOUNT, NOW)
    assert state.daily_pnl_pct is None and state.equity == Decimal("100000")
    _signal, (_audit, evaluation) = events_for()
    book.apply(evaluation)
    book.apply(evaluation)  # a catch-up that overlaps: still one
    assert book.snapshot(advisory(), ACCOUNT, NOW).approvals_today == 1
    next_day = NOW + 24 * 3600 * SECOND_NS
    assert book.snapshot(advisory(), ACCOUNT, next_day).approvals_today == 0
    assert not book.snapshot(advisory(), "NOBODY", NOW).account_known
