"""``quantrail bench backtest --quick`` runs the backtest's chain and reports every figure.

No speed is asserted (house rule): the figures are the README's, from a full run. Small sizes
under ``--quick`` keep it short; the shape is what is checked.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from quantrail.cli import app
from quantrail.ops.bench_backtest import BenchOptions, why_not_compared

SMALL = ["--quick", "--quotes", "3000", "--bars", "30", "--order-every", "500", "--rounds", "2"]
FIGURES = {"quotes_noop", "bars_noop", "quotes_orders"}


def _bench(tmp_path: Path, *extra: str) -> tuple[str, dict]:  # type: ignore[type-arg]
    out = tmp_path / "bench.json"
    result = CliRunner(env={"COLUMNS": "200"}).invoke(
        app, ["bench", "backtest", *SMALL, *extra, "--json", str(out)]
    )
    assert result.exit_code == 0, result.output
    return result.output, json.loads(out.read_text())


def _ours_ran(report: dict) -> None:  # type: ignore[type-arg]
    assert set(report["figures"]) == FIGURES
    counts = {name: figure["count"] for name, figure in report["figures"].items()}
    assert counts == {"quotes_noop": 3000, "bars_noop": 30, "quotes_orders": 3000}
    for figure in [report["bus_alone"], *report["figures"].values()]:
        assert figure["ours"]["per_cpu_s"] > 0 and figure["ours"]["wall_s"] > 0
    # The chain with orders traded: entries and their stop exits filled.
    assert report["figures"]["quotes_orders"]["ours"]["fills"] >= 2
    assert report["figures"]["quotes_noop"]["ours"]["fills"] == 0
    assert report["figures"]["quotes_noop"]["over_bus_alone"] > 0
    # The quote paths ran in rounds (their figure is the median round); bars and the bus once.
    rounds = {name: len(figure["rounds"]) for name, figure in report["figures"].items()}
    assert rounds == {"quotes_noop": 2, "bars_noop": 1, "quotes_orders": 2}
    assert report["environment"]["rounds"] == 2


def test_without_nautilus_our_figures_print_alone(tmp_path: Path) -> None:
    output, report = _bench(tmp_path, "--no-compare")
    _ours_ran(report)
    assert "NautilusTrader not run" in output and "quotes_orders" in output
    assert report["nautilus_trader"] is None
    assert all(figure["ratio"] is None for figure in report["figures"].values())


@pytest.mark.skipif(
    importlib.util.find_spec("nautilus_trader") is None, reason="quantrail[compare] not installed"
)
def test_with_nautilus_every_figure_has_its_ratio(tmp_path: Path) -> None:
    output, report = _bench(tmp_path)
    _ours_ran(report)
    assert report["nautilus_trader"]
    for figure in report["figures"].values():
        assert figure["nautilus"]["per_cpu_s"] > 0 and figure["ratio"] > 0
        assert all(each["nautilus_cpu_s"] > 0 for each in figure["rounds"])
    noop = report["figures"]["quotes_noop"]
    ratios = sorted(each["nautilus_cpu_s"] / each["ours_cpu_s"] for each in noop["rounds"])
    assert noop["ratio"] == pytest.approx(sum(ratios) / 2)  # the median of two rounds
    assert "median of 2 rounds" in output
    # Nautilus's strategy orders every 500 quotes: 6 market orders, all filled.
    assert report["figures"]["quotes_orders"]["nautilus"]["fills"] == 6
    assert report["figures"]["quotes_noop"]["target"] == 1.0
    assert "ratio" in output


@pytest.mark.parametrize("field", ["quotes", "bars", "order_every", "rounds"])
def test_a_size_under_one_is_refused(field: str) -> None:
    with pytest.raises(ValueError, match=f"--{field.replace('_', '-')}: must be >= 1"):
        BenchOptions(**{field: 0})  # type: ignore[arg-type]


def test_the_report_says_why_nautilus_did_not_run() -> None:
    assert why_not_compared(asked=True, installed=False) == (
        "NautilusTrader not installed (pip install 'quantrail[compare]')"
    )
    assert why_not_compared(asked=False, installed=True) == "NautilusTrader not run (--no-compare)"
    assert why_not_compared(asked=True, installed=True) == ""
