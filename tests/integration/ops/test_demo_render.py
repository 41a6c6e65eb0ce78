"""The demo's printout explains itself: fills vs filled orders, money with its currency, the
close gross with its time, and the P&L and cost of the de-risking (booked by the real ledger)."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from rich.console import Console

from quantrail.ops.demo_day import DemoOptions, DemoSummary, run_demo_day
from quantrail.ops.demo_render import render_day


@pytest.fixture(scope="module")
def day() -> tuple[DemoSummary, str]:
    import asyncio

    summary = asyncio.run(run_demo_day(DemoOptions(symbols=12, step_s=120.0)))
    console = Console(width=80, record=True, file=open("/dev/null", "w"))  # noqa: SIM115
    render_day(console, summary)
    return summary, console.export_text()


def test_fills_and_filled_orders_are_explained(day: tuple[DemoSummary, str]) -> None:
    summary, text = day
    assert summary.fills >= summary.order_status["FILLED"]
    row = next(line for line in text.splitlines() if "fills (an order can fill in parts)" in line)
    assert f" {summary.fills:,} " in row
    row = next(line for line in text.splitlines() if "orders with a fill" in line)
    assert f" {sum(summary.orders_with_fills.values()):,} " in row


def test_money_has_its_currency_and_the_pnl_adds_up(day: tuple[DemoSummary, str]) -> None:
    summary, text = day
    pnl = summary.pnl
    assert pnl is not None and pnl.fees == summary.fees
    assert pnl.net == pnl.baseline_realized + pnl.intraday_realized - pnl.fees
    flat = " ".join(text.split())
    assert f"fees USD {summary.fees:,.2f}" in flat
    assert f"net USD {pnl.net:,.2f}" in flat
    assert "de-risking" in flat and "prior close" in flat


def test_the_close_gross_is_one_figure_with_its_time(day: tuple[DemoSummary, str]) -> None:
    summary, text = day
    assert summary.close_gross_pct is not None
    figure = f"{summary.close_gross_pct:.2f}%"
    line = next(line for line in text.splitlines() if "at the close" in line and "%" in line)
    assert figure in line and re.search(r"\d\d:\d\d:\d\d", line), line
    assert Decimal(figure[:-1]) <= 100
