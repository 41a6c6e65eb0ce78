"""Event builders for tests: one function per commonly used event, with sensible defaults.

Every builder takes ``**overrides`` for any field. Money fields accept ``"25.01"`` strings (or
ints) as well as Decimals, so tests read like the numbers they check. The defaults describe one
coherent story: account ``ACC1`` buys 100 ACME in the LT book at 25.01 on 2024-03-15.
"""

from __future__ import annotations

import types
from decimal import Decimal
from functools import cache
from typing import Any, TypeVar, Union, get_args, get_origin

import msgspec

from quantrail.events import (
    ALL_EVENTS,
    AlertTriggered,
    BucketExposure,
    CancelOrder,
    CandleClosed,
    DecisionAudited,
    Event,
    ExitDecisionMade,
    ExposureSnapshot,
    FeatureComputed,
    GroupExposure,
    HealthHeartbeat,
    IntentCreated,
    KillSwitchActivated,
    KillSwitchReset,
    OrderAccepted,
    OrderCanceled,
    OrderDenied,
    OrderExpired,
    OrderFilled,
    OrderPartiallyFilled,
    OrderPendingCancel,
    OrderPendingReplace,
    OrderRejected,
    OrderReplaced,
    OrderSubmitted,
    OrderWorking,
    PositionAllowance,
    PositionClosed,
    PositionOpened,
    PositionUpdated,
    PriceTicked,
    QuoteUpdated,
    RegimeClassified,
    ReplaceOrder,
    RiskDailyStatusUpdated,
    RiskDimensions,
    RiskEvaluationCompleted,
    RiskModeChanged,
    SessionClockTicked,
    SignalDeclined,
    SignalIssued,
    StopTriggered,
    SubmitOrder,
    TradePrinted,
    VolatilitySpiked,
)
from quantrail.money import to_money
from quantrail.vocab import Bucket, Direction, Mode, OrderType, Phase, Side

T0 = 1_710_509_400_000_000_000
"""2024-03-15 13:30:00 UTC (09:30 New York, the open): the default ``ts_event``."""
SESSION_CLOSE_NS = 1_710_532_800_000_000_000
"""2024-03-15 20:00:00 UTC (16:00 New York, the close)."""
ACCOUNT = "ACC1"
SYMBOL = "ACME"
PRICE = "25.01"

MoneyLike = Decimal | str | int
S = TypeVar("S", bound=msgspec.Struct)


def build(struct_type: type[S], defaults: dict[str, Any], overrides: dict[str, Any]) -> S:
    """``struct_type(**defaults | overrides)`` with money strings turned into Decimals."""
    values = {**defaults, **overrides}
    money = _money_fields(struct_type)
    for name, value in values.items():
        if name in money and isinstance(value, str | int) and not isinstance(value, bool):
            values[name] = to_money(value)
    return struct_type(**values)


@cache
def _money_fields(struct_type: type[msgspec.Struct]) -> frozenset[str]:
    return frozenset(
        field.name for field in msgspec.structs.fields(struct_type) if _is_money(field.type)
    )


def _is_money(annotation: Any) -> bool:
    if annotation is Decimal:
        return True
    if get_origin(annotation) in (Union, types.UnionType):
        return Decimal in get_args(annotation)
    return False


def _event(**overrides: Any) -> dict[str, Any]:
    return {"ts_event": T0, "source": "test", **overrides}


# --- market data -----------------------------------------------------------------------------


def quote(
    symbol: str = SYMBOL, bid: MoneyLike = "25.00", ask: MoneyLike = "25.02", **overrides: Any
) -> QuoteUpdated:
    defaults = _event(symbol=symbol, bid=bid, ask=ask, bid_size=500, ask_size=300, venue="NSDQ")
    return build(QuoteUpdated, defaults, overrides)


def trade_print(
    symbol: str = SYMBOL, price: MoneyLike = PRICE, size: int = 100, **overrides: Any
) -> TradePrinted:
    defaults = _event(symbol=symbol, price=price, size=size, venue="NSDQ", ts_exchange_ns=T0)
    return build(TradePrinted, defaults, overrides)


def candle(symbol: str = SYMBOL, **overrides: Any) -> CandleClosed:
    defaults = _event(
        symbol=symbol,
        timeframe="1m",
        start_ns=T0,
        open="25.00",
        high="25.05",
        low="24.98",
        close=PRICE,
        volume=12_300,
    )
    return build(CandleClosed, defaults, overrides)


def price_tick(symbol: str = SYMBOL, price: MoneyLike = PRICE, **overrides: Any) -> PriceTicked:
    return build(PriceTicked, _event(symbol=symbol, price=price), overrides)


def feature(
    symbol: str = SYMBOL, name: str = "GRPAN", value: MoneyLike | None = PRICE, **overrides: Any
) -> FeatureComputed:
    defaults = _event(symbol=symbol, name=name, value=value, concentration=0.62, window=15)
    return build(FeatureComputed, defaults, overrides)


# --- session, exposure, positions ------------------------------------------------------------


def session_clock(
    phase: Phase = Phase.MID, minutes_to_close: float = 180.0, **overrides: Any
) -> SessionClockTicked:
    defaults = _event(
        exchange="XNYS",
        session_date="2024-03-15",
        phase=phase,
        is_trading_day=True,
        open_ns=T0,
        close_ns=SESSION_CLOSE_NS,
        minutes_since_open=390.0 - minutes_to_close,
        minutes_to_close=minutes_to_close,
    )
    return build(SessionClockTicked, defaults, overrides)


def bucket_exposure(**overrides: Any) -> BucketExposure:
    """The LT book at 80% of 1,000,000 equity: on target, 90% max."""
    defaults: dict[str, Any] = {
        "current": "800000",
        "current_pct": 80.0,
        "potential": "850000",
        "potential_pct": 85.0,
        "target": "800000",
        "target_pct": 80.0,
        "max": "900000",
        "max_pct": 90.0,
    }
    return build(BucketExposure, defaults, overrides)


def exposure_snapshot(**overrides: Any) -> ExposureSnapshot:
    """1,000,000 equity, 800,000 long + 200,000 short: 100% gross, 60% net."""
    defaults = _event(
        account=ACCOUNT,
        equity="1000000",
        long_notional="800000",
        short_notional="200000",
        gross_exposure_pct=100.0,
        long_gross_pct=80.0,
        short_gross_pct=20.0,
        net_exposure_pct=60.0,
        potential_gross_pct=105.0,
        buckets={
            "LT": bucket_exposure(),
            "MM_PURE": bucket_exposure(
                current=Decimal(200000),
                current_pct=20.0,
                potential=Decimal(200000),
                potential_pct=20.0,
                target=Decimal(200000),
                target_pct=20.0,
                max=Decimal(300000),
                max_pct=30.0,
            ),
        },
        group_exposure={
            "banks": GroupExposure(
                long_notional=Decimal(300000), short_notional=Decimal(50000), gross_pct=35.0
            )
        },
        open_orders_potential="50000",
        open_orders_potential_pct=5.0,
        prices_as_of_ns=T0,
    )
    return build(ExposureSnapshot, defaults, overrides)


def position_updated(qty: int = 100, **overrides: Any) -> PositionUpdated:
    """100 ACME long at 25.01 marked at 25.11: +10.00 unrealized (0.3998%)."""
    defaults = _event(
        account=ACCOUNT,
        position_id="pos-1",
        symbol=SYMBOL,
        bucket=Bucket.LT,
        qty=qty,
        entry_price=PRICE,
        current_price="25.11",
        unrealized_pnl="10.00",
        unrealized_pnl_percent=0.3998,
    )
    return build(PositionUpdated, defaults, overrides)


def position_opened(**overrides: Any) -> PositionOpened:
    defaults = _event(
        account=ACCOUNT,
        position_id="pos-1",
        symbol=SYMBOL,
        bucket=Bucket.LT,
        direction=Direction.LONG,
        qty=100,
        entry_price=PRICE,
    )
    return build(PositionOpened, defaults, overrides)


def position_closed(**overrides: Any) -> PositionClosed:
    """100 ACME bought at 25.01 and sold at 25.26: +25.00 realized (0.9996%)."""
    defaults = _event(
        account=ACCOUNT,
        position_id="pos-1",
        symbol=SYMBOL,
        bucket=Bucket.LT,
        direction=Direction.LONG,
        qty=100,
        entry_price=PRICE,
        exit_price="25.26",
        realized_pnl="25.00",
        realized_pnl_percent=0.9996,
        hold_duration_seconds=600,
        exit_reason="target",
    )
    return build(PositionClosed, defaults, overrides)


# --- intents and requests --------------------------------------------------------------------


def intent(side: Side = Side.BUY, qty: int = 100, **overrides: Any) -> IntentCreated:
    defaults = _event(
        account=ACCOUNT,
        intent_id="int-1",
        symbol=SYMBOL,
        side=side,
        qty=qty,
        order_type=OrderType.LIMIT,
        limit_price=PRICE,
        bucket=Bucket.LT,
        mode=Mode.NORMAL,
        reason="test",
    )
    return build(IntentCreated, defaults, overrides)


def submit_order(side: Side = Side.BUY, qty: int = 100, **overrides: Any) -> SubmitOrder:
    defaults = _event(
        account=ACCOUNT,
        request_id="req-1",
        evaluation_id="eval-1",
        intent_id="int-1",
        symbol=SYMBOL,
        side=side,
        qty=qty,
        order_type=OrderType.LIMIT,
        limit_price=PRICE,
        bucket=Bucket.LT,
    )
    return build(SubmitOrder, defaults, overrides)


def cancel_order(order_id: str = "ord-1", **overrides: Any) -> CancelOrder:
    return build(CancelOrder, _event(order_id=order_id, reason="test"), overrides)


def replace_order(order_id: str = "ord-1", **overrides: Any) -> ReplaceOrder:
    defaults = _event(order_id=order_id, qty=100, limit_price="25.02", reason="re-price")
    return build(ReplaceOrder, defaults, overrides)


# --- order lifecycle -------------------------------------------------------------------------


def order_fields(**overrides: Any) -> dict[str, Any]:
    """The common order fields (envelope included) of the default order ``ord-1``."""
    fields = _event(
        account=ACCOUNT,
        order_id="ord-1",
        client_order_id="cl-1",
        intent_id="int-1",
        request_id="req-1",
        symbol=SYMBOL,
        side=Side.BUY,
        qty=100,
        order_type=OrderType.LIMIT,
        limit_price=to_money(PRICE),
        bucket=Bucket.LT,
        venue="SIM",
        venue_order_id="v-1",
    )
    return {**fields, **overrides}


def order_submitted(**overrides: Any) -> OrderSubmitted:
    return build(OrderSubmitted, order_fields(), overrides)


def order_accepted(**overrides: Any) -> OrderAccepted:
    return build(OrderAccepted, order_fields(), overrides)


def order_working(**overrides: Any) -> OrderWorking:
    return build(OrderWorking, order_fields(), overrides)


def order_partially_filled(
    qty: int = 100,
    last_qty: int = 40,
    price: MoneyLike = PRICE,
    cum_qty: int | None = None,
    **overrides: Any,
) -> OrderPartiallyFilled:
    """One execution of ``last_qty``; ``cum_qty`` defaults to it (the first fill)."""
    cum = last_qty if cum_qty is None else cum_qty
    fill = {
        "qty": qty,
        "limit_price": price,
        "fill_id": "fill-1",
        "last_qty": last_qty,
        "last_price": price,
        "cum_qty": cum,
        "leaves_qty": qty - cum,
        "avg_price": price,
        "liquidity": "MAKER",
    }
    return build(OrderPartiallyFilled, order_fields(**fill), overrides)


def order_filled(qty: int = 100, price: MoneyLike = PRICE, **overrides: Any) -> OrderFilled:
    """The whole order in one execution at ``price`` (override cum/leaves for a last fill)."""
    fill = {
        "qty": qty,
        "limit_price": price,
        "fill_id": "fill-1",
        "last_qty": qty,
        "last_price": price,
        "cum_qty": qty,
        "leaves_qty": 0,
        "avg_price": price,
        "liquidity": "MAKER",
    }
    return build(OrderFilled, order_fields(**fill), overrides)


def order_canceled(**overrides: Any) -> OrderCanceled:
    return build(OrderCanceled, order_fields(reason="test"), overrides)


def order_rejected(**overrides: Any) -> OrderRejected:
    defaults = order_fields(reason="insufficient buying power", reason_code="201")
    return build(OrderRejected, defaults, overrides)


def order_denied(**overrides: Any) -> OrderDenied:
    defaults = order_fields(reason="kill switch active", reason_code="KILL_SWITCH")
    return build(OrderDenied, defaults, overrides)


def order_expired(**overrides: Any) -> OrderExpired:
    return build(OrderExpired, order_fields(), overrides)


def order_pending_cancel(**overrides: Any) -> OrderPendingCancel:
    return build(OrderPendingCancel, order_fields(), overrides)


def order_pending_replace(**overrides: Any) -> OrderPendingReplace:
    return build(OrderPendingReplace, order_fields(), overrides)


def order_replaced(**overrides: Any) -> OrderReplaced:
    defaults = order_fields(
        old_order_id="ord-1", new_order_id="ord-2", new_qty=100, new_limit_price="25.02"
    )
    return build(OrderReplaced, defaults, overrides)


# --- risk ------------------------------------------------------------------------------------


def risk_dimensions(passed: bool = True, **overrides: Any) -> RiskDimensions:
    defaults: dict[str, Any] = {
        "trade_risk_passed": passed,
        "daily_risk_passed": passed,
        "drawdown_passed": passed,
        "system_integrity_passed": passed,
    }
    return build(RiskDimensions, defaults, overrides)


def risk_evaluation(decision: str = "APPROVED", **overrides: Any) -> RiskEvaluationCompleted:
    defaults = _event(
        account=ACCOUNT,
        evaluation_id="eval-1",
        intent_id="int-1",
        decision=decision,
        veto_reason="" if decision != "VETOED" else "daily loss limit",
        risk_dimensions=risk_dimensions(decision != "VETOED"),
        position_allowed=PositionAllowance(
            symbol=SYMBOL, direction=Direction.LONG, max_qty=400, max_risk_usd=Decimal("500.00")
        ),
    )
    return build(RiskEvaluationCompleted, defaults, overrides)


def risk_mode_changed(
    mode: Mode = Mode.SOFT_DERISK, previous_mode: Mode = Mode.NORMAL, **overrides: Any
) -> RiskModeChanged:
    defaults = _event(
        account=ACCOUNT,
        previous_mode=previous_mode,
        mode=mode,
        reason="LATE phase and gross 115% over tolerance",
        target_gross_pct=100.0,
        inputs={"gross_exposure_pct": 115.0, "minutes_to_close": 14.0},
    )
    return build(RiskModeChanged, defaults, overrides)


def risk_daily_status(**overrides: Any) -> RiskDailyStatusUpdated:
    defaults = _event(
        account=ACCOUNT,
        session_date="2024-03-15",
        daily_pnl_percent=-1.25,
        daily_pnl_usd="-12500.00",
        open_positions=12,
        total_exposure_percent=100.0,
        drawdown_from_hwm=1.25,
        risk_budget_remaining=3.75,
    )
    return build(RiskDailyStatusUpdated, defaults, overrides)


def kill_switch_activated(**overrides: Any) -> KillSwitchActivated:
    defaults = _event(
        account=ACCOUNT,
        trigger="daily_loss_exceeded",
        trigger_value=-5.2,
        threshold=-5.0,
        severity="CRITICAL",
        action_taken="cancel all working orders",
        activated_by="risk_kernel",
    )
    return build(KillSwitchActivated, defaults, overrides)


def kill_switch_reset(**overrides: Any) -> KillSwitchReset:
    defaults = _event(account=ACCOUNT, reset_by="jane.doe", reason="loss reviewed")
    return build(KillSwitchReset, defaults, overrides)


# --- strategy, system, audit -----------------------------------------------------------------


def regime_classified(symbol: str = SYMBOL, **overrides: Any) -> RegimeClassified:
    defaults = _event(
        symbol=symbol, regime="TRENDING", confidence=0.8, previous_regime="RANGING", changed=True
    )
    return build(RegimeClassified, defaults, overrides)


def volatility_spiked(symbol: str = SYMBOL, **overrides: Any) -> VolatilitySpiked:
    defaults = _event(
        symbol=symbol, current_volatility=0.05, baseline_volatility=0.02, spike_ratio=2.5
    )
    return build(VolatilitySpiked, defaults, overrides)


def signal_issued(symbol: str = SYMBOL, **overrides: Any) -> SignalIssued:
    defaults = _event(
        signal_id="sig-1",
        symbol=symbol,
        edge_score=72,
        confidence=0.7,
        regime_fit=True,
        regime="TRENDING",
        recommended_action="LONG",
        reasoning="trend continuation",
        model_version="v1",
    )
    return build(SignalIssued, defaults, overrides)


def signal_declined(**overrides: Any) -> SignalDeclined:
    defaults = _event(
        reason="regime chaotic", gate_failed="regime_gate", inputs_summary={"regime": "CHAOTIC"}
    )
    return build(SignalDeclined, defaults, overrides)


def exit_decision(decision: str = "EXIT_FULL", **overrides: Any) -> ExitDecisionMade:
    defaults = _event(
        account=ACCOUNT,
        position_id="pos-1",
        symbol=SYMBOL,
        decision=decision,
        reason="time_exit",
        priority="HIGH",
    )
    return build(ExitDecisionMade, defaults, overrides)


def stop_triggered(**overrides: Any) -> StopTriggered:
    defaults = _event(
        account=ACCOUNT,
        position_id="pos-1",
        symbol=SYMBOL,
        trigger_price="24.49",
        stop_price="24.50",
    )
    return build(StopTriggered, defaults, overrides)


def heartbeat(service: str = "test-service", **overrides: Any) -> HealthHeartbeat:
    return build(HealthHeartbeat, _event(service=service, uptime_seconds=30), overrides)


def alert(**overrides: Any) -> AlertTriggered:
    defaults = _event(alert_id="alert-1", severity="WARNING", message="test alert")
    return build(AlertTriggered, defaults, overrides)


def decision_audited(**overrides: Any) -> DecisionAudited:
    defaults = _event(
        decision_id="dec-1",
        service="risk_kernel",
        decision_type="evaluation",
        input_summary={"gross_exposure_pct": 100.0},
        output={"decision": "APPROVED"},
        reasoning="within limits",
        policy_references=["GOVERNANCE.md#gross-cap"],
    )
    return build(DecisionAudited, defaults, overrides)


# --- every kind ------------------------------------------------------------------------------


def one_of_each() -> list[Event]:
    """One default event of every kind in the catalog, in catalog order."""
    events: list[Event] = [
        quote(),
        trade_print(),
        candle(),
        price_tick(),
        feature(),
        session_clock(),
        exposure_snapshot(),
        position_updated(),
        position_opened(),
        position_closed(),
        intent(),
        submit_order(),
        cancel_order(),
        replace_order(),
        order_submitted(),
        order_accepted(),
        order_working(),
        order_partially_filled(),
        order_filled(),
        order_canceled(),
        order_rejected(),
        order_replaced(),
        order_denied(),
        order_expired(),
        order_pending_cancel(),
        order_pending_replace(),
        risk_evaluation(),
        risk_mode_changed(),
        risk_daily_status(),
        kill_switch_activated(),
        kill_switch_reset(),
        regime_classified(),
        volatility_spiked(),
        signal_issued(),
        signal_declined(),
        exit_decision(),
        stop_triggered(),
        heartbeat(),
        alert(),
        decision_audited(),
    ]
    missing = {t.__name__ for t in ALL_EVENTS} - {type(e).__name__ for e in events}
    assert not missing, f"one_of_each lacks builders for {sorted(missing)}"
    return events
