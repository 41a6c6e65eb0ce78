"""A Redis that loses its memory must not lose fills (issue 15).

Execution and ledger run as separate ``quantrail service`` processes on a private redis-server;
the test feeds quotes and market intents. The ledger is paused (SIGSTOP) so fills pile up on
``trades.order`` unread, then redis-server is killed -9 and started again, and the ledger
resumes. A limit order rests at the venue through the kill and fills after it.

Without persistence Redis comes back empty: the fills that were on the stream are gone, the
registry no longer knows the resting order. Execution notices, writes its orders back and
publishes the lost fills again with their original fill ids; the ledger books every fill the
venue made exactly once, and both raise an ERROR alert naming the loss. With AOF nothing is
lost, so nothing is published again and nothing is doubled.
"""

from __future__ import annotations

import asyncio
import signal
from collections import Counter
from pathlib import Path

import pytest

from kit.bus import make_bus, new_namespace
from kit.memloss import (
    Flow,
    alerts,
    fill_events,
    latest_health,
    services,
    stop_service,
    write_config,
)
from kit.poll import eventually
from quantrail.execution.order import order_id_for_intent
from quantrail.execution.registry import registry_for
from quantrail.ledger.store import LedgerStore
from quantrail.ops.redis_server import RedisServer
from quantrail.vocab import Side

pytestmark = pytest.mark.redis

RESTING = "resting-buy"


def _ledger_fill_ids(db_url: str) -> list[str]:
    with LedgerStore.open(db_url, migrate=False) as store, store.transaction() as tx:
        return [str(row[0]) for row in tx.select("fills", "fill_id", "1 = 1")]


@pytest.mark.parametrize("persistent", [False, True], ids=["no-persistence", "aof"])
async def test_a_redis_killed_mid_flow_loses_no_fill_and_books_none_twice(
    persistent: bool, tmp_path: Path
) -> None:
    server = RedisServer(persistent=persistent).start()
    namespace = new_namespace()
    config, db_url = write_config(tmp_path, namespace, server.url)
    bus = make_bus("redis", server.url, namespace)
    try:
        with services(config, tmp_path, "execution", "ledger") as procs:
            for name in ("execution", "ledger"):
                await eventually(lambda n=name: latest_health(bus, n), within=30, what=name)
            flow = Flow(bus)
            await flow.show_quote()
            await flow.rest(RESTING, Side.BUY, "24.50")  # rests below the bid
            flow.start()
            await eventually(lambda: fill_events(bus), lambda f: len(f) >= 20, within=30)

            procs["ledger"].send_signal(signal.SIGSTOP)  # fills pile up on trades.order
            before = len(await fill_events(bus))
            await eventually(lambda: fill_events(bus), lambda f: len(f) >= before + 20)
            server.kill()
            server.start()
            procs["ledger"].send_signal(signal.SIGCONT)

            # After the restart: more flow, and a print that fills the resting order.
            await eventually(lambda: flow.trade_at("24.50"), within=30, what="a print")
            await eventually(lambda: fill_events(bus), lambda f: len(f) >= 20, within=30)
            await flow.stop()

            totals: list[tuple[int, int]] = []

            async def venue_and_ledger() -> tuple[int, int]:
                venue = int((await latest_health(bus, "execution")).get("venue_fills", -1))
                totals.append((venue, len(await asyncio.to_thread(_ledger_fill_ids, db_url))))
                return totals[-1]

            # Settled: the same counts twice in a row, a second apart.
            await eventually(
                venue_and_ledger,
                lambda now: len(totals) > 1 and now == totals[-2] and now[0] == now[1],
                within=60, interval=1.0, what="the ledger booking every venue fill",
            )  # fmt: skip
            health = await latest_health(bus, "execution")
            execution_alerts = await alerts(bus, "execution")
            ledger_alerts = await alerts(bus, "ledger")
            resting = order_id_for_intent(RESTING)
            registry_knows = await registry_for(bus).get(resting)
            on_stream = Counter(e.fill_id for e in await fill_events(bus))
            stderr = stop_service(procs["execution"])
            stop_service(procs["ledger"])
    finally:
        await bus.close()
        server.stop()

    venue_fills, ledger_rows = totals[-1]
    booked = _ledger_fill_ids(db_url)
    assert venue_fills == ledger_rows == len(booked) == len(set(booked)) > 40
    assert f"SIM-{resting}-F1" in booked  # the order that rested through the kill
    assert registry_knows is not None  # written back to the registry
    lost = [a for a in execution_alerts if a.alert_id.startswith("execution:redis_memory_lost")]
    if persistent:
        assert health["fills_republished"] == 0 and not lost
        assert not [a for a in ledger_alerts if "lost its memory" in a.message]
        assert max(on_stream.values()) == 1  # nothing doubled
        assert "keeps nothing on disk" not in stderr
    else:
        assert health["fills_republished"] > 0
        assert lost and all(a.severity == "ERROR" for a in lost)
        republished = [f for a in lost for f in a.details["fills_published_again"]]
        assert len(republished) == health["fills_republished"]
        assert set(republished) <= set(booked)
        assert [
            a for a in ledger_alerts if a.severity == "ERROR" and "lost its memory" in a.message
        ]
        assert "keeps nothing on disk" in stderr
