"""The position service fed by hand (no execution): de-risk and external closes, and a restart
that finds part of its output missing (a crash between the fill and the publish)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest

from kit.order_events import intent
from kit.positions import Chain, chain_config, fill
from quantrail.bus.bus import EventBus
from quantrail.vocab import Mode, Side

D = Decimal
BEFDAY = "pos:ACC1:OTHER:befday:2024-03-15"


@pytest.fixture
async def chain(bus: EventBus, tmp_path: Path) -> AsyncIterator[Chain]:
    running = Chain(bus, chain_config(tmp_path))
    yield running
    await running.close()


async def test_a_derisk_intent_closes_a_baseline_position_as_derisk(chain: Chain) -> None:
    await chain.start_trading()
    derisk = intent(
        Side.SELL, 500, intent_id="9f2c", symbol="OTHER", limit_price="39.00",
        mode=Mode.SOFT_DERISK, idempotency_key="derisk:ACC1:2024-03-15:SOFT_DERISK:1:OTHER",
    )  # fmt: skip
    await chain.publish(derisk)
    await chain.publish(fill(Side.SELL, 500, "39.00", "d1", symbol="OTHER", intent_id="9f2c"))
    [closed] = await chain.wait_for("position.state", "closed")
    # By hand: 500 long from the prior close 40.00, sold at 39.00: -500.00.
    assert (closed.position_id, closed.exit_reason) == (BEFDAY, "derisk")
    assert closed.realized_pnl == D("-500.00")


async def test_an_order_of_no_known_intent_closes_as_external(chain: Chain) -> None:
    await chain.start_trading()
    await chain.publish(fill(Side.SELL, 500, "41.00", "m1", symbol="OTHER", intent_id="manual"))
    [closed] = await chain.wait_for("position.state", "closed")
    assert (closed.exit_reason, closed.realized_pnl) == ("external", D("500.00"))


async def test_a_restart_publishes_only_what_position_state_lacks(chain: Chain) -> None:
    await chain.start_trading()
    await chain.publish(fill(Side.BUY, 100, "10.00", "b1", symbol="NEW", intent_id="x"))
    await chain.wait_for("position.state", "opened", 2)
    await chain.stop("trading")
    # While down: the position is added to and sold.
    await chain.publish(fill(Side.BUY, 100, "11.00", "b2", symbol="NEW", intent_id="x"))
    await chain.publish(fill(Side.SELL, 200, "12.00", "s1", symbol="NEW", intent_id="y"))
    await chain.start_trading()
    [closed] = await chain.wait_for("position.state", "closed")
    # By hand: average (1000 + 1100) / 200 = 10.50; (12.00 - 10.50) x 200 = 300.00.
    assert (closed.position_id, closed.realized_pnl) == ("pos:ACC1:NEW:b1", D("300.00"))
    state = await chain.events("position.state")
    keys = [event.idempotency_key for event in state]
    assert len(keys) == len(set(keys))
    assert [k for k in keys if k.startswith("pos:ACC1:NEW:")] == [
        "pos:ACC1:NEW:b1:opened", "pos:ACC1:NEW:b1:fill:b2", "pos:ACC1:NEW:b1:closed",
    ]  # fmt: skip
