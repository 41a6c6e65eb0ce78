"""The kill switch service and the real ExecutionService on one runner (real Redis): the
activation cancels the account's working orders and, with ``kill_switch.flatten``, closes its
positions."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from kit.bus import make_bus
from kit.event_base import ACCOUNT
from kit.killswitch import Rig, activations, killswitch_config, losing_fills, the_drop
from kit.market_events import quote
from kit.order_events import intent
from kit.poll import eventually
from kit.sql import sqlite_url
from quantrail.bus.bus import EventBus
from quantrail.execution.order import order_id_for_intent
from quantrail.execution.service import ExecutionService
from quantrail.execution.services import build_execution_service
from quantrail.vocab import Side

pytestmark = pytest.mark.redis


@pytest.fixture
async def bus(redis_url: str) -> AsyncIterator[EventBus]:
    event_bus = make_bus("redis", redis_url)
    yield event_bus
    await event_bus.close()


async def order_kinds(rig: Rig, order_id: str) -> list[str]:
    return [e.kind for e in await rig.read("trades.order") if e.order_id == order_id]


@pytest.mark.parametrize("flatten", [False, True])
async def test_activation_cancels_working_orders_and_flatten_closes_positions(
    bus: EventBus, tmp_path: Path, flatten: bool
) -> None:
    config = killswitch_config(
        tmp_path, sqlite_url(tmp_path), flatten=flatten,
        execution={"latency_ms": 20, "seed": 7}, liquidity={"min_interval_s": 0},
    )  # fmt: skip
    rig = Rig(bus, config)
    execution = build_execution_service(config, bus, rig.clock)
    assert isinstance(execution, ExecutionService)
    try:
        service = await rig.start(execution)
        await rig.publish(quote(symbol="ACME", bid="49.90", ask="49.92", bid_size=5000,
                                ask_size=5000))  # fmt: skip
        await eventually(lambda: execution.pretrade.quotes.get("ACME"), what="quote")
        await rig.publish(intent(intent_id="rest", side=Side.BUY, qty=100, limit_price="40.00"))
        rest = order_id_for_intent("rest")
        await eventually(lambda: order_kinds(rig, rest), lambda k: "trades.order.working" in k)
        assert execution.pretrade.position(ACCOUNT, "ACME") == 1000  # the baseline

        await rig.publish(*losing_fills())
        await eventually(lambda: service.days[ACCOUNT].fees, lambda fees: fees == 7.5)
        assert service.state.active(ACCOUNT) is None  # -142.50 so far: not yet
        await rig.publish(the_drop())
        [activation] = await eventually(
            lambda: rig.read("risk.kill_switch"), lambda found: len(activations(found)) == 1
        )
        assert activation.flatten is flatten
        await eventually(lambda: order_kinds(rig, rest), lambda k: "trades.order.canceled" in k)
        assert all(o.intent_id.startswith("flatten:") for o in execution.open_orders())
        if flatten:
            flat_id = order_id_for_intent(f"flatten:{activation.event_id}:{ACCOUNT}:ACME:1000")
            await eventually(
                lambda: order_kinds(rig, flat_id), lambda k: "trades.order.filled" in k
            )
            assert execution.pretrade.position(ACCOUNT, "ACME") == 0
        else:
            assert execution.pretrade.position(ACCOUNT, "ACME") == 1000
        assert execution.open_orders() == []
    finally:
        await rig.close()
