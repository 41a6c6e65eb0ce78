"""ADV per symbol comes from the ``liquidity`` config section and caps orders through PreTrade."""

from __future__ import annotations

from typing import Any

import pytest

from kit.market_events import quote
from kit.orders import T0, new_order
from quantrail.config import ConfigError, config_from_mapping
from quantrail.execution.pretrade import PreTrade, Verdict
from quantrail.risk.liquidity import DEFAULT_ADV, LiquidityCode, LiquidityConfig


def pretrade(**liquidity: Any) -> PreTrade:
    config = config_from_mapping({"liquidity": {"min_interval_s": 0, **liquidity}})
    checks = PreTrade(config.liquidity)
    for symbol in ("PFA", "PFB", "XYZ"):  # deep books: only the ADV cap can bind
        checks.quotes[symbol] = quote(symbol=symbol, bid_size=1_000_000, ask_size=1_000_000)
    return checks


def check(checks: PreTrade, symbol: str, qty: int) -> Verdict:
    order = new_order(symbol=symbol, qty=qty)
    return checks.check(order, qty, [], T0, killed=False)


def test_a_symbol_s_adv_caps_its_order_and_the_reason_names_it() -> None:
    checks = pretrade(adv={"PFA": 20_000}, max_adv_fraction="0.05")
    verdict = check(checks, "PFA", 5_000)  # 0.05 x 20,000 = 1,000 shares
    assert (verdict.allowed, verdict.qty) == (True, 1_000)
    assert verdict.guard is not None and verdict.guard.codes == (LiquidityCode.ADV_CAP,)
    assert "0.05 of ADV 20000" in verdict.reason


def test_a_symbol_without_an_entry_gets_default_adv() -> None:
    checks = pretrade(adv={"PFA": 20_000}, default_adv=60_000)
    assert check(checks, "XYZ", 5_000).qty == 3_000  # 0.05 x 60,000
    assert check(pretrade(), "XYZ", 5_000).qty == 5_000  # 0.05 x 1,000,000 does not bind
    assert LiquidityConfig().default_adv == DEFAULT_ADV == 1_000_000


def test_a_thin_symbol_is_denied_below_the_minimum() -> None:
    verdict = check(pretrade(adv={"PFB": 1_000}), "PFB", 500)  # 0.05 x 1,000 = 50 < 100
    assert (verdict.allowed, verdict.code) == (False, "BELOW_MIN")
    assert "ADV_CAP" in verdict.reason


@pytest.mark.parametrize(
    ("liquidity", "key", "text"),
    [
        ({"adv": {"PFA": 0}}, "liquidity.adv", "PFA: must be >= 1 (value: 0)"),
        ({"adv": {"PFA": -5}}, "liquidity.adv", "PFA: must be >= 1 (value: -5)"),
        ({"adv": {" ": 100}}, "liquidity.adv", "symbol must not be blank"),
        ({"default_adv": 0}, "liquidity.default_adv", "must be >= 1 (value: 0)"),
    ],
)
def test_a_bad_adv_fails_the_config_naming_key_symbol_and_value(
    liquidity: dict[str, Any], key: str, text: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        config_from_mapping({"liquidity": liquidity})
    assert caught.value.key == key
    assert text in str(caught.value)


def test_adv_volumes_written_as_strings_in_yaml_still_load() -> None:
    config = config_from_mapping({"liquidity": {"adv": {"PFA": "20000"}}})
    assert config.liquidity.adv_for("PFA") == 20_000
