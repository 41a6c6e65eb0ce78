"""Venue reports across a Redis outage, on a real redis-server that is killed and restarted.

While Redis is away the fill reports are held, the log says so once (not an ERROR per tick,
not "given up"), and after Redis is back every report is applied exactly once.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from integration.execution.harness import Driver, actions, execution_config
from kit.market_events import quote, trade_print
from kit.order_events import intent
from kit.outage import outage_bus, persistent_redis
from quantrail.bus.bus import EventBus
from quantrail.execution.order import order_id_for_intent
from quantrail.ops.redis_server import RedisServer

pytestmark = pytest.mark.redis
__all__ = ["outage_bus", "persistent_redis"]  # fixtures


async def test_fill_reports_are_held_through_an_outage_said_once_and_applied_once(
    persistent_redis: RedisServer,
    outage_bus: EventBus,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, "quantrail.execution")
    driver = Driver(outage_bus, execution_config(tmp_path))
    await driver.service.on_start()
    await driver.feed(quote(bid="24.95", ask="25.05", bid_size=1000, ask_size=1000))
    await driver.feed(intent(intent_id="held", qty=200, limit_price="24.95"))
    oid = order_id_for_intent("held")

    persistent_redis.kill()
    # Two prints fill the resting order at the venue; their reports cannot reach Redis.
    await driver.feed(trade_print(price="24.95", size=100), ticks=2)
    await driver.feed(trade_print(price="24.95", size=100), ticks=60)  # 6 s of ticks
    health = driver.service.health()
    assert health["reports_held"] == 2 and health["redis_outages"] == 1
    said = [(r.levelno, r.getMessage()) for r in caplog.records]
    unreachable = [m for _, m in said if m.startswith("Redis unreachable, holding")]
    assert len(unreachable) == 1 and unreachable[0].startswith(
        "Redis unreachable, holding 1 venue reports, retrying in 0.1 s"
    )
    assert not [m for level, m in said if level >= logging.ERROR]
    assert not [m for _, m in said if "given up" in m]

    persistent_redis.start()
    await driver.feed(ticks=60)  # the backoff is at most 5 s
    assert driver.service.health()["reports_held"] == 0
    events = [e for e in await outage_bus.read_events("trades.order") if e.order_id == oid]
    assert actions(events) == ["submitted", "accepted", "working", "partially_filled", "filled"]
    assert [m for m in (r.getMessage() for r in caplog.records) if "reachable again" in m]
