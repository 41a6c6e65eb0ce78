"""Writing a backtest's files all at once: into a temporary directory beside ``out``, renamed
to ``out`` at the end, so a failed run leaves nothing half-written (and an earlier result in
``out`` is replaced only by a complete one)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

from quantrail.backtest.bars import Bar
from quantrail.backtest.report import render_report
from quantrail.backtest.result import BacktestResult, result_json, trades_csv

FILES = ("result.json", "trades.csv", "report.html")


def write_outputs(result: BacktestResult, bars: Sequence[Bar], out: Path, title: str) -> None:
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    staging.chmod(0o755)  # mkdtemp makes it private; the result is an ordinary directory
    try:
        (staging / "result.json").write_text(result_json(result), encoding="utf-8")
        (staging / "trades.csv").write_text(trades_csv(result), encoding="utf-8")
        (staging / "report.html").write_text(render_report(result, bars, title), encoding="utf-8")
        _swap_in(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _swap_in(staging: Path, out: Path) -> None:
    if not out.exists():
        os.rename(staging, out)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old.", dir=out.parent))
    old.rmdir()
    os.rename(out, old)
    os.rename(staging, out)
    shutil.rmtree(old, ignore_errors=True)
