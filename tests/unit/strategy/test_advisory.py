"""The advisory desk: advice to events, ids and correlation, positions, the kill switch."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import pytest

from kit.event_base import ACCOUNT, T0
from kit.strategy_chain import (
    MINUTE_NS,
    Exploding,
    candles_from_closes,
    desk,
    issued_signal,
    opened,
    tick,
    trending,
)
from quantrail.events.base import Event
from quantrail.events.market import CandleClosed, PriceTicked
from quantrail.events.position import PositionClosed
from quantrail.events.risk import KillSwitchActivated, KillSwitchReset
from quantrail.events.signals import SignalDeclined, SignalIssued
from quantrail.strategy.api import Advice, BaseStrategy, MarketView

NOW = T0 + 3_600 * 1_000_000_000


def issued(events: Sequence[Event]) -> list[SignalIssued]:
    return [e for e in events if isinstance(e, SignalIssued)]


def test_a_candle_advice_becomes_a_signal_with_the_contracts_ids() -> None:
    advisory = desk(Exploding(), label="boom")
    candle = candles_from_closes(["25.00"])[0]
    [signal] = advisory.on_candle(candle, NOW)
    assert isinstance(signal, SignalIssued)
    signal_id = f"sig:boom:ACME:{candle.start_ns}"
    assert (signal.signal_id, signal.correlation_id, signal.idempotency_key) == (signal_id,) * 3
    assert signal.causation_id == candle.event_id and signal.account == ACCOUNT
    assert signal.execution_power == "NONE" and signal.recommended_action == "LONG"
    assert (signal.stop_price, signal.entry_price) == (Decimal("24.50"), Decimal("25.00"))
    assert (signal.strategy, signal.timeframe, signal.model_version) == ("boom", "1m", "boom-1")
    assert signal.ts_event == signal.ts_data_ns == candle.ts_event
    assert signal.regime == ""  # the detector is still warming up
    # The same candle again (a replay or a redelivery) says nothing.
    assert advisory.on_candle(candle, NOW) == []


def test_the_regime_seen_is_the_one_of_the_candle_being_decided() -> None:
    seen: list[str | None] = []

    class Recorder(BaseStrategy):
        def on_candle(self, candle: CandleClosed, view: MarketView) -> Advice | None:
            reading = view.regime(candle.symbol)
            seen.append(reading.regime if reading else None)
            return None

    advisory = desk(Recorder())
    for candle in candles_from_closes(trending(11)):
        assert advisory.on_candle(candle, NOW) == []
    assert seen == [None] * 9 + ["TRENDING", "TRENDING"]


def test_the_kill_switch_turns_signals_into_declines_until_reset() -> None:
    advisory = desk(Exploding())
    candles = candles_from_closes(["25.00", "25.10", "25.20", "25.30"])
    advisory.take_state(KillSwitchActivated(
        ts_event=T0, account=ACCOUNT, trigger="daily_loss", severity="CRITICAL",
        activated_by="killswitch",
    ))  # fmt: skip
    [declined] = advisory.on_candle(candles[0], NOW)
    assert isinstance(declined, SignalDeclined)
    assert (declined.gate_failed, declined.account) == ("kill_switch", ACCOUNT)
    assert declined.inputs_summary == {"action": "LONG"}
    # Another account's switch does not stop this one; a reset lets signals through again.
    advisory.take_state(KillSwitchReset(ts_event=T0, account=ACCOUNT, reset_by="ann", reason="ok"))
    advisory.take_state(KillSwitchActivated(
        ts_event=T0, account="OTHER", trigger="manual", severity="WARNING", activated_by="ann",
    ))  # fmt: skip
    assert len(issued(advisory.on_candle(candles[1], NOW))) == 1
    # An activation for every account (account None) stops it too.
    advisory.take_state(KillSwitchActivated(
        ts_event=T0, trigger="manual", severity="EMERGENCY", activated_by="ann",
    ))  # fmt: skip
    [declined] = advisory.on_candle(candles[2], NOW)
    assert isinstance(declined, SignalDeclined) and declined.gate_failed == "kill_switch"


def test_positions_of_the_desks_account_are_in_the_view() -> None:
    advisory = desk(Exploding())
    advisory.take_state(opened(200, price="25.00"))
    advisory.take_state(opened(-300, symbol="ZZZ", account="OTHER"))
    held = advisory.view.position("ACME")
    assert held is not None and (held.qty, held.entry_price) == (200, Decimal("25.00"))
    assert advisory.view.position("ZZZ") is None
    position = opened(200)
    advisory.take_state(PositionClosed(
        ts_event=T0, account=ACCOUNT, position_id=position.position_id, symbol="ACME",
        bucket=position.bucket, direction=position.direction, qty=200,
        entry_price=Decimal("25.00"), exit_price=Decimal("25.50"),
        realized_pnl=Decimal("100.00"), realized_pnl_percent=2.0, hold_duration_seconds=60,
    ))  # fmt: skip
    assert advisory.view.position("ACME") is None


def test_only_the_configured_symbols_and_timeframe_are_asked() -> None:
    advisory = desk(Exploding(), symbols=["ACME"], timeframe="1m")
    other = candles_from_closes(["10.00"], symbol="ZZZ")[0]
    five = candles_from_closes(["25.00"], timeframe="5m")[0]
    assert advisory.on_candle(other, NOW) == []
    assert advisory.on_candle(five, NOW) == []
    assert advisory.view.candles("ZZZ") == ()


def test_a_tick_advice_is_keyed_by_the_bucket_it_falls_in() -> None:
    class TickTrader(BaseStrategy):
        def on_tick(self, tick: PriceTicked, view: MarketView) -> Advice | None:
            return Advice(
                symbol=tick.symbol, action="SHORT", edge_score=50, confidence=0.5,
                stop_price=tick.price + 1,
            )  # fmt: skip

    advisory = desk(TickTrader(), label="ticks")
    at = T0 + MINUTE_NS + 5
    [signal] = advisory.on_tick(tick("25.00", ts=at), NOW)
    assert isinstance(signal, SignalIssued)
    assert signal.signal_id == f"sig:ticks:ACME:{T0 + MINUTE_NS}"
    assert signal.entry_price == Decimal("25.00") and signal.ts_data_ns == at
    # A second tick in the same bucket makes the same id: not issued twice.
    assert advisory.on_tick(tick("25.01", ts=at + 1), NOW) == []


def test_ids_already_on_the_stream_are_not_issued_again() -> None:
    advisory = desk(Exploding(), label="boom")
    candle = candles_from_closes(["25.00"])[0]
    previous = desk(Exploding(), label="boom").on_candle(candle, NOW)
    for event in previous:
        advisory.remember(event)
    assert advisory.on_candle(candle, NOW) == []


def test_a_strategy_returning_something_else_is_a_strategy_error() -> None:
    class Wrong(BaseStrategy):
        def on_candle(self, candle: CandleClosed, view: MarketView) -> Advice | None:
            return "LONG"  # type: ignore[return-value]

    with pytest.raises(TypeError, match="strategy returned str"):
        desk(Wrong()).on_candle(candles_from_closes(["25.00"])[0], NOW)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"action": "LONG"}, "stop_price: a LONG advice needs a stop > 0, got None"),
        (
            {"action": "LONG", "stop_price": Decimal(26), "entry_price": Decimal(25)},
            "stop_price: must be below the entry 25 for LONG, got 26",
        ),
        (
            {"action": "SHORT", "stop_price": Decimal(24), "entry_price": Decimal(25)},
            "stop_price: must be above the entry 25 for SHORT, got 24",
        ),
        ({"action": "BUY"}, "action: must be LONG, SHORT or NO_SIGNAL, got 'BUY'"),
        ({"action": "NO_SIGNAL"}, "gate_failed: a NO_SIGNAL advice must name its gate"),
        ({"action": "NO_SIGNAL", "gate_failed": "x", "edge_score": 101}, "edge_score: must be in"),
        ({"action": "NO_SIGNAL", "gate_failed": "x", "confidence": 2.0}, "confidence: must be in"),
    ],
)
def test_advice_refuses_bad_values_naming_the_field(
    fields: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError) as caught:
        Advice(symbol="ACME", **fields)  # type: ignore[arg-type]
    assert str(caught.value).startswith(message)


def test_the_kits_issued_signal_matches_what_the_desk_makes() -> None:
    candle = candles_from_closes(["25.00"])[0]
    [made] = desk(Exploding(), label="boom").on_candle(candle, NOW)
    built = issued_signal(start_ns=candle.start_ns, strategy="boom", entry="25.00", stop="24.50")
    assert isinstance(made, SignalIssued)
    for field in ("signal_id", "correlation_id", "idempotency_key", "ts_event", "ts_data_ns",
                  "account", "stop_price", "entry_price", "strategy", "timeframe"):  # fmt: skip
        assert getattr(made, field) == getattr(built, field), field


class EveryClock(BaseStrategy):
    def on_clock(self, now_ns: int, view: MarketView) -> Sequence[Advice]:
        return ()


def test_the_clock_timer_is_due_never_for_a_no_op_clock_and_always_for_an_own_one() -> None:
    assert desk(BaseStrategy()).next_clock_ns() is None  # BaseStrategy's on_clock does nothing
    assert desk(EveryClock()).next_clock_ns() == 0  # no next_clock_ns: every call


class EveryThirdTick(BaseStrategy):
    """LONG on every third tick it is asked about; raises on a tick at 13.13."""

    model_version = "third-1"

    def __init__(self) -> None:
        self.asked: list[tuple[Decimal, int]] = []  # (price, the view's time)

    def on_tick(self, tick: PriceTicked, view: MarketView) -> Advice | None:
        self.asked.append((tick.price, view.now))
        if tick.price == Decimal("13.13"):
            raise RuntimeError("strategy bug")
        if len(self.asked) % 3:
            return None
        return Advice(
            symbol=tick.symbol, action="LONG", edge_score=70, confidence=0.7,
            stop_price=tick.price - 1, entry_price=tick.price, reasoning="third",
            signal_id=f"sig:third:{tick.ts_event}",
        )  # fmt: skip


def run_of_ticks(*prices: str) -> tuple[list[PriceTicked], list[int]]:
    """Ticks and when each is handled (its release: later than its own time)."""
    ticks = [tick(price, ts=T0 + index) for index, price in enumerate(prices)]
    return ticks, [T0 + 100 + index for index in range(len(prices))]


def test_ticks_taken_in_a_run_ask_the_strategy_once_each_as_one_by_one_would() -> None:
    ticks, times = run_of_ticks("25.00", "25.01", "25.02", "25.03")
    strategy = EveryThirdTick()
    advisory = desk(strategy)
    assert advisory.take_ticks(ticks, times) == 2  # the third tick's answer is advice
    assert strategy.asked == [(t.price, at) for t, at in zip(ticks[:3], times, strict=False)]
    [signal] = issued(advisory.on_tick(ticks[2], times[2]))  # the answer kept: not asked again
    assert len(strategy.asked) == 3
    one_by_one = desk(EveryThirdTick())
    alone = [e for t, at in zip(ticks[:3], times, strict=False) for e in one_by_one.on_tick(t, at)]
    assert [(s.signal_id, s.ts_event, s.causation_id) for s in issued(alone)] == [
        (signal.signal_id, signal.ts_event, signal.causation_id)
    ]


def test_a_tick_the_strategy_raised_on_in_a_run_raises_in_its_handler() -> None:
    ticks, times = run_of_ticks("25.00", "13.13", "25.02")
    strategy = EveryThirdTick()
    advisory = desk(strategy)
    assert advisory.take_ticks(ticks, times) == 1
    with pytest.raises(RuntimeError, match="strategy bug"):
        advisory.on_tick(ticks[1], times[1])
    assert len(strategy.asked) == 2  # asked once about it


def test_a_kept_answer_is_for_its_tick_alone() -> None:
    ticks, times = run_of_ticks("25.00", "25.01", "25.02", "25.03")
    advisory = desk(EveryThirdTick())
    advisory.take_ticks(ticks, times)
    with pytest.raises(RuntimeError, match="came first"):
        advisory.on_tick(ticks[3], times[3])


def test_only_a_strategy_without_a_clock_of_its_own_is_asked_in_runs() -> None:
    class Clocked(EveryThirdTick):
        def on_clock(self, now_ns: int, view: MarketView) -> list[Advice]:
            return []

    assert desk(EveryThirdTick()).takes_ticks_alone()
    assert not desk(Clocked()).takes_ticks_alone()
