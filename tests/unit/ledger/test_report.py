"""The EOD report: a hand-computed day per account, booked through the store, to the cent.

Every figure below is worked out by hand from the kit's days (``kit.ledger.hand_fills``) with
the arithmetic in the comments; the report must match each one exactly.
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from kit.ledger import (
    ACCOUNTS,
    DAY,
    HAND_MARKS,
    OPEN_NS,
    SECOND_NS,
    hand_fills,
    hand_snapshot,
)
from quantrail.ledger.booking import Booker
from quantrail.ledger.journal import ExposureSample, ModeChange
from quantrail.ledger.report import (
    ReconciliationError,
    reconcile_positions,
    report_eod,
    split_fee,
)
from quantrail.ledger.report_html import nice_ticks
from quantrail.ledger.sql import connect
from quantrail.ledger.store import LedgerStore
from quantrail.vocab import Mode

NY = "America/New_York"
ZERO_CLASS = {"count": 0, "shares": 0, "notional": "0.00", "fees": "0.00"}

HAND = {
    # HAMMER. Baseline long 1,000 XYZ @ 25.00, short 500 ABC @ 40.00; fees 0.35 a fill.
    # f1 BUY 300 XYZ @ 25.10 opens F:f1. f2 SELL 800 XYZ @ 25.30 closes F:f1 300:
    # (25.30 - 25.10) x 300 = 60.00 intraday, then B:XYZ 500: (25.30 - 25.00) x 500 = 150.00
    # baseline. s1 SELL 200 DEF @ 10.00 (MM), s2 BUY 200 DEF @ 9.90: (10.00 - 9.90) x 200 =
    # 20.00 intraday. x1 BUY 800 ABC @ 39.50 crosses zero: closes B:ABC 500,
    # (40.00 - 39.50) x 500 = 250.00 baseline, opens F:x1 +300 @ 39.50.
    # Realized intraday 60 + 20 = 80.00; baseline 150 + 250 = 400.00; fees 5 x 0.35 = 1.75;
    # net 80.00 + 400.00 - 1.75 = 478.25. Marks XYZ 25.50, ABC 39.00: baseline XYZ 500 x
    # (25.50 - 25.00) = 250.00; intraday ABC 300 x (39.00 - 39.50) = -150.00; total 100.00.
    "HAMMER": {
        "realized_intraday_pnl": "80.00",
        "baseline_realized_pnl": "400.00",
        "fees": "1.75",
        "net_realized_pnl": "478.25",
        "unrealized_baseline_pnl": "250.00",
        "unrealized_intraday_pnl": "-150.00",
        "unrealized_pnl": "100.00",
        "positions_start": {"ABC": -500, "DEF": 0, "XYZ": 1000},
        "fills_net": {"ABC": 800, "DEF": 0, "XYZ": -500},  # +800; -200 +200; +300 -800
        "positions_end": {"ABC": 300, "DEF": 0, "XYZ": 500},
        "by_class": {
            # f1 300 x 25.10 = 7,530.00 + x1's second leg 300 x 39.50 = 11,850.00 -> 19,380.00.
            # x1's fee 0.35 over 500 + 300 shares: 0.35 x 500/800 = 0.21875 -> 0.22, the rest
            # 0.13 on this leg; with f1's 0.35 -> 0.48.
            "LT_LONG_INCREASE": {"count": 2, "shares": 600, "notional": "19380.00", "fees": "0.48"},
            "LT_LONG_DECREASE": {"count": 1, "shares": 800, "notional": "20240.00", "fees": "0.35"},
            "LT_SHORT_DECREASE": {"count": 1, "shares": 500, "notional": "19750.00",
                                  "fees": "0.22"},  # 500 x 39.50
            "MM_SHORT_INCREASE": {"count": 1, "shares": 200, "notional": "2000.00", "fees": "0.35"},
            "MM_SHORT_DECREASE": {"count": 1, "shares": 200, "notional": "1980.00", "fees": "0.35"},
        },
    },
    # IBKR_GUN. Baseline long 400 AAA @ 50.00, short 300 BBB @ 20.00, long 200 CCC @ 15.00 (MM).
    # g1 SELL 300 BBB @ 19.80 opens F:g1 -300. g2 BUY 500 BBB @ 19.50 closes F:g1:
    # (19.80 - 19.50) x 300 = 90.00 intraday, then B:BBB 200: (20.00 - 19.50) x 200 = 100.00
    # baseline. g3 SELL 600 AAA @ 51.00 crosses zero: B:AAA 400, (51.00 - 50.00) x 400 = 400.00
    # baseline, opens F:g3 -200. g4 BUY 200 AAA @ 50.60 closes it: (51.00 - 50.60) x 200 =
    # 80.00 intraday. g5 BUY 100 CCC @ 15.20 (MM) opens F:g5. g6 SELL 150 CCC @ 15.10 closes
    # F:g5: (15.10 - 15.20) x 100 = -10.00 intraday, then B:CCC 50: (15.10 - 15.00) x 50 = 5.00
    # baseline. Intraday 90 + 80 - 10 = 160.00; baseline 100 + 400 + 5 = 505.00; fees 1.00 +
    # 1.00 + 1.25 + 0.75 + 0.10 + 0.15 = 4.25; net 160.00 + 505.00 - 4.25 = 660.75.
    # Marks BBB 19.40, CCC 15.30: B:BBB -100 x (20.00 - 19.40) = 60.00; B:CCC 150 x
    # (15.30 - 15.00) = 45.00; baseline 105.00, no intraday lot open.
    "IBKR_GUN": {
        "realized_intraday_pnl": "160.00",
        "baseline_realized_pnl": "505.00",
        "fees": "4.25",
        "net_realized_pnl": "660.75",
        "unrealized_baseline_pnl": "105.00",
        "unrealized_intraday_pnl": "0.00",
        "unrealized_pnl": "105.00",
        "positions_start": {"AAA": 400, "BBB": -300, "CCC": 200},
        "fills_net": {"AAA": -400, "BBB": 200, "CCC": -50},  # -600 +200; -300 +500; +100 -150
        "positions_end": {"AAA": 0, "BBB": -100, "CCC": 150},
        "by_class": {
            # g3's fee 1.25 over 400 + 200: 1.25 x 400/600 = 0.8333 -> 0.83, the rest 0.42.
            "LT_LONG_DECREASE": {"count": 1, "shares": 400, "notional": "20400.00",
                                 "fees": "0.83"},  # 400 x 51.00
            # g1 300 x 19.80 = 5,940.00 + g3 200 x 51.00 = 10,200.00; fees 1.00 + 0.42.
            "LT_SHORT_INCREASE": {"count": 2, "shares": 500, "notional": "16140.00",
                                  "fees": "1.42"},
            # g2 500 x 19.50 = 9,750.00 + g4 200 x 50.60 = 10,120.00; fees 1.00 + 0.75.
            "LT_SHORT_DECREASE": {"count": 2, "shares": 700, "notional": "19870.00",
                                  "fees": "1.75"},
            "MM_LONG_INCREASE": {"count": 1, "shares": 100, "notional": "1520.00", "fees": "0.10"},
            "MM_LONG_DECREASE": {"count": 1, "shares": 150, "notional": "2265.00", "fees": "0.15"},
        },
    },
    # IBKR_PED. Baseline short 1,000 ZZZ @ 8.00, long 300 YYY @ 100.00; sub-penny prices.
    # p1 BUY 1,500 ZZZ @ 7.90 crosses zero: B:ZZZ 1,000, (8.00 - 7.90) x 1,000 = 100.00
    # baseline, opens F:p1 +500. p2 SELL 500 ZZZ @ 7.95 closes it: (7.95 - 7.90) x 500 = 25.00
    # intraday. p3 SELL 100 YYY @ 101.00375: B:YYY, (101.00375 - 100.00) x 100 = 100.375
    # baseline. p4 SELL 400 YYY @ 100.50 (MM) crosses zero: B:YYY 200, (100.50 - 100.00) x 200
    # = 100.00 baseline, opens F:p4 -200. p5 BUY 200 YYY @ 100.7525 (MM) closes it:
    # (100.50 - 100.7525) x 200 = -50.50 intraday.
    # Intraday 25.00 - 50.50 = -25.50; baseline 100.00 + 100.375 + 100.00 = 300.375, shown
    # 300.38 (half-even: 7 is odd, round up); fees 5.25 + 1.75 + 0.35 + 1.40 + 0.70 = 9.45;
    # net as shown: -25.50 + 300.38 - 9.45 = 265.43. Everything is flat: unrealized 0.00.
    "IBKR_PED": {
        "realized_intraday_pnl": "-25.50",
        "baseline_realized_pnl": "300.38",
        "fees": "9.45",
        "net_realized_pnl": "265.43",
        "unrealized_baseline_pnl": "0.00",
        "unrealized_intraday_pnl": "0.00",
        "unrealized_pnl": "0.00",
        "positions_start": {"YYY": 300, "ZZZ": -1000},
        "fills_net": {"YYY": -300, "ZZZ": 1000},  # -100 -400 +200; +1,500 -500
        "positions_end": {"YYY": 0, "ZZZ": 0},
        "by_class": {
            # p1 splits 1,000 + 500: fee 5.25 x 1,000/1,500 = 3.50, the rest 1.75.
            "LT_SHORT_DECREASE": {"count": 1, "shares": 1000, "notional": "7900.00",
                                  "fees": "3.50"},  # 1,000 x 7.90
            "LT_LONG_INCREASE": {"count": 1, "shares": 500, "notional": "3950.00", "fees": "1.75"},
            # p2 500 x 7.95 = 3,975.00 + p3 100 x 101.00375 = 10,100.375 -> 14,075.375, shown
            # 14,075.38; fees 1.75 + 0.35.
            "LT_LONG_DECREASE": {"count": 2, "shares": 600, "notional": "14075.38",
                                 "fees": "2.10"},
            # p4 splits 200 + 200 at 100.50: 20,100.00 each; fee 1.40 / 2 = 0.70 each.
            "MM_LONG_DECREASE": {"count": 1, "shares": 200, "notional": "20100.00",
                                 "fees": "0.70"},
            "MM_SHORT_INCREASE": {"count": 1, "shares": 200, "notional": "20100.00",
                                  "fees": "0.70"},
            "MM_SHORT_DECREASE": {"count": 1, "shares": 200, "notional": "20150.50",
                                  "fees": "0.70"},  # 200 x 100.7525
        },
    },
}  # fmt: skip


def book_hand_day(store: LedgerStore, account: str) -> None:
    store.save_snapshot(hand_snapshot(account))
    booker = Booker(store, timezone=NY)
    for each in hand_fills(account):
        assert booker.book(each).stored


@pytest.mark.parametrize("account", ACCOUNTS)
def test_the_report_equals_the_hand_computed_day(store: LedgerStore, account: str) -> None:
    book_hand_day(store, account)

    data = report_eod(store, account, DAY, marks=HAND_MARKS[account], timezone=NY).to_dict()

    hand = HAND[account]
    for key, value in hand.items():
        if key != "by_class":
            assert data[key] == value, key
    assert data["by_class"] == {
        name: hand["by_class"].get(name, ZERO_CLASS) for name in data["by_class"]
    }
    assert data["fill_count"] == len(hand_fills(account))
    assert data["reconciliation"] == {
        "rule": "start + fills = end, per symbol",
        "ok": True,
        "symbols": len(hand["positions_end"]),
    }


def test_the_json_has_the_agreed_keys_and_every_class(store: LedgerStore) -> None:
    book_hand_day(store, "HAMMER")

    data = json.loads(report_eod(store, "HAMMER", DAY, timezone=NY).to_json())

    assert {
        "account",
        "date",
        "realized_intraday_pnl",
        "baseline_realized_pnl",
        "unrealized_pnl",
        "fees",
        "by_class",
        "positions_start",
        "positions_end",
    } <= data.keys()
    assert (data["account"], data["date"]) == ("HAMMER", "2025-03-03")
    assert list(data["by_class"]) == [
        "LT_LONG_INCREASE",
        "LT_LONG_DECREASE",
        "LT_SHORT_INCREASE",
        "LT_SHORT_DECREASE",
        "MM_LONG_INCREASE",
        "MM_LONG_DECREASE",
        "MM_SHORT_INCREASE",
        "MM_SHORT_DECREASE",
    ]
    assert "dual" not in data


def test_without_given_marks_the_last_fill_and_the_prior_close_value_the_day(
    store: LedgerStore,
) -> None:
    book_hand_day(store, "HAMMER")

    data = report_eod(store, "HAMMER", DAY, timezone=NY).to_dict()

    # XYZ last traded at 25.30 (f2): B:XYZ 500 x (25.30 - 25.00) = 150.00. ABC last traded at
    # 39.50 (x1), the price F:x1 opened at: 0.00. Total 150.00.
    assert data["unrealized_pnl"] == "150.00"
    assert data["marks"] == {
        "ABC": {"price": "39.50", "source": "last_fill"},
        "DEF": {"price": "9.90", "source": "last_fill"},
        "XYZ": {"price": "25.30", "source": "last_fill"},
    }


def test_dual_puts_baseline_and_intraday_side_by_side(store: LedgerStore) -> None:
    book_hand_day(store, "HAMMER")

    dual = report_eod(store, "HAMMER", DAY, True, marks=HAND_MARKS["HAMMER"], timezone=NY)
    sides = dual.to_dict()["dual"]

    assert sides["XYZ"] == {
        # 500 of the 1,000 baseline shares sold at 25.30: 150.00; 500 still open at 25.50.
        "baseline": {
            "start": 1000,
            "prior_close": "25.00",
            "closed": 500,
            "realized_pnl": "150.00",
            "open": 500,
            "unrealized_pnl": "250.00",
        },
        # Bought 300 (f1), sold 800 (f2): F:f1 closed for 60.00; fees f1 + f2 = 0.70.
        "intraday": {
            "bought": 300,
            "sold": 800,
            "realized_pnl": "60.00",
            "fees": "0.70",
            "open": 0,
            "unrealized_pnl": "0.00",
        },
    }
    assert sides["ABC"]["intraday"]["open"] == 300
    assert sides["ABC"]["intraday"]["unrealized_pnl"] == "-150.00"
    assert sides["ABC"]["baseline"]["closed"] == 500


def test_exposure_and_mode_changes_of_the_day_only(store: LedgerStore) -> None:
    book_hand_day(store, "HAMMER")
    day_before = OPEN_NS - 86_400 * SECOND_NS
    for at_ns, gross in (
        (day_before, "50.0"),
        (OPEN_NS, "110.0"),
        (OPEN_NS + 3600 * SECOND_NS, "121.5"),
    ):
        store.journal.record_exposure(
            ExposureSample(
                at_ns,
                Decimal("1000000"),
                Decimal("700000"),
                Decimal("515000"),
                Decimal(gross),
                Decimal("18.5"),
                "HAMMER",
            )
        )
    store.journal.record_mode_change(ModeChange(day_before, Mode.HARD_DERISK, "old", "HAMMER"))
    store.journal.record_mode_change(
        ModeChange(OPEN_NS + 60 * SECOND_NS, Mode.SOFT_DERISK, "gross 121.5% > 120%", None, "e1")
    )

    data = report_eod(store, "HAMMER", DAY, timezone=NY).to_dict()

    assert data["exposure_close"] == {
        "ts_ns": OPEN_NS + 3600 * SECOND_NS,
        "time": "2025-03-03 10:30:00.000 EST",
        "equity": "1000000.00",
        "long_notional": "700000.00",
        "short_notional": "515000.00",
        "gross_pct": "121.50",
        "net_pct": "18.50",
    }
    assert [s["gross_pct"] for s in data["exposure_through_day"]] == ["110.00", "121.50"]
    assert data["mode_changes"] == [
        {
            "ts_ns": OPEN_NS + 60 * SECOND_NS,
            "time": "2025-03-03 09:31:00.000 EST",
            "mode": "SOFT_DERISK",
            "reason": "gross 121.5% > 120%",
            "account": None,
        },
    ]
    # Cumulative realized net of fees after each fill: f1 -0.35; f2 +60 +150 -0.35 = 209.30;
    # s1 208.95; s2 +20 -0.35 = 228.60; x1 +250 -0.35 = 478.25.
    assert [p["cumulative_net_pnl"] for p in data["pnl_through_day"]] == [
        "-0.35",
        "209.30",
        "208.95",
        "228.60",
        "478.25",
    ]


def test_csv_and_html_render(store: LedgerStore) -> None:
    book_hand_day(store, "IBKR_GUN")
    report = report_eod(store, "IBKR_GUN", DAY, True, marks=HAND_MARKS["IBKR_GUN"], timezone=NY)

    rows = report.to_csv().splitlines()
    html = report.to_html()

    assert rows[0] == "section,key,field,value"
    assert "summary,,net_realized_pnl,660.75" in rows
    assert "class,LT_SHORT_DECREASE,notional,19870.00" in rows
    assert "position,BBB,end,-100" in rows
    assert "baseline,CCC,realized_pnl,5.00" in rows
    assert html.startswith("<!DOCTYPE html>") and html.count("<svg") == 2
    assert "<script" not in html and "http://" not in html.replace("http://www.w3.org", "")
    assert "Reconciled: start + fills = end, per symbol" in html
    assert "660.75" in html and "LT_SHORT_INCREASE" in html


def test_html_of_an_empty_day_still_has_both_charts(store: LedgerStore) -> None:
    store.save_snapshot(hand_snapshot("IBKR_PED"))

    html = report_eod(store, "IBKR_PED", DAY, timezone=NY).to_html()

    assert html.count("<svg") == 2
    assert "no fills this day" in html and "no exposure samples stored" in html


def test_positions_that_do_not_reconcile_fail_loudly(store_url: str) -> None:
    with LedgerStore.open(store_url) as store:
        book_hand_day(store, "HAMMER")
    tampered = connect(store_url)
    with tampered.transaction() as tx:  # someone edits the lots behind the ledger's back
        tx.run("UPDATE lots SET qty_open = ? WHERE lot_id = ?", (499, "B:XYZ"))
    tampered.close()

    with LedgerStore.open(store_url) as store, pytest.raises(ReconciliationError) as caught:
        report_eod(store, "HAMMER", DAY, timezone=NY)

    assert "XYZ: start 1000 + fills -500 = 500, but end is 499" in str(caught.value)


def test_reconcile_positions_names_every_symbol_that_is_off() -> None:
    assert reconcile_positions("HAMMER 2025-03-03", {"A": 10}, {"A": -10, "B": 5}, {"B": 5}) == [
        "A",
        "B",
    ]
    with pytest.raises(ReconciliationError) as caught:
        reconcile_positions("HAMMER 2025-03-03", {"A": 10, "C": 1}, {"A": 5}, {"A": 14})

    assert str(caught.value) == (
        "HAMMER 2025-03-03: positions do not reconcile; A: start 10 + fills 5 = 15, but end is "
        "14; C: start 1 + fills 0 = 1, but end is 0"
    )


def test_a_split_fee_adds_up_to_the_fee() -> None:
    assert split_fee(Decimal("0.35"), [500, 300]) == [Decimal("0.22"), Decimal("0.13")]
    assert split_fee(Decimal("1.00"), [1, 1, 1]) == [
        Decimal("0.33"),
        Decimal("0.33"),
        Decimal("0.34"),
    ]
    assert split_fee(Decimal("0.0035"), [100]) == [Decimal("0.0035")]


def test_chart_axes_use_round_steps_that_cover_the_data() -> None:
    assert nice_ticks(-0.35, 478.25) == [-100, 0, 100, 200, 300, 400, 500]
    assert nice_ticks(0.0, 121.5) == [0, 25, 50, 75, 100, 125]
