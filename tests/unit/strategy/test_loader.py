"""Loading the configured strategy: every failure one line naming the key."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from kit.strategy_chain import Exploding
from quantrail.strategy.api import StrategyError
from quantrail.strategy.loader import load_strategy
from quantrail.strategy.shipped.breakout import Breakout


def test_shipped_names_and_module_paths_load_with_their_params() -> None:
    strategy = load_strategy("breakout", {"lookback": 5})
    assert isinstance(strategy, Breakout) and strategy.lookback == 5
    custom = load_strategy("kit.strategy_chain:Exploding", {"symbol": "XYZ"})
    assert isinstance(custom, Exploding) and custom.symbol == "XYZ"


@pytest.mark.parametrize(
    ("name", "params", "message"),
    [
        ("nosuch", {}, "strategy.name: unknown strategy 'nosuch'; use breakout, meanrevert"),
        ("nopkg.nomod:X", {}, "strategy.name: cannot import module 'nopkg.nomod' (ModuleNotFound"),
        ("kit.strategy_chain:Nope", {}, "strategy.name: module 'kit.strategy_chain' has no class"),
        ("breakout", {"lookbak": 5}, "strategy.params.lookbak: unknown parameter of quantrail"),
        ("breakout", {"lookback": 1}, "strategy.params.lookback: must be an int >= 2, got 1"),
        ("scripted", {}, "strategy.params.path: required by quantrail.strategy.shipped"),
        (
            "kit.strategy_chain:money",
            {"value": 1},
            "strategy.name: kit.strategy_chain:money does not",
        ),
    ],
)
def test_a_bad_strategy_is_one_line_naming_the_key(
    name: str, params: dict[str, object], message: str
) -> None:
    with pytest.raises(StrategyError) as caught:
        load_strategy(name, params)
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)


def test_a_module_that_fails_while_importing_is_named(tmp_path: Path) -> None:
    (tmp_path / "broken_strategy_mod.py").write_text("raise RuntimeError('half written')\n")
    sys.path.insert(0, str(tmp_path))
    try:
        with pytest.raises(StrategyError, match=r"'broken_strategy_mod' \(RuntimeError: half"):
            load_strategy("broken_strategy_mod:Thing", {})
    finally:
        sys.path.remove(str(tmp_path))
