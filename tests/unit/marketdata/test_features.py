"""The features engine: truth ticks and GRPAN as they change, throttled in exchange time."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kit.features import WINDOW_15, CalculatorReference, calculator_values
from kit.marketdata import T0_NS, prints_at, prt
from quantrail.marketdata.features import (
    GRPAN,
    TRUTH_TICK,
    FeatureEngine,
    FeatureSettings,
    FeatureUpdate,
    key_position,
)
from quantrail.marketdata.grpan import GrpanValue
from quantrail.marketdata.synthetic import SyntheticMarket, default_universe
from quantrail.marketdata.types import Print

S = 1_000_000_000
EVERY_CHANGE = FeatureSettings(min_interval_ns=0)


def run(engine: FeatureEngine, prints: list[Print]) -> list[FeatureUpdate]:
    return [update for print_ in prints for update in engine.on_print(print_)]


def test_worked_example_ends_on_the_calculators_grpan() -> None:
    updates = run(FeatureEngine(EVERY_CHANGE), prints_at(WINDOW_15))
    last_grpan = [u for u in updates if u.name == GRPAN][-1]
    assert isinstance(last_grpan.value, GrpanValue)
    assert (last_grpan.value.price, last_grpan.value.concentration) == (
        Decimal("25.02"),
        Decimal("0.4800"),
    )
    assert last_grpan.at_ns == T0_NS + 14 * S and last_grpan.value.ticks_used == 15
    ticks = [u.value for u in updates if u.name == TRUTH_TICK]
    assert ticks == prints_at(WINDOW_15)  # every one differs from the one before


def test_every_update_equals_the_calculators_on_the_same_prints() -> None:
    prints = prints_at(WINDOW_15) + prints_at([("25.05", 50), ("25.30", 400)], symbol="PFB")
    prints = sorted(prints, key=lambda p: p.ts_ns)
    updates = run(FeatureEngine(EVERY_CHANGE), prints)
    assert updates
    for update in updates:
        expected = calculator_values(prints, update.symbol, update.at_ns, EVERY_CHANGE)
        assert update.value == expected[update.name], update


def test_odd_lots_and_repeats_publish_nothing() -> None:
    engine = FeatureEngine(EVERY_CHANGE)
    first = engine.on_print(prt("25.00", 100, ts_ns=T0_NS))
    assert [u.name for u in first] == [TRUTH_TICK, GRPAN]
    assert engine.on_print(prt("26.00", 99, ts_ns=T0_NS + S)) == []  # odd lot
    # the same price, size and venue again: the GRPAN window grew (ticks used 2), the tick did not
    again = engine.on_print(prt("25.00", 100, ts_ns=T0_NS + 2 * S))
    assert [u.name for u in again] == [GRPAN]


def test_a_change_inside_the_interval_waits_and_goes_out_as_of_its_due_time() -> None:
    settings = FeatureSettings(min_interval_ns=5 * S)
    engine = FeatureEngine(settings)
    prints = [
        prt("25.00", 100, ts_ns=T0_NS),
        prt("25.10", 100, ts_ns=T0_NS + 1 * S),  # held: due at T0 + 5 s
        prt("25.20", 200, ts_ns=T0_NS + 3 * S),  # still held, the value moves on
        prt("30.00", 100, symbol="PFB", ts_ns=T0_NS + 4 * S),  # other symbol: before due
        prt("30.00", 100, symbol="PFB", ts_ns=T0_NS + 7 * S),  # tape passes the due time
    ]
    published = [engine.on_print(p) for p in prints[:4]]
    assert [len(batch) for batch in published] == [2, 0, 0, 2]
    assert engine.held() == {"PFA": T0_NS + 5 * S}
    flushed = [u for u in engine.on_print(prints[4]) if u.symbol == "PFA"]
    assert {u.at_ns for u in flushed} == {T0_NS + 5 * S}
    for update in flushed:
        assert update.value == calculator_values(prints, "PFA", update.at_ns, settings)[update.name]
    assert [u.value.price for u in flushed] == [Decimal("25.20"), Decimal("25.20")]
    assert "PFA" not in engine.held()


def test_a_print_at_exactly_the_due_time_is_in_the_held_value() -> None:
    engine = FeatureEngine(FeatureSettings(min_interval_ns=2 * S))
    engine.on_print(prt("25.00", 100, ts_ns=T0_NS))
    assert engine.on_print(prt("25.10", 100, ts_ns=T0_NS + S)) == []
    at_due = engine.on_print(prt("25.30", 300, ts_ns=T0_NS + 2 * S))
    assert {(u.name, u.at_ns) for u in at_due} == {
        (TRUTH_TICK, T0_NS + 2 * S),
        (GRPAN, T0_NS + 2 * S),
    }
    tick = next(u for u in at_due if u.name == TRUTH_TICK)
    assert tick.value.price == Decimal("25.30")


def test_keys_are_deterministic_and_count_updates_at_one_instant() -> None:
    prints = [prt("25.00", 100, ts_ns=T0_NS), prt("25.01", 100, ts_ns=T0_NS)]
    keys = [u.key for u in run(FeatureEngine(EVERY_CHANGE), prints)]
    assert keys == [u.key for u in run(FeatureEngine(EVERY_CHANGE), prints)]
    assert keys == [
        f"feature:PFA:TRUTH_TICK:{T0_NS}:0",
        f"feature:PFA:GRPAN:{T0_NS}:0",
        f"feature:PFA:TRUTH_TICK:{T0_NS}:1",
        f"feature:PFA:GRPAN:{T0_NS}:1",
    ]
    assert key_position(keys[2]) == (T0_NS, 1)
    assert key_position("derisk:A:x") is None


def test_a_late_print_does_not_move_the_truth_tick_or_the_clock_back() -> None:
    engine = FeatureEngine(EVERY_CHANGE)
    engine.on_print(prt("25.00", 100, ts_ns=T0_NS + 10 * S))
    late = engine.on_print(prt("24.00", 100, ts_ns=T0_NS))
    assert [u.name for u in late] == [GRPAN]  # GRPAN's window takes it; the tick stays newer
    assert late[0].at_ns == T0_NS + 10 * S and engine.watermark_ns == T0_NS + 10 * S


def test_settings_refuse_a_negative_interval_naming_it() -> None:
    with pytest.raises(ValueError, match="min_interval_ns: must be >= 0, got -1"):
        FeatureSettings(min_interval_ns=-1)


def test_a_synthetic_day_matches_the_calculators_at_every_publish() -> None:
    settings = FeatureSettings(min_interval_ns=10 * S)
    market = SyntheticMarket(default_universe(6, 3), 7, T0_NS, S)
    prints = [e for e in market.events_until(T0_NS + 3600 * S) if isinstance(e, Print)]
    updates = run(FeatureEngine(settings), prints)
    print_times = {p.ts_ns for p in prints}
    held = [u for u in updates if u.at_ns not in print_times]
    assert len(held) > 10  # the throttle held some and published them at their due time
    traded = {p.symbol for p in prints if settings.truth_filter.is_truth_tick(p)}
    assert len(traded) >= 3 and {u.symbol for u in updates} == traded
    last_at: dict[str, int] = {}
    reference = CalculatorReference(prints, settings)
    for update in updates:
        expected = reference.at(update.symbol, update.at_ns)
        assert update.value == expected[update.name], update
        if update.symbol in last_at and update.at_ns != last_at[update.symbol]:
            assert update.at_ns - last_at[update.symbol] >= 10 * S  # the throttle held
        last_at[update.symbol] = update.at_ns
