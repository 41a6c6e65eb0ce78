"""``quantrail audit`` and ``quantrail trace`` end to end: the archiver fills the SQL chain from
the stream (a redelivery stored once), ``verify`` catches a changed and a deleted record on
SQLite and PostgreSQL, ``trace`` prints a chain published by hand."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from kit.audit import decisions, tamper
from kit.bus import make_bus
from kit.cli import run_cli
from kit.killswitch import Rig, write_cli_config
from kit.poll import eventually
from kit.sql import pg_database_url, sqlite_url, store_url
from kit.trace import CORRELATION, hand_chain
from quantrail.audit.service import AuditService
from quantrail.audit.store import AuditStore
from quantrail.config import config_from_mapping

__all__ = ["pg_database_url", "store_url"]
pytestmark = pytest.mark.redis


async def archive(redis_url: str, db: str, count: int) -> None:
    """Publish ``count`` decisions, then each again under a new event id and idempotency key
    (a decision logged twice: the bus cannot tell, the store's decision id does), archive them."""
    bus = make_bus("redis", redis_url)
    rig = Rig(bus, config_from_mapping({"db": {"url": db}}))
    try:
        events = decisions(count)
        again = [
            msgspec.structs.replace(e, event_id=f"again-{e.event_id}", idempotency_key="")
            for e in events
        ]
        await rig.publish(*events, *again)
        await rig.start(AuditService(db))
        audit = rig.services[0]
        assert isinstance(audit, AuditService)
        await eventually(
            lambda: dict(audit.counts), lambda c: c == {"stored": count, "duplicates": count}
        )
        with AuditStore.open(db) as store:
            assert store.count() == count
    finally:
        await rig.close()
        await bus.close()


async def test_verify_catches_a_changed_and_a_deleted_record(
    redis_url: str, store_url: str, tmp_path: Path
) -> None:
    await archive(redis_url, store_url, 5)
    config = write_cli_config(tmp_path, sqlite_url(tmp_path))
    db = ["--db", store_url, "-c", str(config)]
    ok = await run_cli(["audit", "verify", *db])
    assert ok.exit_code == 0 and "audit chain ok: 5 records" in ok.output
    listed = await run_cli(["audit", "list", *db])
    assert listed.exit_code == 0 and len(listed.output.splitlines()) == 5
    assert "dec-3: decision 3" in listed.output

    tamper(store_url, "UPDATE audit_records SET body = REPLACE(body, ?, ?) WHERE seq = 2",
           "SOFT_DERISK", "NORMAL")  # fmt: skip
    changed = await run_cli(["audit", "verify", *db])
    assert changed.exit_code == 1 and "record seq 2 (id " in changed.output
    assert "changed" in changed.output
    tamper(store_url, "UPDATE audit_records SET body = REPLACE(body, ?, ?) WHERE seq = 2",
           "NORMAL", "SOFT_DERISK")  # fmt: skip
    assert (await run_cli(["audit", "verify", *db])).exit_code == 0

    tamper(store_url, "DELETE FROM audit_records WHERE seq = 4")
    deleted = await run_cli(["audit", "verify", *db])
    assert deleted.exit_code == 1 and "record seq 5" in deleted.output
    assert "seq 4 deleted" in deleted.output


async def test_list_filters_by_time_and_service(redis_url: str, tmp_path: Path) -> None:
    db = sqlite_url(tmp_path)
    await archive(redis_url, db, 3)
    config = write_cli_config(tmp_path, db)
    since = await run_cli(["audit", "list", "--since", "2024-03-15T09:30:02", "-c", str(config)])
    assert since.exit_code == 0
    assert [line.split()[-3] for line in since.output.splitlines()] == ["dec-2:", "dec-3:"]
    none = await run_cli(["audit", "list", "--service", "nobody", "-c", str(config)])
    assert none.exit_code == 0 and none.output == ""
    bad = await run_cli(["audit", "list", "--since", "yesterday", "-c", str(config)])
    assert bad.exit_code == 2 and "--since" in bad.output


async def test_trace_prints_the_chain_from_any_of_its_ids(redis_url: str, tmp_path: Path) -> None:
    bus = make_bus("redis", redis_url)
    try:
        await bus.publish_batch(hand_chain())
        namespace = bus.names.namespace
    finally:
        await bus.close()
    config = write_cli_config(tmp_path, sqlite_url(tmp_path))
    common = ["--redis", redis_url, "-n", namespace, "-c", str(config)]
    for wanted in (CORRELATION, "ord-1", "fill-2", "pos:ACC1:ACME:fill-1"):
        result = await run_cli(["trace", wanted, *common])
        assert result.exit_code == 0, result.output
        lines = result.output.splitlines()
        assert lines[0].startswith(f"chain {CORRELATION} (9 events")
        steps = [line.split()[4] if "+" in line else line.split()[3] for line in lines[1:]]
        assert steps == ["signal", "evaluation", "request", "order", "order", "order",
                         "position", "exit", "position"]  # fmt: skip
        assert lines[1].startswith("2024-03-15 09:30:00.000 EDT")
        assert "+0.250s" in lines[2]
    unknown = await run_cli(["trace", "nope", *common])
    assert unknown.exit_code == 2 and "no event carries the id 'nope'" in unknown.output
