"""``quantrail service signals`` refuses a bad strategy at start-up: one line, exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from kit.event_base import T0
from kit.strategy_chain import script
from quantrail.cli import app

runner = CliRunner(env={"COLUMNS": "300"})


def config_file(tmp_path: Path, strategy: str) -> Path:
    path = tmp_path / "quantrail.yaml"
    path.write_text(
        "risk:\n  accounts: [{name: ACC1, equity: 100000}]\nstrategy:\n" + strategy,
        encoding="utf-8",
    )
    return path


@pytest.mark.parametrize(
    ("strategy", "expected"),
    [
        (
            "  name: breakout\n  params: {lookbak: 5}\n",
            "strategy.params.lookbak: unknown parameter",
        ),
        ("  name: breakout\n  params: {lookback: 0}\n", "strategy.params.lookback: must be an int"),
        ("  name: nopkg.strat:Mine\n", "strategy.name: cannot import module 'nopkg.strat'"),
        ("  name: breakout\n  timeframe: 5m\n", "strategy.timeframe: '5m' is not built by the"),
    ],
)
def test_a_bad_strategy_exits_2_naming_the_key(
    tmp_path: Path, strategy: str, expected: str
) -> None:
    result = runner.invoke(app, ["service", "signals", "-c", str(config_file(tmp_path, strategy))])
    assert result.exit_code == 2, result.output
    assert expected in result.output


def test_a_bad_script_row_exits_2_naming_file_line_column_and_value(tmp_path: Path) -> None:
    path = script(tmp_path / "s.csv", [
        f"{T0},ACME,LONG,70,0.8,24.50,ok",
        f"{T0},ACME,LONG,70,high,24.50,bad confidence",
    ])  # fmt: skip
    strategy = f"  name: scripted\n  params: {{path: '{path}'}}\n"
    result = runner.invoke(app, ["service", "signals", "-c", str(config_file(tmp_path, strategy))])
    assert result.exit_code == 2, result.output
    assert f"strategy.params.path: {path} line 3, column confidence:" in result.output
    assert "got 'high'" in result.output


def test_a_strategy_without_an_account_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "quantrail.yaml"
    path.write_text("strategy:\n  name: breakout\n", encoding="utf-8")
    result = runner.invoke(app, ["service", "signals", "-c", str(path)])
    assert result.exit_code == 2, result.output
    assert "strategy.account: no account" in result.output
