from decimal import Decimal

import pytest

from kit.features import WINDOW_15
from kit.marketdata import T0_NS, prints_at, prt
from quantrail.marketdata.grpan import GrpanCalculator, GrpanConfig, GrpanValue, dominant_price
from quantrail.marketdata.truth import TruthTickFilter


def feed(calc: GrpanCalculator, prices_and_sizes: list[tuple[str, int]]) -> GrpanValue | None:
    value = None
    for print_ in prints_at(prices_and_sizes):
        value = calc.update(print_)
    return value


def test_hand_computed_window_of_fifteen() -> None:
    value = feed(GrpanCalculator(), WINDOW_15)
    assert value == GrpanValue(
        symbol="PFA",
        price=Decimal("25.02"),
        concentration=Decimal("0.4800"),
        band_volume=1200,
        window_volume=2500,
        window_size=15,
        ticks_used=15,
        ts_ns=T0_NS + 14 * 1_000_000_000,
    )


def test_band_edge_exactly_four_cents_counts() -> None:
    value = feed(GrpanCalculator(), [("24.96", 100), ("25.00", 500), ("25.04", 100)])
    assert value is not None
    assert (value.price, value.band_volume, value.concentration) == (
        Decimal("25.00"),
        700,
        Decimal("1.0000"),
    )


def test_band_edge_five_cents_does_not_count() -> None:
    value = feed(GrpanCalculator(), [("24.95", 100), ("25.00", 500), ("25.05", 100)])
    assert value is not None
    # 500 / 700 = 0.714285... -> 0.7143
    assert (value.price, value.band_volume, value.window_volume, value.concentration) == (
        Decimal("25.00"),
        500,
        700,
        Decimal("0.7143"),
    )


def test_only_the_last_n_truth_ticks_count() -> None:
    heavy_old = [("30.00", 10_000)] * 5
    recent = [("25.00", 100)] * 15
    value = feed(GrpanCalculator(), heavy_old + recent)
    assert value is not None
    assert (value.price, value.window_volume, value.ticks_used) == (Decimal("25.00"), 1500, 15)


def test_small_window_drops_the_oldest() -> None:
    calc = GrpanCalculator(GrpanConfig(window=3))
    value = feed(calc, [("26.00", 900), ("25.00", 100), ("25.50", 200), ("25.52", 100)])
    assert value is not None
    # Window now 25.00x100, 25.50x200, 25.52x100: 25.50 and 25.52 both hold 300 -> the
    # more recent 25.52 wins; 300 / 400 = 0.75.
    assert [str(p.price) for p in calc.window("PFA")] == ["25.00", "25.50", "25.52"]
    assert (value.price, value.concentration) == (Decimal("25.52"), Decimal("0.7500"))


def test_tie_goes_to_the_most_recently_printed_price() -> None:
    later_high = feed(GrpanCalculator(), [("25.00", 100), ("25.10", 100)])
    later_low = feed(GrpanCalculator(), [("25.10", 100), ("25.00", 100)])
    assert later_high is not None and later_low is not None
    assert later_high.price == Decimal("25.10")
    assert later_low.price == Decimal("25.00")
    assert later_high.concentration == Decimal("0.5000")


def test_tie_uses_the_latest_occurrence_of_a_repeated_price() -> None:
    # 25.00 printed first and again last: it is the most recent candidate.
    value = feed(GrpanCalculator(), [("25.00", 100), ("25.10", 200), ("25.00", 100)])
    assert value is not None
    assert value.price == Decimal("25.00")


def test_odd_lots_and_excluded_venues_do_not_enter_the_window() -> None:
    calc = GrpanCalculator(truth_filter=TruthTickFilter(excluded_venues=frozenset({"FNRA"})))
    assert calc.update(prt("25.00", 200)) is not None
    assert calc.update(prt("26.00", 99)) is None
    assert calc.update(prt("26.00", 5000, venue="FNRA")) is None
    value = calc.value("PFA")
    assert value is not None
    assert (value.price, value.ticks_used, value.window_volume) == (Decimal("25.00"), 1, 200)


def test_partial_window_reports_ticks_used() -> None:
    value = feed(GrpanCalculator(), [("25.00", 100), ("25.01", 300)])
    assert value is not None
    assert (value.window_size, value.ticks_used) == (15, 2)


def test_min_ticks_holds_back_the_first_values() -> None:
    calc = GrpanCalculator(GrpanConfig(min_ticks=3))
    results = [calc.update(p) for p in prints_at([("25.00", 100)] * 3)]
    assert results[:2] == [None, None]
    assert results[2] is not None and results[2].ticks_used == 3


def test_symbols_have_separate_windows() -> None:
    calc = GrpanCalculator()
    calc.update(prt("25.00", 100, symbol="PFA"))
    value_b = calc.update(prt("19.00", 100, symbol="PFB"))
    assert value_b is not None and value_b.price == Decimal("19.00")
    value_a = calc.value("PFA")
    assert value_a is not None and value_a.price == Decimal("25.00")
    assert calc.value("PFC") is None


def test_dominant_price_on_no_prints_is_an_error() -> None:
    with pytest.raises(ValueError, match="prints: GRPAN needs at least one print"):
        dominant_price([], Decimal("0.04"))


def test_bad_config_names_field_and_value() -> None:
    with pytest.raises(ValueError, match="window: must be an int >= 1, got 0"):
        GrpanConfig(window=0)
    with pytest.raises(ValueError, match=r"band: must be a finite Decimal >= 0, got .*-0\.01"):
        GrpanConfig(band=Decimal("-0.01"))
    with pytest.raises(ValueError, match="min_ticks: must be <= window"):
        GrpanConfig(window=3, min_ticks=4)
