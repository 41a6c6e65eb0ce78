"""Finding a chain from any of its ids and printing it in exchange time, step by step."""

from __future__ import annotations

from kit.trace import CORRELATION, POSITION, hand_chain
from quantrail.audit.trace import chain_of, find_correlation, render_chain


def test_any_id_of_the_chain_finds_its_correlation() -> None:
    events = hand_chain()
    for wanted in (CORRELATION, "eval:" + CORRELATION, "req:eval:" + CORRELATION, "ord-1",
                   "fill-1", POSITION, events[3].event_id):  # fmt: skip
        assert find_correlation(events, wanted) == CORRELATION
    assert find_correlation(events, "sig:other") == "sig:other"
    assert find_correlation(events, "nope") is None


def test_the_chain_is_in_time_order_with_the_gaps_between_steps() -> None:
    events = hand_chain()
    chain = chain_of(list(reversed(events)), CORRELATION)
    assert len(chain) == 9 and all(e.correlation_id == CORRELATION for e in chain)
    lines = render_chain(chain, "America/New_York")
    assert lines[0].startswith("2024-03-15 09:30:00.000 EDT")
    assert " signal " in lines[0] and "signal_id=" + CORRELATION in lines[0]
    assert "+0.250s" in lines[1] and " evaluation " in lines[1]
    assert "+598.400s" in lines[7] and " exit " in lines[7]
    assert "fill_id=fill-2" in lines[5] and "last_qty=60" in lines[5]
