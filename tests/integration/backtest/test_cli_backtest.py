"""``quantrail backtest`` in process: files written whole and the same every time, bad input
named with exit 2 and nothing written."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kit.backtest import DAY0, MINUTE_NS, bar_rows, write_bars_csv
from quantrail.backtest import chain
from quantrail.cli import app
from quantrail.marketdata.replay import write_market_file
from quantrail.marketdata.types import Print, Quote

D = Decimal

runner = CliRunner(env={"COLUMNS": "200"})
CLOSES = ["10.00", "10.10", "10.05", "10.20", "10.30", "10.25"]


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "quantrail.yaml"
    path.write_text("backtest:\n  initial_equity: '50000'\n")
    return path


@pytest.fixture
def bars(tmp_path: Path) -> Path:
    rows = [*bar_rows("XYZ", CLOSES), *bar_rows("ABC", CLOSES)]
    return write_bars_csv(tmp_path / "bars.csv", rows)


def cli(*args: str | Path) -> tuple[int, str]:
    result = runner.invoke(app, ["backtest", *map(str, args), "--no-progress"])
    return result.exit_code, result.output


def test_writes_result_trades_and_report_the_same_bytes_twice(
    tmp_path: Path, bars: Path, config: Path
) -> None:
    outputs = []
    for name in ("one", "two"):
        code, text = cli("--market", bars, "-c", config, "--out", tmp_path / name)
        assert code == 0, text
        outputs.append({f: (tmp_path / name / f).read_bytes() for f in
                        ("result.json", "trades.csv", "report.html")})  # fmt: skip
    assert outputs[0] == outputs[1]
    document = json.loads(outputs[0]["result.json"])
    assert document["summary"]["initial_equity"] == "50000.00"
    assert document["summary"]["net_pnl"] == "0.00"
    assert document["equity_curve"][0] == ["2024-01-11T14:31:00Z", "50000.00"]
    assert b"Plotly.newPlot" in outputs[0]["report.html"]
    assert "final_equity" in text and "wrote result.json" in text


def test_window_and_shell_glob_files(tmp_path: Path, bars: Path, config: Path) -> None:
    extra = write_bars_csv(tmp_path / "more.csv", bar_rows("DEF", CLOSES))
    window = ("--from", "2024-01-11T14:32:00Z", "--to", str(DAY0 + 3 * MINUTE_NS))
    code, text = cli("--market", bars, extra, "-c", config, "--out", tmp_path / "o", *window)
    assert code == 0, text
    curve = json.loads((tmp_path / "o" / "result.json").read_text())["equity_curve"]
    assert [point[0] for point in curve[:2]] == ["2024-01-11T14:33:00Z", "2024-01-11T14:34:00Z"]


def test_quote_and_print_files_run_on_the_simulated_venue(tmp_path: Path, config: Path) -> None:
    tape = tmp_path / "tape.csv"
    write_market_file(tape, [
        Quote(symbol="XYZ", bid=D("9.99"), ask=D("10.01"), bid_size=500, ask_size=500, ts_ns=DAY0),
        Print(symbol="XYZ", price=D("10.00"), size=100, ts_ns=DAY0 + 5_000_000_000),
    ])  # fmt: skip
    code, text = cli("--market", tape, "-c", config, "--out", tmp_path / "o")
    assert code == 0, text
    document = json.loads((tmp_path / "o" / "result.json").read_text())
    assert document["equity_curve"][0] == ["2024-01-11T14:31:00Z", "50000.00"]


@pytest.mark.parametrize(
    ("cell", "column"), [("10.05x", "open"), ("-3", "volume"), ("9.00", "high")]
)
def test_bad_market_row_exit_2_naming_file_line_column(
    tmp_path: Path, config: Path, cell: str, column: str
) -> None:
    row = {"open": "10.00", "high": "10.20", "low": "9.90", "close": "10.10", "volume": "5"}
    row[column] = cell
    rows = [*bar_rows("XYZ", CLOSES[:2])]
    rows.append([DAY0 + 2 * MINUTE_NS, "XYZ", row["open"], row["high"], row["low"],
                 row["close"], row["volume"]])  # fmt: skip
    path = write_bars_csv(tmp_path / "bad.csv", rows)
    code, text = cli("--market", path, "-c", config, "--out", tmp_path / "o")
    assert code == 2
    assert f"{path}, line 4, column '{column}'" in text.replace("\n", "") and cell in text
    assert not (tmp_path / "o").exists()


def test_from_after_to_exit_2(tmp_path: Path, bars: Path, config: Path) -> None:
    code, text = cli("--market", bars, "-c", config, "--out", tmp_path / "o",
                     "--from", "2024-01-12T00:00:00Z", "--to", "2024-01-11T00:00:00Z")  # fmt: skip
    assert code == 2 and "--from" in text and "after --to" in text
    code, text = cli("--market", bars, "-c", config, "--from", "yesterday")
    assert code == 2 and "'yesterday'" in text


def test_config_out_of_range_exit_2(tmp_path: Path, bars: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("backtest:\n  slippage_ticks: -1\n")
    code, text = cli("--market", bars, "-c", path, "--out", tmp_path / "o")
    assert code == 2 and "backtest.slippage_ticks" in text and "-1" in text


def test_mixed_kinds_and_unknown_header_exit_2(tmp_path: Path, bars: Path, config: Path) -> None:
    tape = tmp_path / "tape.csv"
    write_market_file(tape, [Print(symbol="XYZ", price=D("10"), size=100, ts_ns=DAY0)])
    code, text = cli("--market", bars, "--market", tape, "-c", config)
    assert code == 2 and "not both" in text
    odd = tmp_path / "odd.csv"
    odd.write_text("time,price\n")
    code, text = cli("--market", odd, "-c", config)
    assert code == 2 and "line 1, column 'header'" in text


def test_failed_run_keeps_the_earlier_result(tmp_path: Path, bars: Path, config: Path) -> None:
    out = tmp_path / "o"
    assert cli("--market", bars, "-c", config, "--out", out)[0] == 0
    before = (out / "result.json").read_bytes()
    bad = write_bars_csv(tmp_path / "bad.csv", [[DAY0, "XYZ", "x", "1", "1", "1", "1"]])
    assert cli("--market", bad, "-c", config, "--out", out)[0] == 2
    assert (out / "result.json").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".o")) == []


def test_missing_signals_file_exit_2(tmp_path: Path, bars: Path, config: Path) -> None:
    code, text = cli("--market", bars, "-c", config, "--signals", tmp_path / "none.csv")
    assert code == 2 and "--signals" in text and "none.csv" in text


def test_a_result_that_does_not_reconcile_exits_1_writing_nothing(
    tmp_path: Path, bars: Path, config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A plug-in found through the chain's builders publishes a close no fill supports."""
    monkeypatch.setattr(chain, "CHAIN", (*chain.CHAIN, ("bogus_close", "kit.backtest")))
    code, text = cli("--market", bars, "-c", config, "--out", tmp_path / "o")
    assert code == 1 and "does not reconcile" in text and "net_pnl" in text
    assert not (tmp_path / "o").exists()
