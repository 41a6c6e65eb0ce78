"""The backtest's clock steps, the real execution service and the bar venue together."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from kit.backtest import DAY0, MINUTE_NS, TimedEvents, bar, intent
from kit.position_events import position_closed
from quantrail.backtest.result import ReconciliationError, equity_curve
from quantrail.backtest.run import backtest_config, bar_market, play_market, run_market
from quantrail.config import Config
from quantrail.events import OrderFilled
from quantrail.vocab import Side

D = Decimal
SECOND = 1_000_000_000


def _bars() -> list:  # type: ignore[type-arg]
    shapes = [  # open, high, low, close
        ("10.00", "10.20", "9.90", "10.10"),
        ("10.40", "10.50", "10.30", "10.45"),
        ("10.50", "10.60", "9.50", "9.60"),  # trades through the 9.80 stop
        ("9.00", "9.10", "8.90", "9.05"),
    ]
    return [
        bar(start_ns=DAY0 + i * MINUTE_NS, open=D(o), high=D(h), low=D(lo), close=D(c))
        for i, (o, h, lo, c) in enumerate(shapes)
    ]


async def test_entry_at_next_open_and_stop_exit_at_the_stop(tmp_path: Path) -> None:
    config = backtest_config(Config(), None, None, tmp_path)
    script = TimedEvents([
        intent(DAY0 + 30 * SECOND, "entry-1", Side.BUY),
        intent(DAY0 + 2 * MINUTE_NS + 31 * SECOND, "exit:stop:pos-1:1", Side.SELL,
               reduce_only=True, stop_price=D("9.80"), reason="stop"),
    ])  # fmt: skip
    played = await play_market(config, bar_market(_bars(), D("0.01")), extra=[script])
    fills = [e for e in played.events if isinstance(e, OrderFilled)]
    assert [(f.side, f.last_price, f.fees) for f in fills] == [
        (Side.BUY, D("10.41"), D("1.00")),  # bar 1's open + 1 tick
        (Side.SELL, D("9.80"), D("1.00")),  # the stop, inside bar 2
    ]
    assert DAY0 + MINUTE_NS <= fills[0].ts_event < DAY0 + MINUTE_NS + 15 * SECOND
    assert DAY0 + 2 * MINUTE_NS + 31 * SECOND <= fills[1].ts_event < DAY0 + 3 * MINUTE_NS
    curve = equity_curve(D("100000"), fills, played.points)
    # after bar 1: 100000 - 1041 - 1 + 100 x 10.45; at the end: flat, -61 - 2 in fees
    assert curve[1] == (DAY0 + 2 * MINUTE_NS, D("100003.00"))
    assert curve[-1][1] == D("99937.00")
    assert "execution" in played.built


async def test_same_inputs_same_events(tmp_path: Path) -> None:
    config = backtest_config(Config(), None, None, tmp_path)

    async def fills() -> list[tuple[object, ...]]:
        script = TimedEvents([intent(DAY0 + 30 * SECOND, "entry-1", Side.BUY)])
        played = await play_market(config, bar_market(_bars(), D("0.01")), extra=[script])
        return [(e.kind, e.ts_event, getattr(e, "fill_id", "")) for e in played.events]

    assert await fills() == await fills()


async def test_a_result_that_does_not_reconcile_is_refused(tmp_path: Path) -> None:
    """A position event that disagrees with the fills (here a made-up +500.00 close) fails
    the net_pnl check, whatever else the positions service says."""
    config = backtest_config(Config(), None, None, tmp_path)
    bogus = position_closed(ts_event=DAY0 + 3 * MINUTE_NS, account="BACKTEST", symbol="XYZ",
                            realized_pnl="500.00")  # fmt: skip
    script = TimedEvents([
        intent(DAY0 + 30 * SECOND, "entry-1", Side.BUY),
        intent(DAY0 + 2 * MINUTE_NS + 31 * SECOND, "exit-1", Side.SELL, reduce_only=True),
        bogus,
    ])  # fmt: skip
    with pytest.raises(ReconciliationError, match="net_pnl: final_equity - initial_equity"):
        await run_market(config, bar_market(_bars(), D("0.01")), extra=[script])
