"""The demo day: starts over the limits, ends at or under 100%, every intent accounted for."""

from __future__ import annotations

from quantrail.ops.demo_day import DemoOptions, run_demo_day
from quantrail.vocab import Mode


async def test_the_day_derisks_to_flat_enough_and_accounts_for_every_intent() -> None:
    summary = await run_demo_day(DemoOptions(symbols=12, step_s=120.0))
    assert summary.open_gross_pct is not None and summary.open_gross_pct > 130.0
    modes = [change.mode for change in summary.mode_changes]
    assert Mode.HARD_DERISK in modes and Mode.SOFT_DERISK in modes
    assert summary.intents > 0 and summary.fills > 0
    assert summary.flat_enough, summary.close_gross_pct
    assert summary.accounted, summary.unaccounted
    assert sum(summary.order_status.values()) >= summary.intents


async def test_same_seed_same_day() -> None:
    first = await run_demo_day(DemoOptions(symbols=8, step_s=300.0, seed=11))
    second = await run_demo_day(DemoOptions(symbols=8, step_s=300.0, seed=11))
    assert [(c.ts_event, c.mode, c.reason) for c in first.mode_changes] == [
        (c.ts_event, c.mode, c.reason) for c in second.mode_changes
    ]
    assert first.order_status == second.order_status
    assert (first.fills, first.fees, first.close_gross_pct) == (
        second.fills, second.fees, second.close_gross_pct,
    )  # fmt: skip
