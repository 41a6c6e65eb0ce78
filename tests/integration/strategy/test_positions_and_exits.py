"""A strategy's trade from request to closed position with the real execution service and the
simulated venue, on both transports: the stop is kept by the exit brain, the exit is a
reduce-only order execution runs, the P&L is checked by hand; and a restart of the position and
exit services mid-position doubles nothing and still enforces the stop."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from kit.market_events import quote
from kit.positions import Chain, approved, chain_config, entry_request
from kit.risk_events import kill_switch_activated
from quantrail.bus.bus import EventBus
from quantrail.strategy.exit_service import ExitService
from quantrail.strategy.position_service import PositionService
from quantrail.vocab import Direction, OrderType, Side

D = Decimal
ENTRY_QUOTE = quote(bid="25.00", ask="25.02", bid_size=1000, ask_size=1000)
THROUGH_STOP = quote(bid="24.45", ask="24.47", bid_size=1000, ask_size=1000)


@pytest.fixture
async def chain(bus: EventBus, tmp_path: Path) -> AsyncIterator[Chain]:
    running = Chain(bus, chain_config(tmp_path))
    await running.start_execution()
    yield running
    await running.close()


async def test_a_stop_hit_exits_by_a_reduce_only_order_and_closes_with_pnl_by_hand(
    chain: Chain,
) -> None:
    await chain.start_trading()
    await chain.show(ENTRY_QUOTE)
    await chain.publish(*approved(entry_request(stop="24.50", qty=100)))
    opened = await _strategy_opened(chain)
    [entry_fill] = await chain.wait_for("trades.order", "filled")
    assert opened.position_id == f"pos:ACC1:ACME:{entry_fill.fill_id}"
    assert (opened.direction, opened.qty, opened.stop_loss) == (Direction.LONG, 100, D("24.50"))
    assert (opened.strategy, opened.signal_id, opened.evaluation_id, opened.request_id) == (
        "breakout", "sig-1", "eval:sig-1", "req:eval:sig-1",
    )  # fmt: skip
    assert opened.correlation_id == "sig-1"
    marked = await chain.marked_update(quote(bid="25.10", ask="25.12", bid_size=1000))
    # By hand: 100 x (25.11 - 25.02) = 9.00 unrealized at the mid.
    assert (marked.current_price, marked.unrealized_pnl) == (D("25.11"), D("9.00"))

    await chain.show(THROUGH_STOP)
    [stop] = await chain.wait_for("exit.stop", "triggered")
    [closed] = await chain.wait_for("position.state", "closed")
    assert (stop.position_id, stop.stop_price) == (opened.position_id, D("24.50"))
    [intent] = await chain.events("trades.intent", "created")
    assert intent.reduce_only and intent.side is Side.SELL and intent.qty == 100
    assert intent.intent_id == f"exit:stop:{opened.position_id}:1"
    fills = await chain.events("trades.order", "filled")
    assert [f.last_price for f in fills] == [D("25.02"), D("24.45")]  # the ask, then the bid
    # By hand: bought 100 at 25.02, sold 100 at 24.45: (24.45 - 25.02) x 100 = -57.00;
    # fees 0.35 + 0.35 (the venue's minimum), kept apart from the P&L.
    assert closed.realized_pnl == D("-57.00") and closed.fees == D("0.70")
    assert (closed.entry_price, closed.exit_price, closed.exit_reason) == (
        D("25.02"), D("24.45"), "stop",
    )  # fmt: skip
    assert closed.realized_pnl_percent == float(D("-57.00") / D("2502") * 100)
    assert (closed.signal_id, closed.correlation_id) == ("sig-1", "sig-1")
    assert await chain.events("exit.stop", "triggered") == [stop]


async def test_a_restart_mid_position_doubles_nothing_and_the_stop_still_holds(
    chain: Chain,
) -> None:
    await chain.start_trading()
    await chain.show(ENTRY_QUOTE)
    await chain.publish(*approved(entry_request(stop="24.50", qty=100)))
    opened = await _strategy_opened(chain)
    await chain.stop("trading")

    positions, exits = await chain.start_trading()  # new services, rebuilt from the streams
    assert isinstance(positions, PositionService) and isinstance(exits, ExitService)
    assert positions.keeper.positions[("ACC1", "ACME")].position_id == opened.position_id
    assert exits.brain.positions[opened.position_id].stop == D("24.50")
    await chain.show(THROUGH_STOP)
    [closed] = await chain.wait_for("position.state", "closed")
    assert (closed.position_id, closed.exit_reason) == (opened.position_id, "stop")
    await chain.stop("trading")
    _, exits = await chain.start_trading()  # and once more after the close
    assert isinstance(exits, ExitService) and opened.position_id not in exits.brain.positions
    assert len(await chain.events("trades.intent", "created")) == 1
    state = await chain.events("position.state")
    keys = [event.idempotency_key for event in state]
    assert len(keys) == len(set(keys))
    assert [e.position_id for e in state if e.kind.endswith("opened")] == [
        "pos:ACC1:OTHER:befday:2024-03-15", opened.position_id,
    ]  # fmt: skip
    assert len([e for e in state if e.kind.endswith("closed")]) == 1
    assert len(await chain.events("exit.stop", "triggered")) == 1


async def _strategy_opened(chain: Chain) -> Any:
    opened = await chain.wait_for("position.state", "opened", 2)
    [mine] = [event for event in opened if event.stop_loss is not None]
    return mine


async def test_fills_made_while_the_services_were_down_are_caught_up_at_start(
    chain: Chain,
) -> None:
    await chain.show(ENTRY_QUOTE)
    await chain.publish(*approved(entry_request(stop="24.50", qty=100)))
    await chain.wait_for("trades.order", "filled")  # no position service running yet
    await chain.start_trading()
    opened = await _strategy_opened(chain)
    assert opened.stop_loss == D("24.50") and opened.request_id == "req:eval:sig-1"
    await chain.show(THROUGH_STOP)
    [closed] = await chain.wait_for("position.state", "closed")
    assert closed.realized_pnl == D("-57.00")


async def test_the_kill_switch_flatten_is_recorded_as_exit_full_and_sold_once(
    chain: Chain,
) -> None:
    await chain.start_trading()
    await chain.show(ENTRY_QUOTE)
    await chain.publish(*approved(entry_request(stop="24.50", qty=100)))
    opened = await _strategy_opened(chain)
    await chain.publish(kill_switch_activated(flatten=True))
    [closed] = await chain.wait_for("position.state", "closed")
    decisions = await chain.wait_for("exit.decision", "made", 2)
    assert sorted((d.position_id, d.decision, d.reason) for d in decisions) == [
        (opened.position_id, "EXIT_FULL", "kill_switch"),
        ("pos:ACC1:OTHER:befday:2024-03-15", "EXIT_FULL", "kill_switch"),
    ]
    assert (closed.position_id, closed.exit_reason) == (opened.position_id, "kill_switch")
    # By hand: bought 100 at the ask 25.02, flattened at the bid 25.00: -2.00.
    assert closed.realized_pnl == D("-2.00")
    assert await chain.events("trades.intent") == []  # execution flattened; no order of ours
    sells = [f for f in await chain.events("trades.order", "filled") if f.side is Side.SELL]
    assert [(f.symbol, f.last_qty) for f in sells] == [("ACME", 100)]


async def test_a_trailing_stop_tightened_before_a_restart_is_the_one_enforced_after_it(
    bus: EventBus, tmp_path: Path
) -> None:
    chain = Chain(bus, chain_config(tmp_path, trailing_stop_pct=1.0))
    try:
        await chain.start_execution()
        await chain.start_trading()
        await chain.show(ENTRY_QUOTE)
        await chain.publish(*approved(entry_request(stop="24.50", qty=100)))
        opened = await _strategy_opened(chain)
        await chain.show(quote(bid="26.00", ask="26.02", bid_size=1000, ask_size=1000))
        [tighten] = await chain.wait_for("exit.decision", "made")
        # 1% under the best mid 26.01: 25.7499 -> 25.74 (rounded down, away from the price)
        assert (tighten.decision, tighten.new_stop) == ("TIGHTEN_STOP", D("25.74"))
        await chain.stop("trading")

        _, exits = await chain.start_trading()
        assert isinstance(exits, ExitService)
        rebuilt = exits.brain.positions[opened.position_id]
        assert (rebuilt.stop, rebuilt.stop_reason) == (D("25.74"), "trailing")
        await chain.show(quote(bid="25.70", ask="25.72", bid_size=1000, ask_size=1000))
        [closed] = await chain.wait_for("position.state", "closed")
        [stop] = await chain.events("exit.stop", "triggered")
        assert (stop.stop_price, closed.exit_reason) == (D("25.74"), "trailing")
        # By hand: bought 100 at 25.02, sold 100 at the bid 25.70: +68.00.
        assert closed.realized_pnl == D("68.00")
    finally:
        await chain.close()


async def test_an_exit_order_working_across_a_restart_is_not_sent_again(
    bus: EventBus, tmp_path: Path
) -> None:
    chain = Chain(bus, chain_config(tmp_path, order_type="LIMIT"))
    try:
        await chain.start_execution()
        await chain.start_trading()
        await chain.show(ENTRY_QUOTE)
        await chain.publish(*approved(entry_request(stop="24.50", qty=100)))
        opened = await _strategy_opened(chain)
        await chain.show(THROUGH_STOP)  # a LIMIT sell at the mid 24.46 rests over the 24.45 bid
        [intent] = await chain.wait_for("trades.intent", "created")
        assert (intent.order_type, intent.limit_price) == (OrderType.LIMIT, D("24.46"))
        await chain.wait_for("trades.order", "working")
        await chain.stop("trading")

        _, exits = await chain.start_trading()
        assert isinstance(exits, ExitService)
        assert exits.brain.positions[opened.position_id].working == intent.intent_id
        await chain.show(quote(bid="24.40", ask="24.42", bid_size=1000, ask_size=1000))
        await chain.show(quote(bid="24.46", ask="24.48", bid_size=1000, ask_size=1000))
        [closed] = await chain.wait_for("position.state", "closed")
        # By hand: bought 100 at 25.02, sold 100 at the limit 24.46: -56.00.
        assert (closed.realized_pnl, closed.exit_reason) == (D("-56.00"), "stop")
        assert await chain.events("trades.intent", "created") == [intent]
    finally:
        await chain.close()
