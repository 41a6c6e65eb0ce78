"""``quantrail bench venue`` runs the real chain: every order fills, nothing is left working.

No speed is asserted here (house rule): the figures are the README's, from a full run.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from quantrail.ops.bench_venue import VenueBenchOptions, run_interleaved, run_venue_bench


async def test_a_small_run_fills_every_order_and_times_every_block() -> None:
    with_orders, baseline = await run_interleaved(VenueBenchOptions(quotes=2000, order_every=200))
    assert (with_orders.orders, with_orders.fills, with_orders.open_orders_at_end) == (10, 10, 0)
    assert (baseline.orders, baseline.fills, baseline.quotes) == (0, 0, 2000)
    for run in (with_orders, baseline):
        assert run.first_per_s > 0 and run.last_per_s > 0 and run.cpu_seconds > 0
    # The market orders fill on arrival: no quote ever had a working order to look at.
    assert with_orders.orders_examined == 0


def test_the_report_is_written_as_json(tmp_path: Path) -> None:
    out = tmp_path / "venue.json"
    report = run_venue_bench(VenueBenchOptions(quotes=1000, order_every=100, json_path=out))
    written = json.loads(out.read_text())
    assert written["with_orders"]["fills"] == 10
    assert written["relative_ratio"] == pytest.approx(report.relative_ratio)
    assert set(written["target"]) == {"relative_ratio_at_least", "passed"}


@pytest.mark.parametrize(("quotes", "order_every"), [(999, 100), (1000, 0)])
def test_sizes_that_leave_no_whole_tenth_are_refused(quotes: int, order_every: int) -> None:
    with pytest.raises(ValueError, match=r"--quotes|--order-every"):
        VenueBenchOptions(quotes=quotes, order_every=order_every)
