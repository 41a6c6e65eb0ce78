"""The helpers of market readers' folds: a busy symbol stops a run; the timer grid."""

from __future__ import annotations

from dataclasses import dataclass

from quantrail.runtime.market_fold import TimerGrid, quiet_unless


@dataclass(frozen=True)
class Priced:
    symbol: str


def test_a_run_is_quiet_up_to_the_first_event_of_a_busy_symbol_asked_once_each() -> None:
    asked: list[str] = []

    def busy(symbol: str) -> bool:
        asked.append(symbol)
        return symbol == "HELD"

    events = [Priced("A"), Priced("B"), Priced("A"), Priced("HELD"), Priced("A")]
    assert quiet_unless(events, busy) == 3
    assert asked == ["A", "B", "HELD"]
    assert quiet_unless([Priced("A")] * 4, busy) == 4


def test_the_grid_gives_the_first_point_at_or_after_a_time() -> None:
    grid = TimerGrid(origin_ns=1_000, step_ns=100, wake_ns=None)
    assert grid.at_or_after(1_000) == 1_000
    assert grid.at_or_after(1_001) == 1_100
    assert grid.at_or_after(1_250) == 1_300
