"""The ledger under faults, on a real redis-server and real databases.

* kill -9 the ledger service process mid-stream (once right after a fill is stored and before
  its ack, once from outside) and restart it: every fill published is stored exactly once;
* restart Redis under a running service: nothing published after the restart is lost, and
  fills the producer sends again (the bus's marks died with Redis) are not booked twice;
* the same events through Redis and through the memory bus give identical reports.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from kit.bus import make_bus, new_namespace
from kit.ledger import (
    ACCOUNTS,
    DAY,
    HAND_MARKS,
    OPEN_NS,
    SECOND_NS,
    fill_event,
    hand_accounts,
    hand_fills,
    hand_snapshot,
    interleaved,
    many_fills,
    running,
)
from kit.poll import eventually
from quantrail.bus.bus import EventBus
from quantrail.bus.transport import TransportError
from quantrail.events.base import Event
from quantrail.events.exposure import ExposureSnapshot
from quantrail.events.risk import RiskModeChanged
from quantrail.ledger.books import AccountDay, Fill
from quantrail.ledger.report import report_eod
from quantrail.ledger.service import LedgerService
from quantrail.ledger.store import LedgerStore
from quantrail.ops.redis_server import RedisServer
from quantrail.vocab import Mode

EQUITY = Decimal("1000000.00")
WORKER = Path(__file__).resolve().parents[2] / "kit" / "ledger_procs.py"
NY = "America/New_York"

pytestmark = pytest.mark.redis


def stored(store_url: str, account: str | None = None) -> int:
    with LedgerStore.open(store_url) as store:
        return store.count_fills(account)


def assert_books_match(store_url: str, fills: list[Fill]) -> None:
    """Per account: the stored day reloads (its lots agree) and equals booking ``fills`` once."""
    with LedgerStore.open(store_url) as store:
        for account in ACCOUNTS:
            expected = AccountDay(hand_snapshot(account))
            for each in fills:
                if each.account == account:
                    expected.book_fill(each)
            books = store.load_day(account, DAY)
            assert [r.fill for r in books.results()] == [r.fill for r in expected.results()]
            assert books.positions() == expected.positions()
            assert books.totals() == expected.totals()


def start_worker(
    redis: str, namespace: str, db: str, baselines: Path, crash_after: str = ""
) -> subprocess.Popen[bytes]:
    command = [
        sys.executable,
        str(WORKER),
        "--redis",
        redis,
        "--namespace",
        namespace,
        "--db",
        db,
        "--baselines",
        str(baselines),
    ]
    if crash_after:
        command += ["--crash-after", crash_after]
    return subprocess.Popen(command, stderr=subprocess.PIPE)


async def publish(bus: EventBus, events: list[Event]) -> None:
    for start in range(0, len(events), 100):
        await bus.publish_batch(events[start : start + 100])


@pytest.mark.slow
async def test_kill_9_mid_stream_and_restart_stores_every_fill_once(
    redis_url: str, store_url: str, tmp_path: Path
) -> None:
    namespace = new_namespace()
    bus = make_bus("redis", redis_url, namespace)
    hand_accounts(tmp_path)  # the baseline files the worker's config names
    fills = interleaved(*(many_fills(account, 400) for account in ACCOUNTS))
    first, second = fills[:900], fills[900:]
    await publish(bus, [fill_event(each) for each in first])
    worker = None
    reader = LedgerStore.open(store_url)
    try:
        # Run 1 dies by SIGKILL right after fill #100 is stored, before the bus acks it.
        crash = first[99]
        worker = start_worker(
            redis_url, namespace, store_url, tmp_path, f"{crash.account}:{crash.fill_id}"
        )
        assert await asyncio.to_thread(worker.wait, 60) == -9, worker.stderr.read().decode()
        assert reader.count_fills() == 100  # in order, up to and including the crash fill

        # Run 2 takes back its pending fills (already stored: acked, not booked) and goes on,
        # until it is killed from outside with fills still to come.
        worker = start_worker(redis_url, namespace, store_url, tmp_path)
        await eventually(
            reader.count_fills, lambda n: n >= 150, within=60, what="run 2", interval=0.002
        )
        worker.kill()
        assert await asyncio.to_thread(worker.wait, 30) == -9
        killed_at = reader.count_fills()
        assert 150 <= killed_at < len(first), "the kill did not land mid-stream"

        # More fills while it is down, and twenty old ones re-sent unkeyed (new to the bus).
        await publish(bus, [fill_event(each) for each in second])
        await publish(bus, [fill_event(each, keyed=False) for each in first[:20]])

        # Run 3 finishes the stream; SIGTERM stops it cleanly.
        worker = start_worker(redis_url, namespace, store_url, tmp_path)
        await eventually(reader.count_fills, lambda n: n == 1200, within=90, what="run 3")
        info = await eventually(
            lambda: bus.transport.info(bus.names.key("trades.order")),
            lambda i: any(g.name == "ledger" and g.pending == 0 and g.lag == 0 for g in i.groups),
            within=30,
            what="every entry acked",
        )
        worker.terminate()
        assert await asyncio.to_thread(worker.wait, 30) == 0, worker.stderr.read().decode()
    finally:
        if worker is not None and worker.poll() is None:
            worker.kill()
        reader.close()
        await bus.close()
    assert info.length == 1220  # 1,200 fills + 20 re-sent
    assert [stored(store_url, account) for account in ACCOUNTS] == [400, 400, 400]
    assert_books_match(store_url, fills)


async def test_a_redis_restart_loses_no_fill_and_books_none_twice(
    own_redis: RedisServer, store_url: str, tmp_path: Path
) -> None:
    bus = make_bus("redis", own_redis.url)
    service = LedgerService(store_url, hand_accounts(tmp_path), timezone=NY)
    fills = interleaved(*(many_fills(account, 40) for account in ACCOUNTS))
    try:
        async with running(bus, service) as runner:
            await publish(bus, [fill_event(each) for each in fills[:60]])
            await eventually(lambda: service.counts["booked"], lambda n: n == 60, what="before")
            own_redis.restart()  # kill -9 and start again: streams, groups and marks are gone

            # The producer sends what it is not sure of again, keyed as before. The bus's marks
            # died with Redis, unless the consumer's last ack was retried onto the new server
            # (it is, when the restart lands mid-ack): then the bus stops some of the 20 and the
            # ledger's fill ids the rest. Either way each is stopped once and none is booked.
            again = [fill_event(each) for each in fills[40:]]

            async def publish_after_restart() -> bool:
                try:
                    await publish(bus, again)
                except TransportError:
                    return False
                return True

            await eventually(publish_after_restart, within=15, what="publish after restart")
            await eventually(
                lambda: service.counts["booked"],
                lambda n: n == 120,
                within=20,
                what="fills after the restart",
            )
            await eventually(
                lambda: (
                    service.counts["duplicates"]
                    + sum(consumer.stats.duplicates for consumer in runner.consumers)
                ),
                lambda n: n == 20,
                what="the 20 re-sent fills stopped once each",
            )
    finally:
        await bus.close()
    assert stored(store_url) == 120
    assert_books_match(store_url, fills)


def day_events() -> list[Event]:
    """The three hand days, a mode change and an exposure sample per account per half hour."""
    events: list[Event] = [
        fill_event(each) for each in interleaved(*(hand_fills(a) for a in ACCOUNTS))
    ]
    events.append(
        RiskModeChanged(
            ts_event=OPEN_NS + 3000 * SECOND_NS,
            account=None,
            previous_mode=Mode.NORMAL,
            mode=Mode.THROTTLE_NEW_ORDERS,
            reason="potential gross 131% > 130%",
        )
    )
    for account in ACCOUNTS:
        for step in range(12):
            gross = 95.0 + 3 * step
            events.append(
                ExposureSnapshot(
                    ts_event=OPEN_NS + step * 1800 * SECOND_NS,
                    account=account,
                    equity=EQUITY,
                    long_notional=EQUITY,
                    short_notional=EQUITY / 4,
                    gross_exposure_pct=gross,
                    long_gross_pct=gross - 20,
                    short_gross_pct=20.0,
                    net_exposure_pct=gross - 40,
                    potential_gross_pct=gross,
                    prices_as_of_ns=OPEN_NS,
                )
            )
    return events


async def reports_through(
    bus: EventBus, store_url: str, tmp_path: Path, events: list[Event]
) -> dict[str, tuple[str, str]]:
    service = LedgerService(store_url, hand_accounts(tmp_path), timezone=NY)
    try:
        async with running(bus, service):
            await publish(bus, events)
            await eventually(
                lambda: dict(service.counts),
                lambda c: (
                    c["booked"] == 16 and c["mode_changes"] == 1 and c["exposure_samples"] == 36
                ),
            )
    finally:
        await bus.close()
    with LedgerStore.open(store_url) as store:
        return {
            account: (
                report_eod(store, account, DAY, True, marks=HAND_MARKS[account]).to_json(),
                report_eod(store, account, DAY, True, marks=HAND_MARKS[account]).to_html(),
            )
            for account in ACCOUNTS
        }


async def test_the_same_fills_through_redis_and_memory_give_identical_reports(
    redis_url: str, tmp_path: Path
) -> None:
    events = day_events()
    (tmp_path / "m").mkdir()
    (tmp_path / "r").mkdir()

    memory = await reports_through(
        make_bus("memory", None), f"sqlite:///{tmp_path}/m/l.sqlite", tmp_path / "m", events
    )
    redis = await reports_through(
        make_bus("redis", redis_url), f"sqlite:///{tmp_path}/r/l.sqlite", tmp_path / "r", events
    )

    assert redis == memory
    assert '"net_realized_pnl": "478.25"' in memory["HAMMER"][0]
    assert '"mode": "THROTTLE_NEW_ORDERS"' in memory["IBKR_PED"][0]  # global: every account's
    assert memory["IBKR_GUN"][1].count("<polyline") == 3  # gross, net, cumulative P&L
