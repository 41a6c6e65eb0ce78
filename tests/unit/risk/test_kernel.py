"""The risk kernel's pure decision: sizing by hand, every veto code, the four dimensions."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from kit.event_base import T0
from kit.kernel import SECOND_NS, advisory, kernel_config, kernel_state
from quantrail.risk.kernel import VetoCode, evaluate, round_lots, size
from quantrail.runtime.clock import SimulatedClock
from quantrail.vocab import Direction, Mode

NOW = T0 + 5 * SECOND_NS


def verdict_of(advisory_overrides: dict[str, Any] | None = None, **state: Any) -> Any:
    return evaluate(advisory(**(advisory_overrides or {})), kernel_state(**state),
                    kernel_config(), NOW)  # fmt: skip


def test_one_percent_of_100k_over_a_50_cent_stop_is_2000_shares_approved() -> None:
    verdict = verdict_of()
    assert verdict.decision == "APPROVED"
    assert verdict.reasons == ()
    assert verdict.sizing.risk_budget == Decimal("1000")
    assert verdict.sizing.risk_per_share == Decimal("0.50")
    assert verdict.sizing.requested_qty == 2000
    assert verdict.approved_qty == 2000
    assert verdict.risk_amount == Decimal("1000")
    assert verdict.risk_percent == 1.0
    assert verdict.direction is Direction.LONG
    assert verdict.modifications == {}


def test_a_10_cent_stop_asks_10000_and_the_25_percent_cap_allows_2500_modified() -> None:
    verdict = verdict_of({"stop_price": "9.90"})
    assert verdict.decision == "MODIFIED"
    assert verdict.sizing.requested_qty == 10_000
    assert verdict.sizing.cap_qty == 2_500  # 25,000 notional at 10.00
    assert verdict.approved_qty == 2_500
    assert verdict.modifications["qty"] == {"from": 10_000, "to": 2_500}
    assert verdict.risk_amount == Decimal("250.00")  # 2,500 x 0.10: what the cut size risks
    assert verdict.risk_percent == 0.25
    assert all(
        (verdict.dimensions.trade_risk_passed, verdict.dimensions.daily_risk_passed,
         verdict.dimensions.drawdown_passed, verdict.dimensions.system_integrity_passed)
    )  # fmt: skip


def test_sizes_round_down_to_lots_and_a_short_stop_sits_above_the_entry() -> None:
    verdict = verdict_of({"stop_price": "10.70", "recommended_action": "SHORT"})
    assert verdict.decision == "APPROVED"
    assert verdict.direction is Direction.SHORT
    assert verdict.sizing.requested_qty == 1_400  # 1,000 / 0.70 = 1,428 -> 14 lots
    assert verdict.risk_amount == Decimal("980.00")
    assert round_lots(3_333, 100) == 3_300
    odd_lot = size(Decimal("100000"), Decimal("10"), Decimal("9.7"), kernel_config(round_lot=1))
    assert odd_lot.requested_qty == 3_333


def test_daily_status_equity_sizes_instead_of_the_start_of_day_equity() -> None:
    verdict = verdict_of(equity=Decimal("50000"))
    assert verdict.approved_qty == 1_000


@pytest.mark.parametrize(
    ("advisory_overrides", "state", "code"),
    [
        ({}, {"kill_switch_active": True}, VetoCode.KILL_SWITCH_ACTIVE),
        ({}, {"mode": Mode.THROTTLE_NEW_ORDERS}, VetoCode.MODE_THROTTLED),
        ({}, {"mode": Mode.SOFT_DERISK}, VetoCode.MODE_THROTTLED),
        ({}, {"mode": Mode.HARD_DERISK}, VetoCode.MODE_THROTTLED),
        ({"ts_data_ns": 0}, {"market_data_ns": None}, VetoCode.STALE_DATA),
        ({"ts_data_ns": 0}, {"market_data_ns": T0 - 200 * SECOND_NS}, VetoCode.STALE_DATA),
        ({"ts_event": T0 - 200 * SECOND_NS}, {}, VetoCode.STALE_DATA),
        ({"regime": "CHAOTIC"}, {"regime": "CHAOTIC"}, VetoCode.REGIME_CHAOTIC),
        ({}, {"account_known": False}, VetoCode.UNKNOWN_ACCOUNT),
        ({}, {"daily_pnl_pct": -5.0}, VetoCode.DAILY_LOSS_LIMIT),
        ({}, {"daily_pnl_pct": -7.5}, VetoCode.DAILY_LOSS_LIMIT),
        ({}, {"approvals_today": 20}, VetoCode.MAX_TRADES_PER_DAY),
        ({}, {"open_positions": 5}, VetoCode.MAX_OPEN_POSITIONS),
        ({}, {"drawdown_pct": 10.5}, VetoCode.MAX_DRAWDOWN),
        ({}, {"drawdown_pct": -10.5}, VetoCode.MAX_DRAWDOWN),
        ({"recommended_action": "NO_SIGNAL"}, {}, VetoCode.NO_SIGNAL),
        ({"edge_score": 49}, {}, VetoCode.EDGE_TOO_LOW),
        ({"confidence": 0.49}, {}, VetoCode.LOW_CONFIDENCE),
        ({"stop_price": None}, {}, VetoCode.NO_STOP),
        ({"entry_price": None}, {}, VetoCode.NO_ENTRY),
        ({"stop_price": "10.00"}, {}, VetoCode.INVALID_STOP),
        ({"stop_price": "10.50"}, {}, VetoCode.INVALID_STOP),
        ({"recommended_action": "SHORT"}, {}, VetoCode.INVALID_STOP),
        # 1,000 / 20.00 = 50 shares: not one round lot within the budget
        ({"entry_price": "500.00", "stop_price": "480.00"}, {}, VetoCode.RISK_PER_TRADE),
        ({"entry_price": "30000.00", "stop_price": "29999.00"}, {}, VetoCode.MAX_POSITION),
        ({}, {"equity": Decimal(0)}, VetoCode.RISK_PER_TRADE),
    ],
)
def test_each_failed_check_vetoes_with_its_code(
    advisory_overrides: dict[str, Any], state: dict[str, Any], code: VetoCode
) -> None:
    verdict = verdict_of(advisory_overrides, **state)
    assert verdict.decision == "VETOED"
    assert code in verdict.reasons
    assert verdict.approved_qty == 0
    assert verdict.risk_amount == 0


def test_every_veto_code_is_produced_by_some_input() -> None:
    inputs: list[tuple[dict[str, Any], dict[str, Any]]] = [
        ({}, {"kill_switch_active": True}), ({}, {"mode": Mode.SOFT_DERISK}),
        ({"ts_data_ns": 0}, {"market_data_ns": None}), ({"regime": "CHAOTIC"}, {}),
        ({}, {"account_known": False}), ({}, {"daily_pnl_pct": -6.0}),
        ({}, {"approvals_today": 99}), ({}, {"open_positions": 9}), ({}, {"drawdown_pct": 20.0}),
        ({"recommended_action": "NO_SIGNAL"}, {}), ({"symbol": "ZZZ"}, {}),
        ({"edge_score": 1}, {}), ({"confidence": 0.1}, {}), ({"stop_price": None}, {}),
        ({"entry_price": None}, {}), ({"stop_price": "11"}, {}),
        ({"entry_price": "500", "stop_price": "480"}, {}),
        ({"entry_price": "30000", "stop_price": "29999"}, {}),
    ]  # fmt: skip
    config = kernel_config(symbols=["ACME"], depends_on=["killswitch"])
    seen: set[VetoCode] = set()
    for advisory_overrides, state in inputs:
        seen.update(evaluate(advisory(**advisory_overrides), kernel_state(**state), config,
                             NOW).reasons)  # fmt: skip
    assert seen == set(VetoCode)


def test_a_missing_stop_is_a_veto_never_a_crash_and_reports_the_trade_dimension() -> None:
    verdict = verdict_of({"stop_price": None, "entry_price": None})
    assert verdict.reasons == (VetoCode.NO_STOP, VetoCode.NO_ENTRY)
    assert not verdict.dimensions.trade_risk_passed
    assert verdict.dimensions.system_integrity_passed
    assert verdict.dimensions.daily_risk_passed and verdict.dimensions.drawdown_passed


def test_reasons_list_system_integrity_first_and_mark_each_failed_dimension() -> None:
    verdict = verdict_of(
        {"edge_score": 10}, kill_switch_active=True, daily_pnl_pct=-6.0, drawdown_pct=12.0
    )
    assert verdict.reasons == (
        VetoCode.KILL_SWITCH_ACTIVE, VetoCode.DAILY_LOSS_LIMIT, VetoCode.MAX_DRAWDOWN,
        VetoCode.EDGE_TOO_LOW,
    )  # fmt: skip
    dims = verdict.dimensions
    assert not any((dims.trade_risk_passed, dims.daily_risk_passed, dims.drawdown_passed,
                    dims.system_integrity_passed))  # fmt: skip


def test_limits_are_inclusive_where_the_brief_says_so() -> None:
    assert verdict_of(daily_pnl_pct=-4.99).decision == "APPROVED"
    assert verdict_of(drawdown_pct=10.0).decision == "APPROVED"
    assert verdict_of(approvals_today=19).decision == "APPROVED"
    assert verdict_of(open_positions=4).decision == "APPROVED"
    assert verdict_of({"edge_score": 50, "confidence": 0.5}).decision == "APPROVED"


def test_heartbeats_of_the_depended_on_services_must_be_recent() -> None:
    config = kernel_config(depends_on=["killswitch", "positions"], heartbeat_timeout_s=90)
    fresh = {"killswitch": NOW - 10 * SECOND_NS, "positions": NOW - 89 * SECOND_NS}
    assert evaluate(advisory(), kernel_state(heartbeats=fresh), config, NOW).reasons == ()
    old = {**fresh, "positions": NOW - 91 * SECOND_NS}
    vetoed = evaluate(advisory(), kernel_state(heartbeats=old), config, NOW)
    assert vetoed.reasons == (VetoCode.SERVICE_DOWN,)
    missing = evaluate(advisory(), kernel_state(heartbeats={"killswitch": NOW}), config, NOW)
    assert missing.reasons == (VetoCode.SERVICE_DOWN,)


def test_in_a_replay_at_60x_data_and_heartbeat_ages_count_in_wall_seconds() -> None:
    at_60x = SimulatedClock(0, speed=60).wall_seconds
    config = kernel_config(depends_on=["positions"], heartbeat_timeout_s=90, max_data_age_s=120)
    # 600 replayed seconds behind (data, advisory, heartbeat) is 10 s of wall time: fresh.
    late = NOW - 600 * SECOND_NS
    signal = advisory(ts_event=late, ts_data_ns=late)
    lagging = kernel_state(market_data_ns=late, heartbeats={"positions": late})
    verdict = evaluate(signal, lagging, config, NOW, wall_s=at_60x)
    assert verdict.reasons == ()
    assert verdict.inputs["market_data_age_s"] == 10.0  # the audit shows the age compared
    exact = evaluate(signal, lagging, config, NOW)  # the same spans on an exact clock
    assert exact.reasons == (VetoCode.STALE_DATA, VetoCode.SERVICE_DOWN)
    # A feed and a service that really stopped: over 120 s / 90 s of wall time.
    gone = kernel_state(market_data_ns=NOW - 121 * 60 * SECOND_NS,
                        heartbeats={"positions": NOW - 91 * 60 * SECOND_NS})  # fmt: skip
    stopped = evaluate(advisory(ts_data_ns=0), gone, config, NOW, wall_s=at_60x)
    assert stopped.reasons == (VetoCode.STALE_DATA, VetoCode.SERVICE_DOWN)


def test_a_chaotic_regime_passes_for_a_strategy_that_trades_chaos() -> None:
    state = kernel_state(regime="CHAOTIC")
    assert evaluate(advisory(), state, kernel_config(), NOW, trades_chaos=True).reasons == ()


def test_an_unannounced_mode_passes_unless_the_config_requires_one() -> None:
    assert verdict_of(mode=None).decision == "APPROVED"
    assert verdict_of(mode=Mode.NORMAL).decision == "APPROVED"
    required = evaluate(advisory(), kernel_state(), kernel_config(require_mode=True), NOW)
    assert required.reasons == (VetoCode.MODE_THROTTLED,)


def test_the_advisorys_own_data_time_counts_as_market_data() -> None:
    assert verdict_of({"ts_data_ns": T0}, market_data_ns=None).decision == "APPROVED"
    future = verdict_of({"ts_event": NOW + SECOND_NS})  # a clock a little ahead: age 0
    assert future.decision == "APPROVED"
