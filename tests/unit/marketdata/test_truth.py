import pytest

from kit.marketdata import T0_NS, prt
from quantrail.marketdata.truth import TruthTickFilter, TruthTickTracker


def test_odd_lot_of_99_is_not_a_truth_tick_but_100_is() -> None:
    truth = TruthTickFilter()
    assert not truth.is_truth_tick(prt(size=99))
    assert truth.is_truth_tick(prt(size=100))


def test_mixed_lot_above_one_round_lot_counts() -> None:
    assert TruthTickFilter().is_truth_tick(prt(size=150))


def test_excluded_venue_is_not_a_truth_tick_whatever_the_case() -> None:
    truth = TruthTickFilter(excluded_venues=frozenset({"FNRA"}))
    assert not truth.is_truth_tick(prt(size=1000, venue="FNRA"))
    assert not truth.is_truth_tick(prt(size=1000, venue="fnra"))
    assert truth.is_truth_tick(prt(size=1000, venue="NYSE"))


def test_excluded_condition_is_not_a_truth_tick() -> None:
    truth = TruthTickFilter(excluded_conditions=frozenset({"z"}))
    assert truth.excluded_conditions == frozenset({"Z"})
    assert not truth.is_truth_tick(prt(size=200, conditions=("F", "Z")))
    assert truth.is_truth_tick(prt(size=200, conditions=("F",)))


def test_custom_round_lot() -> None:
    truth = TruthTickFilter(round_lot=10)
    assert truth.is_truth_tick(prt(size=10))
    assert not truth.is_truth_tick(prt(size=9))


def test_bad_round_lot_names_field_and_value() -> None:
    with pytest.raises(ValueError, match="round_lot: must be >= 1, got 0"):
        TruthTickFilter(round_lot=0)
    with pytest.raises(TypeError, match="excluded_venues: must be a frozenset"):
        TruthTickFilter(excluded_venues={"FNRA"})  # type: ignore[arg-type]


def test_tracker_keeps_last_truth_tick_and_last_print_apart() -> None:
    tracker = TruthTickTracker()
    round_lot = prt("25.00", 300, ts_ns=T0_NS)
    odd_lot = prt("25.40", 7, ts_ns=T0_NS + 1)
    assert tracker.update(round_lot) is True
    assert tracker.update(odd_lot) is False
    assert tracker.last_truth_tick("PFA") == round_lot
    assert tracker.last_print("PFA") == odd_lot


def test_tracker_is_per_symbol_and_empty_for_unknown() -> None:
    tracker = TruthTickTracker()
    tracker.update(prt("25.00", 100, symbol="PFA"))
    tracker.update(prt("19.50", 100, symbol="PFB"))
    last_b = tracker.last_truth_tick("PFB")
    assert last_b is not None
    assert str(last_b.price) == "19.50"
    assert tracker.last_truth_tick("PFC") is None
    assert tracker.last_print("PFC") is None
    assert tracker.symbols() == ["PFA", "PFB"]


def test_late_report_does_not_replace_a_newer_print() -> None:
    tracker = TruthTickTracker()
    newer = prt("25.00", 100, ts_ns=T0_NS + 10)
    tracker.update(newer)
    assert tracker.update(prt("24.50", 100, ts_ns=T0_NS)) is True
    assert tracker.last_truth_tick("PFA") == newer
    assert tracker.last_print("PFA") == newer


def test_tracker_uses_its_filter() -> None:
    tracker = TruthTickTracker(TruthTickFilter(excluded_venues=frozenset({"FNRA"})))
    assert tracker.update(prt(size=500, venue="FNRA")) is False
    assert tracker.last_truth_tick("PFA") is None
    assert tracker.last_print("PFA") is not None
