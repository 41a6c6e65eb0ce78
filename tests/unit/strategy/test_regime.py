"""The regime detector on constructed close series whose regime is known."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import pytest

from kit.strategy_chain import (
    SMALL_REGIME,
    calm_then_wild,
    candles_from_closes,
    ranging,
    trending,
)
from quantrail.strategy.config import RegimeConfig
from quantrail.strategy.regime import (
    RegimeDetector,
    RegimeReading,
    SpikeReading,
    efficiency_ratio,
    realized_vol,
)

D = Decimal


def run(
    closes: Sequence[Decimal], config: RegimeConfig = SMALL_REGIME
) -> list[tuple[RegimeReading | None, SpikeReading | None]]:
    detector = RegimeDetector(config)
    return [detector.update(c.symbol, c.start_ns, c.close) for c in candles_from_closes(closes)]


def test_efficiency_ratio_and_realized_vol() -> None:
    assert efficiency_ratio([D(1), D(2), D(3)]) == 1.0
    assert efficiency_ratio([D(1), D(2), D(1)]) == 0.0
    assert efficiency_ratio([D(5), D(5)]) == 0.0  # flat
    assert realized_vol([0.01, -0.01]) == pytest.approx(0.01)
    assert realized_vol([]) == 0.0


def test_nothing_is_said_before_the_warm_up() -> None:
    detector = RegimeDetector(SMALL_REGIME)
    assert detector.warmup == 10  # vol 3 + baseline 6 + 1
    readings = run(trending(10))
    assert [r for r, _ in readings[:9]] == [None] * 9
    assert readings[9][0] is not None


def test_a_steady_climb_is_trending_with_high_confidence() -> None:
    readings = [r for r, _ in run(trending(14)) if r is not None]
    assert {r.regime for r in readings} == {"TRENDING"}
    assert all(0.5 <= r.confidence <= 1.0 for r in readings)
    assert readings[0].previous is None and not readings[0].changed
    assert readings[1].previous == "TRENDING" and not readings[1].changed


def test_a_zigzag_is_ranging() -> None:
    readings = [r for r, _ in run(ranging(14)) if r is not None]
    assert {r.regime for r in readings} == {"RANGING"}
    assert all(r.efficiency_ratio < SMALL_REGIME.trend_er for r in readings)
    assert all(0.5 <= r.confidence <= 1.0 for r in readings)


def test_volatility_far_over_its_baseline_is_chaotic_and_spikes_once_per_episode() -> None:
    results = run(calm_then_wild(10, 4))
    readings = [r for r, _ in results if r is not None]
    assert [r.regime for r in readings] == ["RANGING", "CHAOTIC", "CHAOTIC", "CHAOTIC", "CHAOTIC"]
    assert readings[1].changed and readings[1].previous == "RANGING"
    spikes = [s for _, s in results if s is not None]
    assert len(spikes) == 1  # the episode goes on: one report
    assert spikes[0].ratio >= SMALL_REGIME.spike_ratio
    assert spikes[0].candle_start_ns == readings[1].candle_start_ns


def test_a_new_episode_after_the_ratio_fell_back_is_reported_again() -> None:
    config = RegimeConfig(er_window=3, vol_window=2, baseline_window=3, spike_ratio=2.0)
    calm = [D("25.00"), D("25.02")] * 4
    jump = [D("25.60"), D("25.00")]
    closes = calm + jump + calm * 2 + jump
    spikes = [s for _, s in run(closes, config) if s is not None]
    assert len(spikes) == 2


def test_an_old_or_repeated_candle_is_ignored() -> None:
    detector = RegimeDetector(SMALL_REGIME)
    candles = candles_from_closes(trending(11))
    for candle in candles:
        detector.update(candle.symbol, candle.start_ns, candle.close)
    again = candles[-1]
    assert detector.update(again.symbol, again.start_ns, again.close) == (None, None)
    assert detector.regime_of(again.symbol) == "TRENDING"


def test_a_symbol_that_never_moved_has_no_volatility_verdict() -> None:
    readings = [r for r, s in run([D("25.00")] * 12) if r is not None]
    assert {r.regime for r in readings} == {"RANGING"}
    assert all(r.vol_ratio is None for r in readings)


def test_regime_config_names_the_bad_key() -> None:
    with pytest.raises(ValueError, match="timeframe: must look like"):
        RegimeConfig(timeframe="1x")
    with pytest.raises(ValueError, match="trend_er: must be in"):
        RegimeConfig(trend_er=1.5)
