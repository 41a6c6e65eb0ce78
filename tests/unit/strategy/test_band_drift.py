"""LT band drift controller: expected sizes and prices are worked out by hand in the comments.

Book used throughout (equity $1,000,000, LT target 80%, band 5 -> in band from 75% to 85%):

    CCC  short -2000 @ 40.00  notional 80,000   bid 39.95  ask 40.05
    BBB  long   3000 @ 20.00  notional 60,000   bid 19.99  ask 20.01
    AAA  long   1000 @ 50.00  notional 50,000   bid 49.98  ask 50.02
    DDD  long    100 @ 10.00  notional  1,000   bid  9.99  ask 10.01
"""

from __future__ import annotations

import hashlib
import re
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import msgspec
import pytest

from quantrail.runtime.clock import NS_PER_SECOND
from quantrail.strategy.band_drift import (
    BandDriftConfig,
    BandDriftController,
    CorrectiveIntent,
    DriftReason,
    LtPosition,
)
from quantrail.vocab import Bucket, Mode, OrderType, Side, TimeInForce

T0 = 1_710_510_000 * NS_PER_SECOND  # 2024-03-15 13:40 UTC
DAY = date(2024, 3, 15)
EQUITY = Decimal(1_000_000)
TARGET = Decimal(80)


def position(symbol: str, qty: int, price: str, bid: str, ask: str) -> LtPosition:
    return LtPosition(
        symbol=symbol, qty=qty, price=Decimal(price), bid=Decimal(bid), ask=Decimal(ask)
    )


BOOK = [
    position("AAA", 1_000, "50.00", "49.98", "50.02"),
    position("BBB", 3_000, "20.00", "19.99", "20.01"),
    position("CCC", -2_000, "40.00", "39.95", "40.05"),
    position("DDD", 100, "10.00", "9.99", "10.01"),
]


def controller(**config: object) -> BandDriftController:
    return BandDriftController(msgspec.convert(config, BandDriftConfig, strict=False), "HAMMER")


def run(
    drift: BandDriftController,
    current: str,
    *,
    mode: Mode = Mode.NORMAL,
    book: list[LtPosition] = BOOK,
    at: int = T0,
    cycle: int = 1,
) -> list[CorrectiveIntent]:
    return drift.evaluate(
        mode, Decimal(current), TARGET, EQUITY, book, at, trading_date=DAY, cycle=cycle
    )


def orders(intents: list[CorrectiveIntent]) -> list[tuple[str, Side, int, Decimal]]:
    return [(i.symbol, i.side, i.qty, i.limit_price) for i in intents]


@pytest.mark.parametrize("current", ["80", "85", "75", "84.99", "76.5"])
def test_inside_the_band_or_on_its_edge_gives_nothing(current: str) -> None:
    assert run(controller(), current) == []


def test_above_the_band_reduces_the_largest_lt_positions_passively() -> None:
    # 87% is 2 points above the band: $20,000 to reduce. Largest first: CCC, BBB, AAA.
    # CCC: buy back 200 (step) at the bid 39.95 -> $7,990, $12,010 left.
    # BBB: sell 200 at the ask 20.01 -> $4,002, $8,008 left.
    # AAA: sell 200 at the ask 50.02 -> $10,004; three intents is the cycle's limit anyway.
    intents = run(controller(), "87")
    assert orders(intents) == [
        ("CCC", Side.BUY, 200, Decimal("39.95")),
        ("BBB", Side.SELL, 200, Decimal("20.01")),
        ("AAA", Side.SELL, 200, Decimal("50.02")),
    ]
    assert all(i.reduce_only for i in intents)
    assert {i.reason for i in intents} == {DriftReason.LT_ABOVE_BAND}
    assert sum(i.notional for i in intents) == Decimal("21996.00")


def test_intents_are_passive_lt_day_limits_with_their_context() -> None:
    first = run(controller(), "87")[0]
    assert first.bucket is Bucket.LT
    assert first.order_type is OrderType.LIMIT
    assert first.tif is TimeInForce.DAY
    assert first.account == "HAMMER"
    assert (first.ts_ns, first.cycle, first.trading_date) == (T0, 1, DAY)
    assert (first.lt_current_pct, first.lt_target_pct) == (Decimal(87), TARGET)


def test_a_cycle_stops_once_the_gap_back_to_the_band_is_covered() -> None:
    # 85.5% is half a point out: $5,000. CCC: ceil(5000 / 39.95) = 126 -> 200 in lots,
    # $7,990 covers it, so BBB and AAA get nothing.
    assert orders(run(controller(), "85.5")) == [("CCC", Side.BUY, 200, Decimal("39.95"))]


def test_the_last_intent_is_sized_to_the_gap_in_whole_lots() -> None:
    # step 500, gap $5,000: CCC ceil(5000 / 39.95) = 126 -> 200 (not the 500 step).
    assert run(controller(step_qty=500), "85.5")[0].qty == 200


def test_max_notional_per_intent_caps_the_size() -> None:
    # $5,000 / 39.95 = 125.2 -> 125 -> 100 in lots; BBB $5,000 / 20.01 = 249.9 -> 200.
    intents = run(controller(max_notional_per_intent=5_000, max_intents_per_cycle=2), "87")
    assert orders(intents) == [
        ("CCC", Side.BUY, 100, Decimal("39.95")),
        ("BBB", Side.SELL, 200, Decimal("20.01")),
    ]


def test_below_the_band_buys_existing_longs_at_the_bid() -> None:
    # 73% is 2 points below: $20,000 to add, longs only (the CCC short is left alone).
    # BBB 200 @ 19.99 = $3,998; AAA 200 @ 49.98 = $9,996; DDD 200 @ 9.99 = $1,998.
    intents = run(controller(), "73")
    assert orders(intents) == [
        ("BBB", Side.BUY, 200, Decimal("19.99")),
        ("AAA", Side.BUY, 200, Decimal("49.98")),
        ("DDD", Side.BUY, 200, Decimal("9.99")),
    ]
    assert not any(i.reduce_only for i in intents)
    assert {i.reason for i in intents} == {DriftReason.LT_BELOW_BAND}


def test_price_offset_moves_further_from_the_other_side() -> None:
    above = run(controller(price_offset="0.01", max_intents_per_cycle=2), "87")
    assert [i.limit_price for i in above] == [Decimal("39.94"), Decimal("20.02")]
    below = run(controller(price_offset="0.01", max_intents_per_cycle=1), "73")
    assert [i.limit_price for i in below] == [Decimal("19.98")]


@pytest.mark.parametrize("mode", [Mode.THROTTLE_NEW_ORDERS, Mode.SOFT_DERISK, Mode.HARD_DERISK])
def test_only_normal_mode_acts(mode: Mode) -> None:
    drift = controller()
    assert run(drift, "87", mode=mode) == []
    assert run(drift, "73", mode=mode) == []
    assert drift.last_intent_ns("CCC") is None


def test_stops_when_back_inside_the_band() -> None:
    drift = controller(min_interval_s=0)
    assert len(run(drift, "87", cycle=1)) == 3
    assert run(drift, "84.9", at=T0 + NS_PER_SECOND, cycle=2) == []


def test_a_symbol_waits_min_interval_after_its_last_intent() -> None:
    drift = controller(min_interval_s=60)
    run(drift, "87", cycle=1)
    # Within 60 s only DDD (not used in cycle 1) may act: a 100-share long sells all 100.
    soon = run(drift, "87", at=T0 + 60 * NS_PER_SECOND - 1, cycle=2)
    assert orders(soon) == [("DDD", Side.SELL, 100, Decimal("10.01"))]
    later = run(drift, "87", at=T0 + 60 * NS_PER_SECOND, cycle=3)
    assert [i.symbol for i in later] == ["CCC", "BBB", "AAA"]


def test_a_reduction_never_goes_through_zero_and_skips_an_odd_lot() -> None:
    book = [position("EEE", 150, "10.00", "9.99", "10.01"), position("FFF", 60, "90", "89", "91")]
    # EEE: 150 long sells at most 100 (whole lots); FFF: 60 shares is less than a lot.
    assert orders(run(controller(), "87", book=book)) == [("EEE", Side.SELL, 100, Decimal("10.01"))]


def test_a_locked_or_crossed_quote_is_skipped() -> None:
    book = [
        position("AAA", 1_000, "50.00", "50.02", "50.02"),
        position("BBB", 3_000, "20.00", "20.02", "20.01"),
        position("DDD", 100, "10.00", "9.99", "10.01"),
    ]
    assert [i.symbol for i in run(controller(), "73", book=book)] == ["DDD"]


def test_ids_and_keys_are_deterministic_hashes_of_account_date_cycle_symbol() -> None:
    first = run(controller(), "87", cycle=7)
    again = run(controller(), "87", cycle=7)
    assert first == again
    digest = hashlib.sha256(b'["lt_band_drift","HAMMER","2024-03-15",7,"CCC"]').hexdigest()
    assert first[0].intent_id == digest[:32]
    assert first[0].idempotency_key == f"lt_band_drift:{digest}"
    other_cycle = run(controller(), "87", cycle=8)
    assert {i.intent_id for i in first}.isdisjoint(i.intent_id for i in other_cycle)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"band_pct": 4.9}, "band_pct: must be within 5..10 (value: 4.9)"),
        ({"band_pct": 10.5}, "band_pct: must be within 5..10 (value: 10.5)"),
        ({"step_qty": 50}, "step_qty: must be within 100..500"),
        ({"step_qty": 600}, "step_qty: must be within 100..500"),
        ({"step_qty": 250}, "step_qty: must be within 100..500 and a multiple of round_lot 100"),
        ({"max_intents_per_cycle": 0}, "max_intents_per_cycle: must be >= 1 (value: 0)"),
        ({"max_notional_per_intent": 0}, "max_notional_per_intent: must be > 0"),
        ({"price_offset": "0.005"}, "price_offset: must be >= 0 in whole cents"),
        ({"price_offset": "-0.01"}, "price_offset: must be >= 0 in whole cents"),
        ({"min_interval_s": -1}, "min_interval_s: must be a finite number >= 0"),
    ],
)
def test_bad_config_names_the_field_and_value(config: dict[str, object], message: str) -> None:
    with pytest.raises(msgspec.ValidationError, match="^" + re.escape(message)):
        msgspec.convert(config, BandDriftConfig, strict=False)


def test_band_pct_accepts_the_range_ends() -> None:
    assert controller(band_pct=10).config.band_pct == Decimal(10)
    assert run(controller(band_pct=10), "89.99") == []


def test_float_percentages_are_refused() -> None:
    as_float: Any = 87.0  # what a careless caller might pass
    with pytest.raises(ValueError, match=r"^lt_current_pct: must be a Decimal, not float"):
        controller().evaluate(
            Mode.NORMAL, as_float, TARGET, EQUITY, BOOK, T0, trading_date=DAY, cycle=1
        )


def test_bad_inputs_name_the_field() -> None:
    drift = controller()
    with pytest.raises(ValueError, match=r"^equity: must be > 0 \(value: 0\)"):
        drift.evaluate(
            Mode.NORMAL, Decimal(87), TARGET, Decimal(0), BOOK, T0, trading_date=DAY, cycle=1
        )
    with pytest.raises(ValueError, match=r"^lt_positions: symbol listed twice \(value: 'AAA'\)"):
        run(drift, "87", book=[BOOK[0], BOOK[0]])
    with pytest.raises(ValueError, match=r"^trading_date: must be a date"):
        drift.evaluate(
            Mode.NORMAL,
            Decimal(87),
            TARGET,
            EQUITY,
            BOOK,
            T0,
            trading_date=datetime(2024, 3, 15, 13, 40),
            cycle=1,
        )
    with pytest.raises(ValueError, match=r"^bid: must be > 0 for ZZZ \(value: 0\)"):
        position("ZZZ", 100, "1", "0", "1")


def test_the_config_is_off_unless_enabled() -> None:
    assert BandDriftConfig().enabled is False
    assert msgspec.convert({"enabled": True}, BandDriftConfig).enabled is True
    with pytest.raises(ValueError, match=r"^enabled: must be true or false \(value: 'yes'\)"):
        BandDriftConfig(enabled="yes")  # type: ignore[arg-type]


def test_evaluate_without_record_plans_again_until_noted() -> None:
    drift = controller(min_interval_s=60)

    def plan() -> list[CorrectiveIntent]:
        return drift.evaluate(
            Mode.NORMAL, Decimal(87), TARGET, EQUITY, BOOK, T0, trading_date=DAY, cycle=1,
            record=False,
        )  # fmt: skip

    planned = plan()
    assert [i.symbol for i in planned] == ["CCC", "BBB", "AAA"]
    assert drift.last_intent_ns("CCC") is None
    assert plan() == planned  # nothing remembered: the same intents, the same keys
    for intent in planned:
        drift.note(intent.symbol, T0)
    drift.note("CCC", T0 - 5)  # an older intent never moves the time back
    assert drift.last_intent_ns("CCC") == T0
    assert orders(run(drift, "87", at=T0 + 1, cycle=2)) == [
        ("DDD", Side.SELL, 100, Decimal("10.01"))
    ]
