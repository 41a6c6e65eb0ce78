"""The quote tape: a run cut from it is the run the steps give, one by one."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kit.event_base import T0
from kit.market_events import quote, trade_print
from quantrail.backtest.quote_runs import _run_of, quote_tape
from quantrail.backtest.run import Step
from quantrail.events.market import QuoteUpdated


def steps() -> list[Step]:
    """Steps of one or two quotes, a print among them, a mark: every kind a tape has."""
    out: list[Step] = []
    for index in range(40):
        ts = T0 + index * 1_000
        if index % 13 == 7:
            out.append(Step(ts_ns=ts, events=[trade_print(ts_event=ts)]))
            continue
        quotes = [quote(ts_event=ts, bid=Decimal("10.00") + index)] * (1 + index % 2)
        out.append(Step(ts_ns=ts, events=list(quotes), quotes_only=True))
    out.append(Step(ts_ns=T0 + 40_000))  # a mark's step
    return out


def run_one_by_one(
    steps: list[Step], index: int, wake: int | None, window: int
) -> tuple[list[QuoteUpdated], list[int]]:
    """The run as the steps give it (the rule ``_run_of`` keeps)."""
    quotes: list[QuoteUpdated] = []
    ends: list[int] = []
    for step in steps[index:]:
        if not step.quotes_only or (wake is not None and step.ts_ns >= wake):
            break
        quotes.extend(e for e in step.events if isinstance(e, QuoteUpdated))
        ends.append(len(quotes))
        if len(quotes) >= window:
            break
    return quotes, ends


@pytest.mark.parametrize("window", [1, 3, 8, 4096])
@pytest.mark.parametrize("wake", [None, T0 + 5_500, T0 + 21_000, T0])
def test_a_run_from_the_tape_is_the_run_of_the_steps(window: int, wake: int | None) -> None:
    all_steps = steps()
    tape = quote_tape(all_steps)
    for index in range(len(all_steps)):
        assert _run_of(tape, index, wake, window) == run_one_by_one(all_steps, index, wake, window)
