"""A run of prints against a day at once: the same answers and the same day as one by one."""

from __future__ import annotations

import copy
import random
from decimal import Decimal

import pytest

from quantrail.risk.daily_pnl import DailyPnl, breached
from quantrail.risk.print_run import LimitWatch, take_prints
from quantrail.vocab import Side

D = Decimal
LIMIT = D("-1.0")


def day_holding(*positions: tuple[str, Side, int, str]) -> DailyPnl:
    """Equity 100,000; each (symbol, side, qty, price) filled with a 1.00 fee."""
    day = DailyPnl("ACC1", D(100000))
    for symbol, side, qty, price in positions:
        day.on_fill(symbol, side, qty, D(price), D("1.00"))
    return day


def walk(seed: int, count: int, symbols: tuple[str, ...]) -> list[tuple[str, Decimal]]:
    """Prints in whole cents around 100.00, falling on the whole (losses reach the limit)."""
    rng, cents = random.Random(seed), dict.fromkeys(symbols, 10_000)
    prints = []
    for _ in range(count):
        symbol = rng.choice(symbols)
        cents[symbol] += rng.choice((-3, -2, -1, 0, 1))
        prints.append((symbol, D(cents[symbol]) / 100))
    return prints


def first_at_limit_one_by_one(day: DailyPnl, prints: list[tuple[str, Decimal]]) -> int | None:
    day = copy.deepcopy(day)
    for index, (symbol, price) in enumerate(prints):
        day.on_print(symbol, price)
        if breached(day.figures().pnl_pct, LIMIT):
            return index
    return None


def first_at_limit_watched(day: DailyPnl, prints: list[tuple[str, Decimal]]) -> int | None:
    watch = LimitWatch(day, LIMIT)
    return next((i for i, (s, p) in enumerate(prints) if watch.reached_by(s, p)), None)


@pytest.mark.parametrize(
    "positions",
    [
        (("ACME", Side.BUY, 1000, "100.00"),),
        (("ACME", Side.SELL, 1000, "100.00"),),
        (("ACME", Side.BUY, 1000, "100.00"), ("BETA", Side.SELL, 700, "100.00")),
    ],
    ids=["long", "short", "two-symbols"],
)  # fmt: skip
@pytest.mark.parametrize("seed", range(12))
def test_the_first_print_at_the_limit_is_the_one_by_one_ones(
    positions: tuple[tuple[str, Side, int, str], ...], seed: int
) -> None:
    day = day_holding(*positions)
    symbols = (*(symbol for symbol, *_ in positions), "OTHER")
    prints = walk(seed, 600, symbols)
    expected = first_at_limit_one_by_one(day, prints)
    assert first_at_limit_watched(day, prints) == expected
    if positions[0][1] is Side.BUY and len(positions) == 1:
        assert expected is not None  # the walk falls far enough: the case is exercised


@pytest.mark.parametrize("long", [True, False])
@pytest.mark.parametrize("seed", range(6))
def test_prints_taken_at_once_leave_the_day_as_one_by_one(long: bool, seed: int) -> None:
    side = Side.BUY if long else Side.SELL
    day = day_holding(("ACME", side, 1000, "100.00"), ("FLAT", Side.BUY, 10, "5.00"))
    day.on_fill("FLAT", Side.SELL, 10, D("5.00"), D("0"))  # held once, flat now
    prints = walk(seed, 300, ("ACME", "FLAT"))
    one_by_one = copy.deepcopy(day)
    for symbol, price in prints:
        one_by_one.on_print(symbol, price)
    take_prints(day, prints)
    last = {symbol: price for symbol, price in prints}
    for symbol, price in last.items():  # the caller marks each symbol's last (held or not)
        day.on_print(symbol, price)
    assert day.figures() == one_by_one.figures()
    assert day.high_water_mark == one_by_one.high_water_mark
    assert day.mark("ACME") == one_by_one.mark("ACME")


def test_a_price_that_is_no_mark_moves_nothing_and_is_figured_as_the_day_stands() -> None:
    day = day_holding(("ACME", Side.BUY, 1000, "100.00"))
    watch = LimitWatch(day, LIMIT)
    assert not watch.reached_by("ACME", D("NaN"))
    assert watch.reached_by("ACME", D("98.99"))  # 1,010 lost of 100,000: past -1 %


def test_a_flat_day_is_figured_once_whatever_the_prints() -> None:
    day = day_holding(("ACME", Side.BUY, 1000, "100.00"))
    day.on_fill("ACME", Side.SELL, 1000, D("98.90"), D("1.00"))  # flat: 1,102.00 lost, -1.1 %
    watch = LimitWatch(day, LIMIT)
    assert watch.reached_by("ACME", D("150.00")) and watch.reached_by("ACME", D("1.00"))
    assert watch.again(day) is watch
    calm = day_holding(("ACME", Side.BUY, 10, "100.00"))
    calm.on_fill("ACME", Side.SELL, 10, D("100.00"), D("0"))
    assert not LimitWatch(calm, LIMIT).reached_by("ACME", D("0.01"))
