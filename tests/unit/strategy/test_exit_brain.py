"""The exit brain: every exit reason, one exit order at a time, the kill switch, the rebuild."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from kit.event_base import T0
from kit.market_events import price_tick
from kit.order_events import order_fields
from kit.position_events import position_closed, position_updated
from kit.positions import POSITION, SECOND, brain, fill, opened_with_stop
from kit.risk_events import kill_switch_activated, kill_switch_reset, risk_mode_changed
from kit.strategy_events import regime_classified, volatility_spiked
from quantrail.events import (
    AlertTriggered,
    Event,
    ExitDecisionMade,
    IntentCreated,
    OrderDenied,
    StopTriggered,
)
from quantrail.strategy.config import ExitBrainConfig
from quantrail.strategy.exit_brain import ANY_PRICE, ExitBrain
from quantrail.vocab import Mode, OrderType, Side

D = Decimal


def at(exits: ExitBrain, price: str, seconds: int = 10) -> list[Event]:
    tick = price_tick(price=price, ts_event=T0 + seconds * SECOND)
    return exits.on_price("ACME", D(price), tick.ts_event, tick)


def only(events: list[Event], kind: type[Any]) -> list[Any]:
    return [event for event in events if isinstance(event, kind)]


def opened(exits: ExitBrain, **overrides: Any) -> ExitBrain:
    exits.on_position(opened_with_stop(**overrides))
    return exits


def test_a_stop_hit_triggers_a_reduce_only_market_exit() -> None:
    exits = opened(brain())
    assert at(exits, "24.51") == []
    events = at(exits, "24.50")
    [made] = only(events, ExitDecisionMade)
    [stop] = only(events, StopTriggered)
    [intent] = only(events, IntentCreated)
    assert (made.decision, made.reason, made.priority) == ("EXIT_FULL", "stop", "URGENT")
    assert (stop.trigger_price, stop.stop_price) == (D("24.50"), D("24.50"))
    assert intent.intent_id == f"exit:stop:{POSITION}:1" and intent.reduce_only
    assert (intent.side, intent.qty, intent.order_type) == (Side.SELL, 100, OrderType.MARKET)
    assert (intent.position_id, intent.stop_price, intent.urgency) == (
        POSITION, D("24.50"), "URGENT",
    )  # fmt: skip
    assert intent.correlation_id == "sig-1" and intent.mode is Mode.NORMAL
    assert made.idempotency_key == f"{intent.intent_id}:decision"


def test_one_exit_order_at_a_time_and_a_new_one_after_it_ended_unfilled() -> None:
    exits = opened(brain())
    [intent] = only(at(exits, "24.40"), IntentCreated)
    assert at(exits, "24.30", 11) == []  # the first one works
    exits.on_order(denied(intent.intent_id, 12))
    again = only(at(exits, "24.60", 13), IntentCreated)  # committed: even back above the stop
    assert [i.intent_id for i in again] == [f"exit:stop:{POSITION}:2"]


def test_after_max_exit_orders_it_alerts_once_and_sends_no_more() -> None:
    exits = opened(brain(max_exit_orders=2))
    for second in (10, 20):
        [intent] = only(at(exits, "24.40", second), IntentCreated)
        exits.on_order(denied(intent.intent_id, second + 1))
    [alert] = at(exits, "24.40", 30)
    assert isinstance(alert, AlertTriggered) and alert.severity == "CRITICAL"
    assert POSITION in alert.message and at(exits, "24.40", 40) == []


def test_a_filled_exit_waits_for_position_state_before_anything_else() -> None:
    exits = opened(brain())
    [intent] = only(at(exits, "24.40"), IntentCreated)
    sold = fill(Side.SELL, 60, "24.40", "x1", intent_id=intent.intent_id, ts_event=T0 + 20 * SECOND)
    exits.on_order(sold)
    assert at(exits, "24.30", 21) == []  # position.state has not shown the fill yet
    exits.on_position(position_updated(qty=40, position_id=POSITION, ts_event=T0 + 20 * SECOND))
    [rest] = only(at(exits, "24.30", 22), IntentCreated)
    assert (rest.intent_id, rest.qty) == (f"exit:stop:{POSITION}:2", 40)
    exits.on_position(position_closed(position_id=POSITION))
    assert exits.positions == {}


def test_the_target_at_r_multiples_of_the_initial_risk() -> None:
    exits = opened(brain(target_r=2.0))
    assert at(exits, "25.99") == []  # 25.00 + 2 x 0.50 = 26.00
    [made] = only(at(exits, "26.00"), ExitDecisionMade)
    assert (made.decision, made.reason, made.priority) == ("EXIT_FULL", "target", "HIGH")


def test_a_partial_target_sells_its_share_once() -> None:
    exits = opened(brain(target_r=1.0, target_exit_pct=50.0))
    events = at(exits, "25.50")
    [made], [intent] = only(events, ExitDecisionMade), only(events, IntentCreated)
    assert (made.decision, made.exit_percent, intent.qty) == ("EXIT_PARTIAL", 50.0, 50)


def test_a_trailing_stop_tightens_as_price_moves_in_favour_then_exits_as_trailing() -> None:
    exits = opened(brain(trailing_stop_pct=1.0))
    assert at(exits, "24.90") == []  # not in favour yet
    [tighten] = at(exits, "26.00")
    assert isinstance(tighten, ExitDecisionMade)
    assert (tighten.decision, tighten.new_stop, tighten.reason) == (
        "TIGHTEN_STOP", D("25.74"), "trailing",
    )  # fmt: skip
    assert at(exits, "25.80") == []  # above the new stop, the best stays 26.00
    events = at(exits, "25.74")
    [made], [stop] = only(events, ExitDecisionMade), only(events, StopTriggered)
    assert (made.reason, stop.stop_price) == ("trailing", D("25.74"))
    assert only(events, IntentCreated)[0].intent_id.startswith("exit:trailing:")


def test_a_short_stop_is_above_and_its_exit_buys() -> None:
    exits = opened(brain(), qty=-100, stop="25.50")
    [intent] = only(at(exits, "25.51"), IntentCreated)
    assert (intent.side, intent.qty) == (Side.BUY, 100)


def test_time_exit_after_max_hold_minutes() -> None:
    exits = opened(brain(max_hold_minutes=30.0))
    assert exits.on_time(T0 + 30 * 60 * SECOND - 1) == []
    [made] = only(exits.on_time(T0 + 30 * 60 * SECOND), ExitDecisionMade)
    assert (made.reason, made.priority) == ("time_exit", "MEDIUM")


def test_the_timer_is_due_at_the_first_time_exit_and_never_without_one() -> None:
    assert brain(max_hold_minutes=30.0).next_timed_ns() is None  # nothing held
    assert opened(brain(max_hold_minutes=None)).next_timed_ns() is None  # no time exit
    assert opened(brain(max_hold_minutes=30.0)).next_timed_ns() == T0 + 30 * 60 * SECOND


def test_the_timer_is_due_when_an_exit_that_ended_unfilled_may_go_again() -> None:
    exits = opened(brain(max_hold_minutes=None, retry_after_s=5, max_exit_orders=2))
    [intent] = only(at(exits, "24.40"), IntentCreated)
    exits.on_order(denied(intent.intent_id, 12))  # committed to the stop exit, none working
    assert exits.next_timed_ns() == T0 + 17 * SECOND
    assert exits.on_time(T0 + 17 * SECOND - 1) == []
    [again] = only(exits.on_time(T0 + 17 * SECOND), IntentCreated)
    exits.on_order(denied(again.intent_id, 18))
    assert exits.next_timed_ns() == T0 + 23 * SECOND  # then it gives up: an alert
    assert only(exits.on_time(T0 + 23 * SECOND), AlertTriggered)
    assert exits.next_timed_ns() is None  # given up: a person's turn


def test_a_quiet_band_holds_exactly_the_prices_that_decide_nothing() -> None:
    assert brain().quiet_band("ACME") is ANY_PRICE  # nothing held
    for price, quiet in (("24.50", False), ("24.51", True), ("25.99", True), ("26.00", False)):
        exits = opened(brain(target_r=2.0))  # long at 25.00, stop 24.50: the target is 26.00
        band = exits.quiet_band("ACME")
        assert band is not None and (band.low, band.high, band.until_ns) == (
            D("24.50"), D("26.00"), None,
        )  # fmt: skip
        assert band.holds(D(price), T0) is quiet
        assert (at(exits, price) == []) is quiet


def test_an_exit_that_ended_unfilled_is_quiet_at_any_price_until_its_retry() -> None:
    exits = opened(brain(retry_after_s=5))
    [intent] = only(at(exits, "24.40"), IntentCreated)
    assert exits.quiet_band("ACME") is ANY_PRICE  # its order works: no price decides
    exits.on_order(denied(intent.intent_id, 12))
    band = exits.quiet_band("ACME")
    assert band is not None and (band.low, band.high, band.until_ns) == (
        None, None, T0 + 17 * SECOND,
    )  # fmt: skip
    assert band.holds(D("1.00"), T0 + 17 * SECOND - 1)
    assert not band.holds(D("1.00"), T0 + 17 * SECOND)
    assert at(exits, "30.00", 16) == [] and only(at(exits, "30.00", 17), IntentCreated)


def test_a_trailing_stop_has_no_quiet_band() -> None:
    assert opened(brain(trailing_stop_pct=1.0)).quiet_band("ACME") is None


def test_regime_exit_when_the_regime_changes_away_from_the_entry_one_or_turns_chaotic() -> None:
    exits = brain(regime_exit=True)
    exits.on_regime(regime_classified(regime="TRENDING", ts_event=T0 - SECOND))
    opened(exits)
    assert exits.on_regime(regime_classified(regime="TRENDING", changed=False)) == []
    [made] = only(exits.on_regime(regime_classified(regime="RANGING")), ExitDecisionMade)
    assert made.reason == "regime_exit"
    chaotic = opened(brain(regime_exit=True))
    event = regime_classified(regime="CHAOTIC", changed=False)
    assert only(chaotic.on_regime(event), IntentCreated)[0].reason == "regime_exit"


def test_volatility_exit_on_a_spike() -> None:
    exits = opened(brain(volatility_exit=True))
    [made] = only(exits.on_spike(volatility_spiked()), ExitDecisionMade)
    assert made.reason == "volatility_exit"
    assert opened(brain()).on_spike(volatility_spiked()) == []  # off by default for these rules


def test_scripted_gets_only_the_stop_and_the_kill_switch() -> None:
    exits = ExitBrain(ExitBrainConfig())
    exits.on_position(opened_with_stop(strategy="scripted"))
    assert at(exits, "30.00") == [] and exits.on_spike(volatility_spiked()) == []
    assert exits.on_time(T0 + 10 * 3600 * SECOND) == []
    assert only(at(exits, "24.00"), ExitDecisionMade)[0].reason == "stop"


def test_exits_carry_the_accounts_latest_mode_and_the_configured_order_type() -> None:
    exits = opened(brain(order_type=OrderType.LIMIT))
    exits.on_mode(risk_mode_changed(mode=Mode.HARD_DERISK))
    [intent] = only(at(exits, "24.40"), IntentCreated)
    assert (intent.mode, intent.order_type, intent.limit_price) == (
        Mode.HARD_DERISK, OrderType.LIMIT, D("24.40"),
    )  # fmt: skip


def test_the_kill_switch_records_exit_full_per_position_and_sends_no_order() -> None:
    exits = opened(brain())
    exits.on_position(opened_with_stop(position_id="pos:ACC1:ACME:befday", stop=None))
    events = exits.on_kill(kill_switch_activated(flatten=True))
    assert all(isinstance(e, ExitDecisionMade) for e in events)
    assert sorted((e.position_id, e.reason) for e in events) == [
        ("pos:ACC1:ACME:befday", "kill_switch"), (POSITION, "kill_switch"),
    ]  # fmt: skip
    assert at(exits, "20.00") == []  # execution flattens; no order of ours
    exits.on_kill(kill_switch_reset())
    assert only(at(exits, "20.00", 11), IntentCreated)


def test_a_kill_switch_without_flatten_leaves_the_stops_working() -> None:
    exits = opened(brain())
    assert exits.on_kill(kill_switch_activated(flatten=False)) == []
    assert only(at(exits, "24.00"), IntentCreated)


def test_rebuilt_from_its_decisions_and_intents_it_keeps_the_tightened_stop_and_the_count() -> None:
    first = opened(brain(trailing_stop_pct=1.0))
    tighten = at(first, "26.00")
    [*_, intent] = at(first, "25.70")
    later = opened(brain(trailing_stop_pct=1.0))
    for event in tighten:
        assert isinstance(event, ExitDecisionMade)
        later.on_decision(event)
    assert isinstance(intent, IntentCreated)
    later.on_intent(intent)
    assert at(later, "25.00", 30) == []  # its exit order works
    later.on_order(denied(intent.intent_id, 31))
    [again] = only(at(later, "25.73", 32), IntentCreated)
    assert again.intent_id == f"exit:trailing:{POSITION}:2"


def denied(intent_id: str, seconds: int) -> OrderDenied:
    """Execution refused the exit order of ``intent_id``."""
    fields = order_fields(intent_id=intent_id, side=Side.SELL, ts_event=T0 + seconds * SECOND)
    return OrderDenied(**{**fields, "reason": "refused", "reason_code": "TEST"})
