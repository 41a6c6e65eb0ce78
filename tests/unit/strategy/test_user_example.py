"""The worked example of docs/strategy.md, written to a user's module, loads and advises."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from kit.strategy_chain import candles_from_closes, view_with
from quantrail.strategy.api import StrategyError
from quantrail.strategy.loader import load_strategy

DOC = Path(__file__).parents[3] / "docs" / "strategy.md"


@pytest.fixture
def user_package(tmp_path: Path) -> Iterator[None]:
    """``mypkg/mystrat.py`` holding the python block of docs/strategy.md, importable."""
    [code] = [
        block
        for block in re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
        if "mypkg/mystrat.py" in block
    ]
    (tmp_path / "mypkg").mkdir()
    (tmp_path / "mypkg" / "__init__.py").write_text("")
    (tmp_path / "mypkg" / "mystrat.py").write_text(code)
    sys.path.insert(0, str(tmp_path))
    yield
    sys.path.remove(str(tmp_path))
    for name in ("mypkg.mystrat", "mypkg"):
        sys.modules.pop(name, None)


@pytest.mark.usefixtures("user_package")
def test_the_documented_strategy_loads_with_its_params_and_advises() -> None:
    strategy = load_strategy("mypkg.mystrat:Momentum", {"run": 3, "stop_cents": 15})
    candles = candles_from_closes(["25.00", "25.10", "25.20", "25.30"])
    advice = strategy.on_candle(candles[-1], view_with(candles, "TRENDING", 0.9))
    assert advice is not None and advice.action == "LONG"
    assert (advice.stop_price, advice.confidence) == (Decimal("25.15"), 0.9)
    flat = candles_from_closes(["25.00", "25.10", "25.10", "25.30"])
    assert strategy.on_candle(flat[-1], view_with(flat)) is None


@pytest.mark.usefixtures("user_package")
def test_the_documented_errors_are_what_the_loader_says() -> None:
    with pytest.raises(StrategyError, match=r"^strategy\.params\.runs: unknown parameter of "):
        load_strategy("mypkg.mystrat:Momentum", {"runs": 4})
    with pytest.raises(StrategyError, match=r"^strategy\.params\.run: must be an int >= 2, got 1"):
        load_strategy("mypkg.mystrat:Momentum", {"run": 1})
