"""LiquidityGuard: every expected quantity below is worked out by hand in the test's comment."""

from __future__ import annotations

import re
from decimal import Decimal

import msgspec
import pytest

from quantrail.risk.liquidity import (
    GuardAction,
    LiquidityCode,
    LiquidityConfig,
    LiquidityGuard,
    LiquidityView,
    ProposedOrder,
)
from quantrail.runtime.clock import NS_PER_SECOND
from quantrail.vocab import Side

T0 = 1_710_510_000 * NS_PER_SECOND  # 2024-03-15 13:40 UTC
# Deep market: ADV cap 0.05 * 1_000_000 = 50_000, displayed cap 0.5 * 100_000 = 50_000.
DEEP = LiquidityView(adv=1_000_000, displayed_size=100_000)


def buy(qty: int, symbol: str = "ABC", *, reduce_only: bool = False) -> ProposedOrder:
    return ProposedOrder(symbol=symbol, side=Side.BUY, qty=qty, reduce_only=reduce_only)


def sell(qty: int, symbol: str = "ABC", *, reduce_only: bool = False) -> ProposedOrder:
    return ProposedOrder(symbol=symbol, side=Side.SELL, qty=qty, reduce_only=reduce_only)


def guard(**config: object) -> LiquidityGuard:
    return LiquidityGuard(msgspec.convert(config, LiquidityConfig, strict=False))


def test_a_round_lot_order_inside_every_limit_passes_unchanged() -> None:
    result = guard().check(buy(500), DEEP, T0)
    assert result.action is GuardAction.PASS
    assert result.qty == 500
    assert result.reasons == ()


def test_odd_qty_rounds_down_to_whole_lots() -> None:
    result = guard().check(buy(250), DEEP, T0)
    assert result.action is GuardAction.RESIZE
    assert result.qty == 200
    assert result.requested_qty == 250
    assert result.codes == (LiquidityCode.ROUND_LOT,)
    assert result.reasons[0].text == "250 rounded down to 200 (round lot 100)"


def test_an_odd_lot_below_min_is_denied() -> None:
    # 99 rounds down to 0 lots, below min_qty 100.
    result = guard().check(buy(99), DEEP, T0)
    assert result.action is GuardAction.DENY
    assert result.qty == 0
    assert result.codes == (LiquidityCode.ROUND_LOT, LiquidityCode.BELOW_MIN)


def test_below_min_after_rounding_is_denied() -> None:
    # min_qty 300: 250 rounds to 200, which is below 300.
    result = guard(min_qty=300).check(sell(250), DEEP, T0)
    assert result.action is GuardAction.DENY
    assert result.qty == 0
    assert result.codes == (LiquidityCode.ROUND_LOT, LiquidityCode.BELOW_MIN)
    assert result.reasons[1].text == "200 < min_qty 300"


def test_above_max_is_resized_to_max() -> None:
    result = guard().check(buy(12_345), DEEP, T0)
    assert result.action is GuardAction.RESIZE
    assert result.qty == 10_000
    assert result.codes == (LiquidityCode.ABOVE_MAX,)


def test_adv_cap_resizes_to_the_share_of_adv_then_to_lots() -> None:
    # 0.05 * 43_210 = 2_160.5 -> 2_160 shares -> 2_100 in lots.
    market = LiquidityView(adv=43_210, displayed_size=100_000)
    result = guard().check(buy(5_000), market, T0)
    assert result.action is GuardAction.RESIZE
    assert result.qty == 2_100
    assert result.codes == (LiquidityCode.ADV_CAP, LiquidityCode.ROUND_LOT)
    assert result.reasons[0].text == "5000 cut to 2160 (0.05 of ADV 43210)"


def test_displayed_cap_resizes_to_the_share_of_displayed_size() -> None:
    # 0.5 * 1_530 = 765 -> 700 in lots.
    market = LiquidityView(adv=1_000_000, displayed_size=1_530)
    result = guard().check(buy(1_000), market, T0)
    assert result.action is GuardAction.RESIZE
    assert result.qty == 700
    assert result.codes == (LiquidityCode.DISPLAYED_CAP, LiquidityCode.ROUND_LOT)


def test_caps_apply_in_order_max_then_adv_then_displayed() -> None:
    # 20_000 -> max 10_000 -> ADV 0.05 * 30_000 = 1_500 -> displayed 0.5 * 2_000 = 1_000.
    market = LiquidityView(adv=30_000, displayed_size=2_000)
    result = guard().check(sell(20_000), market, T0)
    assert result.qty == 1_000
    assert result.codes == (
        LiquidityCode.ABOVE_MAX,
        LiquidityCode.ADV_CAP,
        LiquidityCode.DISPLAYED_CAP,
    )


def test_share_caps_are_exact_decimals_not_floats() -> None:
    # In floats 0.29 * 100 is 28.999999999999996 and would floor to 28; the cap is 29.
    market = LiquidityView(adv=100, displayed_size=1_000)
    result = guard(round_lot=1, min_qty=1, max_adv_fraction=0.29).check(buy(100), market, T0)
    assert result.qty == 29
    assert result.codes == (LiquidityCode.ADV_CAP,)


def test_no_adv_means_no_order() -> None:
    result = guard().check(buy(100), LiquidityView(adv=0, displayed_size=5_000), T0)
    assert result.action is GuardAction.DENY
    assert result.codes == (LiquidityCode.ADV_CAP, LiquidityCode.BELOW_MIN)


def test_rate_limit_denies_within_the_interval_and_passes_after() -> None:
    liquidity = guard()
    liquidity.record_submitted("ABC", T0)
    too_soon = liquidity.check(buy(100), DEEP, T0 + 2 * NS_PER_SECOND - 1)
    assert too_soon.action is GuardAction.DENY
    assert too_soon.qty == 0
    assert too_soon.codes == (LiquidityCode.RATE_LIMIT,)
    on_time = liquidity.check(buy(100), DEEP, T0 + 2 * NS_PER_SECOND)
    assert on_time.action is GuardAction.PASS
    assert on_time.qty == 100


def test_rate_limit_is_per_symbol() -> None:
    liquidity = guard()
    liquidity.record_submitted("ABC", T0)
    assert liquidity.check(buy(100, "XYZ"), DEEP, T0 + 1).action is GuardAction.PASS


def test_rate_limit_uses_the_registry_time_as_well() -> None:
    liquidity = guard()
    liquidity.record_submitted("ABC", T0)
    # The registry knows of a later order (1 s after T0): the interval runs from that one.
    market = LiquidityView(adv=1_000_000, displayed_size=100_000, last_order_ns=T0 + NS_PER_SECOND)
    at = T0 + 2 * NS_PER_SECOND
    assert liquidity.check(buy(100), market, at).codes == (LiquidityCode.RATE_LIMIT,)
    assert liquidity.check(buy(100), market, at + NS_PER_SECOND).action is GuardAction.PASS


def test_record_submitted_keeps_the_later_time() -> None:
    liquidity = guard()
    liquidity.record_submitted("ABC", T0 + 5)
    liquidity.record_submitted("ABC", T0)
    assert liquidity.last_submitted_ns("ABC") == T0 + 5


def test_check_does_not_change_the_guard() -> None:
    liquidity = guard()
    first = liquidity.check(buy(100), DEEP, T0)
    assert liquidity.last_submitted_ns("ABC") is None
    assert liquidity.check(buy(100), DEEP, T0 + 1) == first


def test_open_order_cap_denies_at_the_cap_and_passes_below_it() -> None:
    at_cap = LiquidityView(adv=1_000_000, displayed_size=100_000, open_orders_for_symbol=3)
    below = LiquidityView(adv=1_000_000, displayed_size=100_000, open_orders_for_symbol=2)
    denied = guard().check(buy(100), at_cap, T0)
    assert denied.action is GuardAction.DENY
    assert denied.codes == (LiquidityCode.OPEN_ORDER_CAP,)
    assert denied.reasons[0].text == "3 open orders >= max_open_orders_per_symbol 3"
    assert guard().check(buy(100), below, T0).action is GuardAction.PASS


def test_a_denied_order_carries_every_reason_in_rule_order() -> None:
    liquidity = guard()
    liquidity.record_submitted("ABC", T0)
    market = LiquidityView(adv=1_000_000, displayed_size=100_000, open_orders_for_symbol=5)
    result = liquidity.check(buy(150), market, T0 + 1)
    assert result.codes == (
        LiquidityCode.ROUND_LOT,
        LiquidityCode.RATE_LIMIT,
        LiquidityCode.OPEN_ORDER_CAP,
    )
    assert result.to_details() == {
        "action": "DENY",
        "symbol": "ABC",
        "requested_qty": 150,
        "qty": 0,
        "reasons": [{"code": str(r.code), "text": r.text} for r in result.reasons],
    }


THIN = LiquidityView(adv=1_000, displayed_size=100)  # caps: 0.05 * 1_000 = 50, 0.5 * 100 = 50


def test_a_thin_name_denies_an_increasing_order() -> None:
    result = guard().check(sell(500), THIN, T0)
    assert result.action is GuardAction.DENY
    assert result.codes == (
        LiquidityCode.ADV_CAP,
        LiquidityCode.ROUND_LOT,
        LiquidityCode.BELOW_MIN,
    )


def test_a_reduce_only_order_keeps_one_lot_in_a_thin_name() -> None:
    # Both share caps (50) are lifted to the one-lot floor (100).
    result = guard().check(sell(500, reduce_only=True), THIN, T0)
    assert result.action is GuardAction.RESIZE
    assert result.qty == 100
    assert result.codes == (LiquidityCode.ADV_CAP,)
    assert result.reasons[0].text == "500 cut to 100 (0.05 of ADV 1000, reduce-only floor 100)"


def test_the_reduce_only_floor_is_min_qty_rounded_up_to_a_lot() -> None:
    # min_qty 150 in lots of 100: the smallest passing order is 200.
    result = guard(min_qty=150).check(sell(500, reduce_only=True), THIN, T0)
    assert result.qty == 200


def test_a_reduce_only_order_is_still_rate_limited() -> None:
    liquidity = guard()
    liquidity.record_submitted("ABC", T0)
    result = liquidity.check(sell(100, reduce_only=True), DEEP, T0 + 1)
    assert result.codes == (LiquidityCode.RATE_LIMIT,)


def test_per_symbol_overrides_change_only_that_symbol() -> None:
    liquidity = guard(overrides={"PFD": {"round_lot": 10, "min_qty": 10}})
    assert liquidity.check(buy(255, "PFD"), DEEP, T0).qty == 250
    assert liquidity.check(buy(255, "ABC"), DEEP, T0).qty == 200


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"round_lot": 0}, "round_lot: must be >= 1 (value: 0)"),
        ({"max_adv_fraction": 1.5}, "max_adv_fraction: must be > 0 and <= 1 (value: 1.5)"),
        ({"max_displayed_fraction": 0}, "max_displayed_fraction: must be > 0 and <= 1"),
        ({"min_interval_s": -1}, "min_interval_s: must be a finite number of seconds >= 0"),
        ({"max_open_orders_per_symbol": 0}, "max_open_orders_per_symbol: must be >= 1"),
        ({"min_qty": 500, "max_qty": 450}, "max_qty: 450 in lots of 100 leaves no size"),
        ({"overrides": {"PFD": {"min_qty": 20_000}}}, "overrides: PFD: max_qty: 10000"),
    ],
)
def test_bad_config_names_the_field_and_value(config: dict[str, object], message: str) -> None:
    with pytest.raises(msgspec.ValidationError, match="^" + re.escape(message)):
        msgspec.convert(config, LiquidityConfig, strict=False)


def test_unknown_config_field_is_rejected() -> None:
    with pytest.raises(msgspec.ValidationError, match="unknown field `max_shares`"):
        msgspec.convert({"max_shares": 5}, LiquidityConfig, strict=False)


@pytest.mark.parametrize("qty", [0, -100, True])
def test_bad_order_qty_names_the_field_and_value(qty: int) -> None:
    with pytest.raises(ValueError, match=f"^qty: must be .*\\(value: {qty!r}\\)"):
        buy(qty)


def test_bad_market_view_names_the_field() -> None:
    with pytest.raises(ValueError, match=r"^adv: must be >= 0 \(value: -1\)"):
        LiquidityView(adv=-1, displayed_size=100)


def test_fractions_built_in_code_are_decimals() -> None:
    assert LiquidityConfig().max_adv_fraction == Decimal("0.05")
    with pytest.raises(ValueError, match=r"^max_adv_fraction: must be a Decimal"):
        LiquidityConfig(max_adv_fraction=0.05)  # type: ignore[arg-type]
