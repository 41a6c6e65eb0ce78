"""Daily P&L by hand: baseline at prior close, fills move the average, marks, fees, HWM."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kit.killswitch import BEFORE_PRINT_PNL, LOSS_PCT, LOSS_PNL
from quantrail.risk.baseline import BaselineRow
from quantrail.risk.daily_pnl import DailyPnl, breached, budget_remaining
from quantrail.vocab import Bucket, Side

D = Decimal


def losing_day() -> DailyPnl:
    day = DailyPnl("ACC1", D(100000), [BaselineRow("ACME", 1000, Bucket.LT, D("50.00"))])
    day.on_fill("ACME", Side.BUY, 1000, D("49.00"), D("5.00"))
    day.on_fill("ACME", Side.SELL, 500, D("48.00"), D("2.50"))
    return day


def test_the_losing_day_computed_by_hand() -> None:
    day = losing_day()
    assert day.holdings["ACME"].qty == 1500 and day.holdings["ACME"].avg_cost == D("49.50")
    assert day.pnl() == BEFORE_PRINT_PNL  # marked at the prior close
    day.on_print("ACME", D("46.00"))
    figures = day.figures()
    assert figures.realized == D("-750.00")
    assert figures.unrealized == D("-5250.00")
    assert figures.fees == D("7.50")
    assert figures.pnl == LOSS_PNL and figures.pnl_pct == LOSS_PCT
    assert figures.equity == D("93992.50")
    # The highest equity seen: after the first fill, 2,000 at 49.50 marked 50.00, less 5.00.
    assert figures.high_water_mark == D("100995.00")
    assert round(figures.drawdown_pct, 6) == round(D("7002.50") / D("100995") * 100, 6)
    assert figures.open_positions == 1
    assert figures.gross_exposure_pct == D(1500 * 46) / D("93992.50") * 100
    assert breached(figures.pnl_pct, D("-5.0")) and not breached(D("-4.99"), D("-5.0"))
    assert breached(D("-5.0"), D("-5.0"))  # "to or below"


def test_marks_prefer_the_print_then_the_mid_then_the_prior_close() -> None:
    day = losing_day()
    assert day.mark("ACME") == D("50.00")
    day.on_quote("ACME", D("47.00"), D("47.10"))
    assert day.mark("ACME") == D("47.05")
    day.on_print("ACME", D("46.50"))
    day.on_quote("ACME", D("48.00"), D("48.10"))
    assert day.mark("ACME") == D("46.50")


def test_a_fill_through_zero_realizes_the_old_side_and_opens_the_new() -> None:
    day = DailyPnl("ACC1", D(10000))
    day.on_fill("XYZ", Side.BUY, 100, D("10.00"), D(0))
    assert day.mark("XYZ") == D("10.00")  # no market data yet: the cost
    day.on_fill("XYZ", Side.SELL, 300, D("11.00"), D(0))
    assert day.realized == D("100.00")
    assert (day.holdings["XYZ"].qty, day.holdings["XYZ"].avg_cost) == (-200, D("11.00"))
    day.on_print("XYZ", D("12.00"))
    assert day.unrealized() == D("-200.00")


def test_a_new_day_carries_positions_at_their_mark_and_the_equity() -> None:
    day = losing_day()
    day.on_print("ACME", D("46.00"))
    tomorrow = day.roll()
    assert tomorrow.start_equity == D("93992.50")
    assert tomorrow.prior_close == {"ACME": D("46.00")}
    assert tomorrow.pnl() == 0 and tomorrow.fees == 0


def test_the_loss_budget_left() -> None:
    assert budget_remaining(D(1), D(-5)) == 100
    assert budget_remaining(D("-2.5"), D(-5)) == 50
    assert budget_remaining(D(-7), D(-5)) == 0


def test_bad_input_is_refused_with_the_field_named() -> None:
    with pytest.raises(ValueError, match="equity"):
        DailyPnl("ACC1", D(0))
    with pytest.raises(ValueError, match="fill"):
        losing_day().on_fill("ACME", Side.BUY, 0, D(1), D(0))


def test_a_corrected_fill_gives_the_days_pnl_as_if_it_had_been_right() -> None:
    """Buy 300 @ 10.00 (fee 1.50), sell 100 @ 10.20 (fee 1.00); the buy is corrected to
    300 @ 9.95 (fee 1.75). Hand: cash -2985 + 1020 = -1965, 200 held at 10.10 = 2020,
    P&L = 55 - fees 2.75 = 52.25, the same as a day booked right from the start."""
    day, right = DailyPnl("ACC1", D(10000)), DailyPnl("ACC1", D(10000))
    day.on_fill("XYZ", Side.BUY, 300, D("10.00"), D("1.50"))
    day.on_fill("XYZ", Side.SELL, 100, D("10.20"), D("1.00"))
    day.on_print("XYZ", D("10.10"))
    day.on_correction("XYZ", Side.BUY, (300, D("10.00"), D("1.50")), (300, D("9.95"), D("1.75")))
    right.on_fill("XYZ", Side.BUY, 300, D("9.95"), D("1.75"))
    right.on_fill("XYZ", Side.SELL, 100, D("10.20"), D("1.00"))
    right.on_print("XYZ", D("10.10"))
    assert day.pnl() == right.pnl() == D("52.25")
    assert day.fees == D("2.75") and day.holdings["XYZ"].qty == 200
    assert day.high_water_mark == D("10052.25")  # no peak from the half-way state


def test_the_revision_moves_with_the_figures_and_not_with_an_unheld_symbols_prices() -> None:
    day = DailyPnl("ACC1", D(100000), [BaselineRow("ACME", 1000, Bucket.LT, D("50.00"))])
    start = day.revision
    day.on_quote("OTHER", D("10.00"), D("10.02"))
    day.on_print("OTHER", D("10.01"))
    assert day.revision == start  # no figure uses them
    day.on_quote("ACME", D("49.00"), D("49.02"))
    assert day.revision == start + 1 and not day.marked_by_prints("ACME")
    day.on_print("ACME", D("49.01"))
    assert day.revision == start + 2 and day.marked_by_prints("ACME")
    day.on_fill("OTHER", Side.BUY, 10, D("10.01"), D("0.35"))
    assert day.revision == start + 3
