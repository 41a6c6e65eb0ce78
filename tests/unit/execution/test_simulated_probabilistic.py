"""The seeds' probabilistic fill model: seeded draws by risk mode."""

from __future__ import annotations

import random
from decimal import Decimal

from kit.orders import T0, new_order, simulated_venue
from quantrail.execution.config import FillProbabilities
from quantrail.execution.venues.base import VenueFill, VenueReport
from quantrail.execution.venues.simulated import SimulatedVenue
from quantrail.vocab import Mode, OrderType

D = Decimal


def prob_venue(seed: int = 11, **overrides: object) -> SimulatedVenue:
    return simulated_venue(fill_model="probabilistic", seed=seed, **overrides)


def filled_ids(reports: list[VenueReport]) -> list[str]:
    return [r.order_id for r in reports if isinstance(r, VenueFill)]


def run_day(seed: int) -> list[VenueReport]:
    venue = prob_venue(seed)
    for n in range(20):
        venue.submit(new_order(order_id=f"O-{n}", qty=100 + n), T0 + n)
    for step in range(3):
        venue.on_quote("XYZ", D("9.99"), D("10.00"), 100, 100, T0 + 100 + step)
    return venue.advance(T0 + 200)


def test_the_same_seed_gives_the_same_reports() -> None:
    first = run_day(seed=11)
    assert run_day(seed=11) == first
    assert filled_ids(first) != filled_ids(run_day(seed=12))


def test_each_step_draws_once_per_open_order_from_the_seeded_generator() -> None:
    rng = random.Random(5)
    expected_on_arrival = [f"O-{n}" for n in range(10) if rng.random() < 0.5]
    still_open = [f"O-{n}" for n in range(10) if f"O-{n}" not in expected_on_arrival]
    expected_on_quote = [order_id for order_id in still_open if rng.random() < 0.5]
    venue = prob_venue(seed=5)
    for n in range(10):
        venue.submit(new_order(order_id=f"O-{n}"), T0)
    assert filled_ids(venue.advance(T0)) == expected_on_arrival
    venue.on_quote("XYZ", D("9.99"), D("10.00"), 100, 100, T0 + 1)
    assert filled_ids(venue.advance(T0 + 1)) == expected_on_quote


def test_hard_derisk_orders_always_fill_completely_on_arrival() -> None:
    venue = prob_venue()
    for n in range(50):
        venue.submit(new_order(order_id=f"H-{n}", qty=700, mode=Mode.HARD_DERISK), T0)
    reports = venue.advance(T0)
    done = [r for r in reports if isinstance(r, VenueFill)]
    assert [(r.order_id, r.qty, r.price) for r in done] == [
        (f"H-{n}", 700, D("10.00")) for n in range(50)
    ]
    assert all(r.fee == D("2.45") for r in done)  # 700 * 0.0035
    assert venue.open_orders() == []


def test_soft_derisk_fills_more_often_than_normal() -> None:
    def fill_count(mode: Mode) -> int:
        venue = prob_venue(seed=3)
        for n in range(200):
            venue.submit(new_order(order_id=f"O-{n}", mode=mode), T0)
        return len(filled_ids(venue.advance(T0)))

    soft, normal = fill_count(Mode.SOFT_DERISK), fill_count(Mode.NORMAL)
    assert 165 <= soft <= 195  # p = 0.9
    assert 80 <= normal <= 120  # p = 0.5


def test_probabilities_are_configurable() -> None:
    venue = prob_venue(probabilities=FillProbabilities(hard=1.0, soft=0.9, other=0.0))
    for n in range(20):
        venue.submit(new_order(order_id=f"O-{n}"), T0)
    assert filled_ids(venue.advance(T0)) == []


def test_a_market_order_waits_for_a_price_and_then_fills_at_the_touch() -> None:
    venue = prob_venue()
    market = new_order(order_type=OrderType.MARKET, limit_price=None, mode=Mode.HARD_DERISK)
    venue.submit(market, T0)
    assert filled_ids(venue.advance(T0)) == []
    venue.on_quote("XYZ", D("9.99"), D("10.00"), 100, 100, T0 + 1)
    [fill] = [r for r in venue.advance(T0 + 1) if isinstance(r, VenueFill)]
    assert (fill.qty, fill.price) == (1000, D("10.00"))
