"""The pre-trade gate: increases denied outside NORMAL, reductions pass, crossing denied whole."""

from __future__ import annotations

import pytest

from quantrail.risk.gate import (
    ALLOWED_NORMAL,
    ALLOWED_REDUCING,
    DENIED_CROSSES_ZERO,
    DENIED_INCREASES_EXPOSURE,
    DENIED_KILL_SWITCH,
    GateError,
    PreTradeGate,
    order_effect,
)
from quantrail.vocab import Effect, Mode, Side

GATE = PreTradeGate()
RESTRICTED = [Mode.THROTTLE_NEW_ORDERS, Mode.SOFT_DERISK, Mode.HARD_DERISK]


@pytest.mark.parametrize(
    ("position", "side", "qty", "expected"),
    [
        (0, Side.BUY, 100, (Effect.INCREASE, False)),
        (0, Side.SELL, 100, (Effect.INCREASE, False)),
        (100, Side.BUY, 100, (Effect.INCREASE, False)),
        (-100, Side.SELL, 1, (Effect.INCREASE, False)),
        (100, Side.SELL, 40, (Effect.DECREASE, False)),
        (100, Side.SELL, 100, (Effect.DECREASE, False)),
        (-100, Side.BUY, 100, (Effect.DECREASE, False)),
        (100, Side.SELL, 101, (Effect.INCREASE, True)),
        (-100, Side.BUY, 300, (Effect.INCREASE, True)),
    ],
)
def test_order_effect(position: int, side: Side, qty: int, expected: tuple[Effect, bool]) -> None:
    assert order_effect(position, side, qty) == expected


@pytest.mark.parametrize("mode", RESTRICTED)
def test_increase_is_denied_outside_normal(mode: Mode) -> None:
    result = GATE.check(mode, 100, Side.BUY, 50)
    assert (result.allowed, result.reason_code) == (False, DENIED_INCREASES_EXPOSURE)
    assert result.reason == f"BUY 50 against position 100: increases exposure in mode {mode}"
    opening = GATE.check(mode, 0, Side.SELL, 100)
    assert (opening.allowed, opening.reason_code) == (False, DENIED_INCREASES_EXPOSURE)


@pytest.mark.parametrize("mode", RESTRICTED)
def test_reduce_is_allowed_outside_normal(mode: Mode) -> None:
    result = GATE.check(mode, -300, Side.BUY, 300)
    assert (result.allowed, result.reason_code) == (True, ALLOWED_REDUCING)


@pytest.mark.parametrize("mode", RESTRICTED)
def test_crossing_zero_is_denied_whole(mode: Mode) -> None:
    result = GATE.check(mode, 100, Side.SELL, 150)
    assert (result.allowed, result.reason_code) == (False, DENIED_CROSSES_ZERO)
    assert "would cross zero" in result.reason


def test_normal_allows_everything() -> None:
    assert GATE.check(Mode.NORMAL, 100, Side.BUY, 500).reason_code == ALLOWED_NORMAL
    assert GATE.check(Mode.NORMAL, 100, Side.SELL, 500).allowed


@pytest.mark.parametrize("mode", list(Mode))
def test_kill_switch_lets_only_reducing_orders_through(mode: Mode) -> None:
    denied = GATE.check(mode, 100, Side.BUY, 1, kill_switch=True)
    assert (denied.allowed, denied.reason_code) == (False, DENIED_KILL_SWITCH)
    crossing = GATE.check(mode, 100, Side.SELL, 101, kill_switch=True)
    assert (crossing.allowed, crossing.reason_code) == (False, DENIED_KILL_SWITCH)
    assert GATE.check(mode, 100, Side.SELL, 100, kill_switch=True).allowed


def test_working_orders_on_the_same_side_count_first() -> None:
    # 100 long with a 100-share sell working: another sell would open a short
    alone = GATE.check(Mode.THROTTLE_NEW_ORDERS, 100, Side.SELL, 100)
    assert alone.allowed
    stacked = GATE.check(Mode.THROTTLE_NEW_ORDERS, 100, Side.SELL, 100, working_qty=100)
    assert (stacked.allowed, stacked.reason_code) == (False, DENIED_INCREASES_EXPOSURE)
    partly = GATE.check(Mode.THROTTLE_NEW_ORDERS, 100, Side.SELL, 60, working_qty=50)
    assert (partly.allowed, partly.reason_code) == (False, DENIED_CROSSES_ZERO)
    fits = GATE.check(Mode.THROTTLE_NEW_ORDERS, 100, Side.SELL, 50, working_qty=50)
    assert fits.allowed


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        ((Mode.NORMAL, 0, Side.BUY, 0), {}, "qty must be a positive integer"),
        ((Mode.NORMAL, 1.5, Side.BUY, 1), {}, "position_qty must be an integer, got 1.5"),
        (("NORMAL!", 0, Side.BUY, 1), {}, "mode must be a Mode, got 'NORMAL!'"),
        ((Mode.NORMAL, 0, "BUY", 1), {}, "side must be a Side, got 'BUY'"),
        ((Mode.NORMAL, 0, Side.BUY, 1), {"working_qty": -1}, "working_qty must be an integer >= 0"),
    ],
)
def test_bad_inputs_name_the_field(
    args: tuple[object, ...], kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(GateError) as caught:
        GATE.check(*args, **kwargs)  # type: ignore[arg-type]
    assert str(caught.value).startswith(message)
