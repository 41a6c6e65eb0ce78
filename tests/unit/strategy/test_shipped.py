"""The shipped breakout and meanrevert strategies' decisions on constructed candles."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kit.strategy_chain import candles_from_closes, view_with
from quantrail.strategy.shipped.breakout import Breakout
from quantrail.strategy.shipped.meanrevert import MeanRevert

D = Decimal
FLAT = ["25.00"] * 20


def test_breakout_goes_long_on_a_close_above_the_channel_with_an_atr_stop() -> None:
    candles = candles_from_closes([*FLAT, "25.50"])
    advice = Breakout().on_candle(candles[-1], view_with(candles, "TRENDING", 0.8))
    assert advice is not None
    assert (advice.action, advice.entry_price, advice.confidence) == ("LONG", D("25.50"), 0.8)
    # Channel high 25.02; ATR = (19 x 0.04 + 0.54) / 20 = 0.065; stop 25.50 - 2 x 0.065.
    assert advice.stop_price == D("25.37")
    assert advice.edge_score == 100  # cleared the channel by more than one ATR
    assert "broke the 20-candle high 25.02" in advice.reasoning


def test_breakout_goes_short_below_the_channel_with_the_stop_above() -> None:
    candles = candles_from_closes([*FLAT, "24.50"])
    advice = Breakout().on_candle(candles[-1], view_with(candles))
    assert advice is not None and advice.action == "SHORT"
    assert advice.stop_price == D("24.63")


def test_breakout_edge_scales_with_the_break() -> None:
    candles = candles_from_closes([*FLAT, "25.03"])  # one cent over the 25.02 channel high
    advice = Breakout().on_candle(candles[-1], view_with(candles))
    assert advice is not None and advice.action == "LONG"
    assert 40 <= advice.edge_score < 60


@pytest.mark.parametrize(
    ("closes", "regime", "held", "gate"),
    [
        ([*FLAT, "25.50"], "RANGING", 0, "regime"),
        ([*FLAT, "25.50"], "CHAOTIC", 0, "regime"),
        ([*FLAT, "25.50"], None, 0, "regime"),
        ([*FLAT, "25.50"], "TRENDING", 100, "in_position"),
        (["25.00"] * 5 + ["25.50"], "TRENDING", 0, "history"),
        ([*FLAT, "25.01"], "TRENDING", 0, "no_setup"),
    ],
)
def test_breakout_declines_naming_the_gate(
    closes: list[str], regime: str | None, held: int, gate: str
) -> None:
    candles = candles_from_closes(closes)
    advice = Breakout().on_candle(candles[-1], view_with(candles, regime, position_qty=held))  # type: ignore[arg-type]
    assert advice is not None and advice.action == "NO_SIGNAL"
    assert advice.gate_failed == gate
    assert advice.regime_fit is (gate != "regime")


def test_meanrevert_buys_a_stretch_below_the_mean_in_a_range() -> None:
    candles = candles_from_closes([*["25.00", "25.10"] * 10, "24.70"])
    advice = MeanRevert().on_candle(candles[-1], view_with(candles, "RANGING", 0.7))
    assert advice is not None and advice.action == "LONG"
    assert advice.entry_price == D("24.70") and advice.confidence == 0.7
    assert advice.stop_price is not None and advice.stop_price < D("24.70")
    assert advice.stop_price == advice.stop_price.quantize(D("0.01"))
    assert advice.edge_score == 90  # z = -3.68: (3.68 - 2) / 2 of the way from 40 to 100


def test_meanrevert_sells_a_stretch_above_the_mean() -> None:
    candles = candles_from_closes([*["25.00", "25.10"] * 10, "25.40"])
    advice = MeanRevert().on_candle(candles[-1], view_with(candles, "RANGING"))
    assert advice is not None and advice.action == "SHORT"
    assert advice.stop_price == D("25.54")  # 25.40 + 1.5 x 0.09


@pytest.mark.parametrize(
    ("closes", "regime", "gate"),
    [
        ([*["25.00", "25.10"] * 10, "24.70"], "TRENDING", "regime"),
        ([*["25.00", "25.10"] * 10, "25.05"], "RANGING", "no_setup"),
        (["25.00"] * 21, "RANGING", "no_setup"),
        (["25.00", "24.00"], "RANGING", "history"),
    ],
)
def test_meanrevert_declines_naming_the_gate(closes: list[str], regime: str, gate: str) -> None:
    candles = candles_from_closes(closes)
    advice = MeanRevert().on_candle(candles[-1], view_with(candles, regime))  # type: ignore[arg-type]
    assert advice is not None and advice.gate_failed == gate


def test_shipped_params_are_checked_naming_the_key() -> None:
    with pytest.raises(ValueError, match="lookback: must be an int >= 2, got 1"):
        Breakout(lookback=1)
    with pytest.raises(ValueError, match=r"stop_atr: must be a number > 0\.0, got 'x'"):
        Breakout(stop_atr="x")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"entry_z: must be a number > 0\.0, got -1"):
        MeanRevert(entry_z=-1)
