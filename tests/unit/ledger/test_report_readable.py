"""The EOD report reads at a glance: a total P&L line, thousands separators in the HTML, the P&L
through the day and the mode changes in the CSV, the risk limits drawn on the exposure chart."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from kit.ledger import DAY, HAND_MARKS, OPEN_NS, SECOND_NS, hand_fills, hand_snapshot
from quantrail.ledger.booking import Booker
from quantrail.ledger.journal import ExposureSample, ModeChange
from quantrail.ledger.report import EodReport, report_eod
from quantrail.ledger.store import LedgerStore
from quantrail.vocab import Mode

NY = "America/New_York"
LIMITS = (("hard cap", Decimal(130)), ("close limit", Decimal(100)))


@pytest.fixture
def report() -> EodReport:
    with LedgerStore.open("sqlite:///:memory:") as store:
        store.save_snapshot(hand_snapshot("HAMMER"))
        booker = Booker(store, timezone=NY)
        for fill in hand_fills("HAMMER"):
            booker.book(fill)
        store.journal.record_mode_change(
            ModeChange(OPEN_NS + 60 * SECOND_NS, Mode.SOFT_DERISK, "gross 121%", "HAMMER", "m1")
        )
        store.journal.record_exposure(
            ExposureSample(OPEN_NS, Decimal(1_000_000), Decimal(700_000), Decimal(400_000),
                           Decimal("110"), Decimal("30"), "HAMMER")
        )  # fmt: skip
        return report_eod(store, "HAMMER", DAY, marks=HAND_MARKS["HAMMER"], timezone=NY,
                          limits=LIMITS)  # fmt: skip


def test_the_report_has_a_total_pnl_line(report: EodReport) -> None:
    data = json.loads(report.to_json())
    # net realized 478.25 + unrealized 100.00 (the worked example of docs/ledger.md)
    assert data["total_pnl"] == "578.25"
    assert "summary,,total_pnl,578.25" in report.to_csv().splitlines()
    assert "<td>total P&amp;L</td><td>578.25</td>" in report.to_html()


def test_the_html_shows_thousands_separators(report: EodReport) -> None:
    page = report.to_html()
    assert "19,380.00" in page and "19380.00" not in page


def test_the_csv_holds_the_pnl_through_the_day_and_the_mode_changes(report: EodReport) -> None:
    rows = report.to_csv().splitlines()
    pnl = [row for row in rows if row.startswith("pnl,")]
    assert len(pnl) == 2 * report.fill_count  # per fill: its id and the cumulative net P&L
    assert any(row.endswith(",cumulative_net_pnl,478.25") for row in pnl)
    assert any(row.startswith("mode_change,") and row.endswith(",mode,SOFT_DERISK") for row in rows)


def test_the_exposure_chart_draws_the_limits(report: EodReport) -> None:
    page = report.to_html()
    assert "hard cap 130%" in page and "close limit 100%" in page
    assert page.count("stroke-dasharray") >= 2
