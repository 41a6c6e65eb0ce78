"""The transition table: every listed pair passes, every other pair raises, docs agree."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest

from quantrail.execution.state_machine import (
    ALLOWED,
    TRANSITIONS,
    InvalidTransition,
    can_transition,
    transition,
)
from quantrail.vocab import OrderStatus

S = OrderStatus
ALL_PAIRS = set(itertools.product(OrderStatus, OrderStatus))
FORBIDDEN = sorted(ALL_PAIRS - TRANSITIONS)
DOCS = Path(__file__).resolve().parents[3] / "docs" / "orders.md"


@pytest.mark.parametrize(("current", "target"), sorted(TRANSITIONS))
def test_every_allowed_transition_passes(current: OrderStatus, target: OrderStatus) -> None:
    assert transition("O-1", current, target) is target
    assert can_transition(current, target)


@pytest.mark.parametrize(("current", "target"), FORBIDDEN)
def test_every_other_pair_raises_naming_order_and_both_states(
    current: OrderStatus, target: OrderStatus
) -> None:
    with pytest.raises(InvalidTransition) as caught:
        transition("O-42", current, target)
    message = str(caught.value)
    assert "O-42" in message
    assert f"{current.value} -> {target.value}" in message
    assert (caught.value.current, caught.value.target) == (current, target)
    assert not can_transition(current, target)


def test_the_complement_is_not_empty_and_the_table_covers_every_status() -> None:
    assert set(ALLOWED) == set(OrderStatus)
    assert len(TRANSITIONS) + len(FORBIDDEN) == len(OrderStatus) ** 2
    assert len(FORBIDDEN) > 100


def test_terminal_statuses_have_no_way_out() -> None:
    for status in OrderStatus:
        assert (not ALLOWED[status]) == status.is_terminal, status


def test_races_a_trader_expects_are_allowed() -> None:
    assert can_transition(S.PENDING_CANCEL, S.PARTIALLY_FILLED)  # a fill races the cancel
    assert can_transition(S.PENDING_CANCEL, S.FILLED)  # the fill wins outright
    assert can_transition(S.PENDING_CANCEL, S.WORKING)  # the cancel is refused
    assert can_transition(S.SUBMITTED, S.FILLED)  # a fill overtakes the ack
    assert can_transition(S.PENDING_REPLACE, S.PENDING_CANCEL)  # kill switch beats a replace
    assert can_transition(S.NEW, S.DENIED)
    assert not can_transition(S.FILLED, S.CANCELED)
    assert not can_transition(S.WORKING, S.ACCEPTED)


def test_invalid_transition_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="FILLED -> CANCELED"):
        transition("O-1", S.FILLED, S.CANCELED)


def test_docs_table_matches_the_code() -> None:
    documented: dict[OrderStatus, frozenset[OrderStatus]] = {}
    for line in DOCS.read_text().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0] in OrderStatus.__members__:
            targets = re.findall(r"[A-Z_]{3,}", cells[1])
            documented[S(cells[0])] = frozenset(S(name) for name in targets)
    assert documented == dict(ALLOWED)
