"""The committed sample bars are what the script makes, and they read cleanly."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from quantrail.backtest.bars import read_bars

ROOT = Path(__file__).resolve().parents[3]
SAMPLE = ROOT / "examples" / "bars"


def _script() -> object:
    spec = importlib.util.spec_from_file_location(
        "make_sample_bars", ROOT / "scripts" / "make_sample_bars.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_script_makes_the_committed_sample(tmp_path: Path) -> None:
    _script().main(tmp_path)  # type: ignore[attr-defined]
    made = sorted(path.name for path in tmp_path.iterdir())
    assert made == sorted(path.name for path in SAMPLE.iterdir())
    for name in made:
        if name.endswith(".csv"):
            assert (tmp_path / name).read_bytes() == (SAMPLE / name).read_bytes(), name
        else:  # Parquet bytes depend on the pyarrow version: compare the bars
            assert read_bars(tmp_path / name) == read_bars(SAMPLE / name)


def test_sample_is_small_and_every_symbol_has_four_sessions() -> None:
    assert sum(path.stat().st_size for path in SAMPLE.iterdir()) < 2_000_000
    for path in SAMPLE.iterdir():
        bars = read_bars(path)
        days = {bar.start_ns // 86_400_000_000_000 for bar in bars}
        assert len(bars) == 4 * 390 and len(days) == 4, path.name
