"""Seeded ids make simulated runs repeat exactly, event ids included."""

from __future__ import annotations

from kit.events import one_of_each
from kit.order_events import order_filled
from quantrail.events import default_codec
from quantrail.events.ids import IdFactory, new_event_id, seeded_ids


def test_seeded_factory_makes_the_same_ids_twice() -> None:
    with seeded_ids(42):
        first = [new_event_id() for _ in range(5)]
    with seeded_ids(42):
        second = [new_event_id() for _ in range(5)]
    assert first == second
    assert len(set(first)) == 5
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in first)


def test_different_seeds_give_different_ids() -> None:
    assert IdFactory(1)() != IdFactory(2)()


def test_events_built_under_a_seed_encode_identically() -> None:
    with seeded_ids(7):
        first = [default_codec().encode(e) for e in one_of_each()]
    with seeded_ids(7):
        second = [default_codec().encode(e) for e in one_of_each()]
    assert first == second


def test_seeded_ids_restores_random_ids_afterwards() -> None:
    with seeded_ids(3):
        seeded = order_filled().event_id
    after = order_filled().event_id
    with seeded_ids(3):
        again = order_filled().event_id
    assert seeded == again
    assert after != seeded
