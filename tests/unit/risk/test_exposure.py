"""Exposure of a mixed book, to the cent, with hand-computed expectations."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kit.risk import ACCOUNT, RULES, D, position
from quantrail.risk.exposure import (
    UNGROUPED,
    BucketExposure,
    ExposureError,
    ExposureFigures,
    GroupExposure,
    OpenOrder,
    compute_exposure,
)
from quantrail.vocab import Bucket, Side

EQUITY = D("1000000.00")
POSITIONS = [
    position("AAPL", 1000, Bucket.LT),  # long  1000 x 190.25 = 190 250.00
    position("MSFT", 500, Bucket.LT),  # long   500 x 410.10 = 205 050.00
    position("XOM", -2000, Bucket.LT),  # short 2000 x 112.35 = 224 700.00
    position("SPY", 300, Bucket.MM_PURE),  # long 300 x 530.00 = 159 000.00
    position("TSLA", -400, Bucket.MM_PURE),  # short 400 x 180.50 = 72 200.00
    position("IBM", 0, Bucket.LT),  # flat: no exposure, needs no mark
]
PRICES = {
    "AAPL": D("190.25"),
    "MSFT": D("410.10"),
    "XOM": D("112.35"),
    "SPY": D("530.00"),
    "TSLA": D("180.50"),
    "JPM": D("200.00"),
}
GROUPS = {"AAPL": "TECH", "MSFT": "TECH", "XOM": "ENERGY", "SPY": "INDEX", "JPM": "BANKS"}
ORDERS = [
    # adds to the long; the mark 190.25 is above the limit, so worst case 200 x 190.25 = 38 050
    OpenOrder("AAPL", Side.BUY, 200, D("190.00"), Bucket.LT),
    # reduces the 500 long: counts 0
    OpenOrder("MSFT", Side.SELL, 200, D("411.00"), Bucket.LT),
    # adds to the short at the limit 112.50 > mark: 100 x 112.50 = 11 250
    OpenOrder("XOM", Side.SELL, 100, D("112.50"), Bucket.LT),
    # covers the 400 short and goes 200 past zero at the mark 180.50: 36 100
    OpenOrder("TSLA", Side.BUY, 600, D("180.40"), Bucket.MM_PURE),
    # two sells against a 300 long: 200 + 100 reduce, the last 50 go short at 532: 26 600
    OpenOrder("SPY", Side.SELL, 200, D("531.00"), Bucket.MM_PURE),
    OpenOrder("SPY", Side.SELL, 150, D("532.00"), Bucket.MM_PURE),
    # no position, no mark: valued at its limit, 100 x 120 = 12 000
    OpenOrder("NVDA", Side.BUY, 100, D("120.00"), Bucket.MM_PURE),
    # market order valued at the mark: 100 x 200 = 20 000
    OpenOrder("JPM", Side.BUY, 100, None, Bucket.MM_PURE),
]


def _figures() -> ExposureFigures:
    return compute_exposure(ACCOUNT, EQUITY, POSITIONS, PRICES, ORDERS, RULES.buckets, GROUPS)


def test_mixed_book_totals() -> None:
    figures = _figures()
    assert figures.account == ACCOUNT
    assert figures.equity == D("1000000.00")
    assert figures.long_notional == D("554300.00")  # 190 250 + 205 050 + 159 000
    assert figures.short_notional == D("296900.00")  # 224 700 + 72 200
    assert figures.gross_exposure_pct == D("85.12")  # 851 200 / 1 000 000
    assert figures.long_gross_pct == D("55.43")
    assert figures.short_gross_pct == D("29.69")
    assert figures.net_exposure_pct == D("25.74")  # 257 400
    # 38 050 + 0 + 11 250 + 36 100 + 26 600 + 12 000 + 20 000
    assert figures.open_orders_potential == D("144000.00")
    assert figures.open_orders_potential_pct == D("14.4")
    assert figures.potential_gross_pct == D("99.52")  # 995 200


def test_mixed_book_buckets() -> None:
    buckets = _figures().buckets
    assert list(buckets) == [Bucket.LT, Bucket.MM_PURE]
    # LT: 190 250 + 205 050 + 224 700 = 620 000; orders 38 050 + 11 250 = 49 300
    assert buckets[Bucket.LT] == BucketExposure(
        current=D("620000.00"),
        current_pct=D(62),
        potential=D("669300.00"),
        potential_pct=D("66.93"),
        target=D("800000.00"),
        target_pct=D(80),
        max=D("900000.00"),
        max_pct=D(90),
    )
    # MM_PURE: 159 000 + 72 200 = 231 200; orders 36 100 + 26 600 + 12 000 + 20 000 = 94 700
    assert buckets[Bucket.MM_PURE] == BucketExposure(
        current=D("231200.00"),
        current_pct=D("23.12"),
        potential=D("325900.00"),
        potential_pct=D("32.59"),
        target=D("200000.00"),
        target_pct=D(20),
        max=D("300000.00"),
        max_pct=D(30),
    )


def test_mixed_book_groups() -> None:
    groups = _figures().group_exposure
    assert list(groups) == ["BANKS", "ENERGY", "INDEX", "TECH", UNGROUPED]
    assert groups["TECH"] == GroupExposure(D("395300.00"), D(0), D("39.53"))
    assert groups["ENERGY"] == GroupExposure(D(0), D("224700.00"), D("22.47"))
    assert groups["INDEX"] == GroupExposure(D("159000.00"), D(0), D("15.9"))
    assert groups[UNGROUPED] == GroupExposure(D(0), D("72200.00"), D("7.22"))
    assert groups["BANKS"] == GroupExposure(D(0), D(0), D(0))  # mapped, nothing held


def test_figures_reconcile_exactly() -> None:
    figures = _figures()
    buckets = figures.buckets.values()
    gross = figures.long_notional + figures.short_notional
    assert sum((b.current for b in buckets), D(0)) == gross
    assert sum((b.potential - b.current for b in buckets), D(0)) == figures.open_orders_potential
    groups = figures.group_exposure.values()
    assert sum((g.long_notional + g.short_notional for g in groups), D(0)) == gross


def test_no_orders_means_potential_equals_current() -> None:
    figures = compute_exposure(ACCOUNT, EQUITY, POSITIONS, PRICES, [], RULES.buckets, {})
    assert figures.open_orders_potential == D(0)
    assert figures.potential_gross_pct == figures.gross_exposure_pct == D("85.12")
    assert list(figures.group_exposure) == [UNGROUPED]


def test_reducing_order_counts_zero_and_crossing_counts_past_zero() -> None:
    held = [position("AAPL", 500)]
    prices = {"AAPL": D(10)}

    def potential(qty: int) -> Decimal:
        order = OpenOrder("AAPL", Side.SELL, qty, D(10), Bucket.LT)
        figures = compute_exposure(ACCOUNT, D(10000), held, prices, [order], RULES.buckets, {})
        return figures.open_orders_potential

    assert potential(500) == D(0)  # exactly to flat
    assert potential(501) == D(10)  # 1 share past zero
    assert potential(800) == D(3000)  # 300 past zero


def test_both_sides_of_a_quote_count() -> None:
    orders = [
        OpenOrder("SPY", Side.BUY, 100, D("99.99"), Bucket.MM_PURE),
        OpenOrder("SPY", Side.SELL, 100, D("100.01"), Bucket.MM_PURE),
    ]
    figures = compute_exposure(ACCOUNT, D(100000), [], {"SPY": D(100)}, orders, RULES.buckets, {})
    # buy at max(99.99, 100) = 100 -> 10 000; sell at max(100.01, 100) -> 10 001
    assert figures.open_orders_potential == D("20001.00")
    assert figures.buckets[Bucket.MM_PURE].potential_pct == D("20.001")


def test_percentages_are_exact_decimals_not_rounded() -> None:
    figures = compute_exposure(
        ACCOUNT, D(3000), [position("AAPL", 100)], {"AAPL": D(10)}, [], RULES.buckets, {}
    )
    assert figures.gross_exposure_pct == D(1000) * 100 / D(3000)
    assert str(figures.gross_exposure_pct) == "33.33333333333333333333333333"


def test_boundary_percentage_is_exact() -> None:
    held = [position("AAPL", 13000)]
    figures = compute_exposure(ACCOUNT, D(1000000), held, {"AAPL": D(100)}, [], RULES.buckets, {})
    assert figures.gross_exposure_pct == D(130)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"equity": D(0)}, "equity must be a finite Decimal > 0, got Decimal('0')"),
        ({"equity": 1000.0}, "equity must be a finite Decimal > 0, got 1000.0"),
        ({"prices": {}}, "prices has no mark for symbol 'AAPL'"),
        ({"prices": {"AAPL": D(-1)}}, "prices['AAPL'] must be a finite Decimal > 0"),
        (
            {"positions": [position("AAPL", 1, account="B")]},
            "position account must be 'ACC1', got 'B' for AAPL",
        ),
        (
            {"positions": [position("AAPL", 1), position("AAPL", 2)]},
            "symbol appears twice in positions: 'AAPL'",
        ),
        (
            {"orders": [OpenOrder("ZZZ", Side.BUY, 1, None, Bucket.LT)]},
            "prices has no mark for market order in 'ZZZ'",
        ),
        (
            {"buckets": {Bucket.LT: RULES.buckets[Bucket.LT]}},
            "buckets has no limits for bucket <Bucket.MM_PURE: 'MM_PURE'>",
        ),
    ],
)
def test_bad_inputs_name_the_field(kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {
        "equity": D(1000),
        "positions": [position("AAPL", 1), position("SPY", 1, Bucket.MM_PURE)],
        "prices": {"AAPL": D(10), "SPY": D(10)},
        "orders": [],
        "buckets": RULES.buckets,
    }
    args.update(kwargs)
    with pytest.raises(ExposureError) as caught:
        compute_exposure(
            ACCOUNT,
            args["equity"],  # type: ignore[arg-type]
            args["positions"],  # type: ignore[arg-type]
            args["prices"],  # type: ignore[arg-type]
            args["orders"],  # type: ignore[arg-type]
            args["buckets"],  # type: ignore[arg-type]
            {},
        )
    assert str(caught.value).startswith(message)


def test_open_order_values_are_checked() -> None:
    with pytest.raises(ValueError, match="qty must be a positive integer number of shares, got 0"):
        OpenOrder("AAPL", Side.BUY, 0, D(1), Bucket.LT)
    with pytest.raises(ValueError, match="limit_price must be a finite Decimal > 0"):
        OpenOrder("AAPL", Side.BUY, 1, D(0), Bucket.LT)
