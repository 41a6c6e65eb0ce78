"""Execution, positions and the exit brain with ``bus.shards: 4`` on a real Redis and on the
private Redis Cluster (3 masters, 3 replicas).

Execution follows quotes from every shard (an order fills only at a quote it has seen);
positions pull requests and replay fills by one id cursor per shard; the exit brain rebuilds
from ``position.state`` and ``trades.order`` shard by shard. One symbol per shard: each opens
a position with its stop, survives a restart of the trading services, and is stopped out once.
On the cluster the shards' streams lie on different masters, and the order registry keeps
each account's keys in one slot (``execution/registry_keys.py``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from kit.market_events import quote
from kit.positions import Chain, approved, chain_config, entry_request
from kit.shards import SPREAD, shard_keys_written
from quantrail.bus.bus import EventBus
from quantrail.bus.cluster import RedisClusterTransport
from quantrail.strategy.exit_service import ExitService
from quantrail.strategy.position_service import PositionService

D = Decimal
QUOTES = "market.quote"


@pytest.fixture
async def chain(sharded_bus: EventBus, tmp_path: Path) -> AsyncIterator[Chain]:
    """The chain on the four-shard bus: single Redis, then the cluster."""
    running = Chain(sharded_bus, chain_config(tmp_path))
    await running.start_execution()
    yield running
    await running.close()


def request_for(symbol: str) -> list[Any]:
    ids = {"request_id": f"req:{symbol}", "evaluation_id": f"eval:{symbol}",
           "signal_id": f"sig:{symbol}", "correlation_id": f"sig:{symbol}"}  # fmt: skip
    return approved(entry_request(stop="24.50", qty=100, symbol=symbol, **ids))


async def opened_by_symbol(chain: Chain) -> dict[str, Any]:
    opened = await chain.wait_for("position.state", "opened", len(SPREAD) + 1)
    return {event.symbol: event for event in opened if event.stop_loss is not None}


async def test_positions_on_every_shard_are_kept_through_a_restart_and_stopped_out_once(
    chain: Chain,
) -> None:
    await chain.start_trading()
    for symbol in SPREAD:
        await chain.show(quote(symbol, "25.00", "25.02", bid_size=1000, ask_size=1000))
        await chain.publish(*request_for(symbol))
    opened = await opened_by_symbol(chain)
    assert sorted(opened) == sorted(SPREAD)
    assert all(p.request_id == f"req:{s}" and p.stop_loss == D("24.50") for s, p in opened.items())
    assert len(await shard_keys_written(chain.bus, "position.state")) >= len(SPREAD)
    await chain.stop("trading")

    positions, exits = await chain.start_trading()  # rebuilt from every shard
    assert isinstance(positions, PositionService) and isinstance(exits, ExitService)
    for symbol, position in opened.items():
        kept = positions.keeper.positions[("ACC1", symbol)]
        assert kept.position_id == position.position_id
        assert exits.brain.positions[position.position_id].stop == D("24.50")
    for symbol in SPREAD:
        await chain.show(quote(symbol, "24.45", "24.47", bid_size=1000, ask_size=1000))
    closed = await chain.wait_for("position.state", "closed", len(SPREAD))
    assert {c.symbol: c.exit_reason for c in closed} == dict.fromkeys(SPREAD, "stop")
    assert all(c.realized_pnl == 100 * (c.exit_price - D("25.02")) for c in closed)
    # The simulated venue fills the exit at the quote execution has seen: the drop (24.45, a
    # loss of 57.00). On the cluster the quote's shard and trades.intent are on different
    # masters, so the exit brain's intent may reach execution before the quote that triggered
    # it does, and the exit fills at the bid before it (25.00): no order between streams.
    cluster = isinstance(chain.bus.transport, RedisClusterTransport)
    assert {c.exit_price for c in closed} <= ({D("24.45"), D("25.00")} if cluster else {D("24.45")})
    intents = await chain.events("trades.intent", "created")
    assert sorted(i.symbol for i in intents) == sorted(SPREAD)  # one exit each, none twice
    assert len(await chain.events("exit.stop", "triggered")) == len(SPREAD)


async def test_a_restarted_execution_follows_quotes_of_every_shard_from_their_end(
    chain: Chain,
) -> None:
    for symbol in SPREAD:
        await chain.show(quote(symbol, "25.00", "25.02"))
    await chain.stop("execution")
    execution = await chain.start_execution()
    bus = chain.bus
    ends = {s: await bus.transport.last_id(bus.names.key(s)) for s in bus.shard_streams(QUOTES)}
    assert len(ends) == len(SPREAD) and "0-0" not in ends.values()
    [follow] = [sub for sub in execution.subscriptions() if sub.streams == [QUOTES]]
    assert follow.broadcast and follow.start == ends  # from now on, shard by shard
    for symbol in SPREAD:  # and what comes next reaches it on every shard
        await chain.show(quote(symbol, "25.10", "25.12"))
