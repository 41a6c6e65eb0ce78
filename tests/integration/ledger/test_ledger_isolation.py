"""A fill that breaks a booking rule is dead-lettered at once and never stalls the ledger.

Two fills whose rebate is larger than their notional, then a valid fill: the valid one is booked
within the normal handling time, the two are dead-lettered with their reason after one
delivery, and the ledger's circuit breaker stays closed (it is for a sick database, not for a
bad fill). Runs on both transports (the real redis-server for ``redis``).
"""

from __future__ import annotations

from decimal import Decimal

import msgspec

from kit.ledger import fill, fill_event, running
from kit.poll import eventually
from quantrail.bus.bus import EventBus
from quantrail.ledger.service import LedgerService
from quantrail.ledger.store import LedgerStore
from quantrail.runtime.breaker import BreakerState
from quantrail.vocab import Side


async def test_rule_breaking_fills_are_dead_lettered_and_the_next_one_is_booked(
    bus: EventBus, store_url: str
) -> None:
    bad = [
        msgspec.structs.replace(
            fill_event(fill(f"bad-{i}", Side.BUY, 100, "10.00", at_s=i)), fees=Decimal("-5000")
        )
        for i in (1, 2)
    ]
    good = fill_event(fill("good-3", Side.BUY, 100, "10.00", at_s=3))
    service = LedgerService(store_url)
    async with running(bus, service) as runner:
        await bus.publish_batch([*bad, good])

        def booked() -> int:
            with LedgerStore.open(store_url) as store:
                return store.count_fills()

        # The breaker would hold the valid fill for reset_s (60 s): a few seconds is plenty.
        await eventually(booked, lambda n: n == 1, within=5.0, what="the valid fill booked")
        letters = await eventually(bus.dead_letters, lambda d: len(d) == 2, within=5.0)
        fills = next(c for c in runner.consumers if c.name.startswith("ledger") and
                     c.breaker is not None and c.breaker.name == "ledger.fills")  # fmt: skip
        assert fills.breaker is not None
        assert fills.breaker.state is BreakerState.CLOSED
        assert fills.breaker.times_opened == 0
        assert fills.stats.rule_violations == 2 and fills.stats.failed == 0
    assert [letter.error_type for letter in letters] == ["LedgerInputError"] * 2
    assert all(letter.deliveries == 1 for letter in letters)
    for letter, event in zip(letters, bad, strict=True):
        assert letter.entry_id and letter.kind == "trades.order.filled"
        assert f"fill {event.fill_id!r}" in letter.error
        assert "fee (a rebate when negative) must be >= -notional -1000.00" in letter.error
    with LedgerStore.open(store_url) as store:
        assert store.count_fills() == 1
