"""The audit chain in SQL: append-only, idempotent, and every change or deletion caught."""

from __future__ import annotations

import msgspec
import pytest

from kit.audit import decisions, tamper
from quantrail.audit.chain import GENESIS, canonical, chain_hash, record_fields
from quantrail.audit.record import audit_record
from quantrail.audit.store import AuditStore
from quantrail.events import DecisionAudited


def filled(url: str, count: int = 5, events: list[DecisionAudited] | None = None) -> AuditStore:
    store = AuditStore.open(url)
    for event in events or decisions(count):
        assert store.append(event).stored
    return store


def test_records_are_chained_by_sha256_over_the_previous_hash(store_url: str) -> None:
    events = decisions(2)
    with filled(store_url, events=events) as store:
        verdict = store.verify()
        records = store.records()
    assert verdict.ok and verdict.count == 2
    first = chain_hash(GENESIS, canonical(record_fields(events[0], 1)))
    second = chain_hash(first, canonical(record_fields(events[1], 2)))
    assert verdict.head == second
    assert [r["decision_id"] for r in records] == ["dec-1", "dec-2"]
    assert records[0]["input_summary"] == {"gross_pct": "101.5", "n": 1}


def test_a_redelivery_is_not_stored_twice(store_url: str) -> None:
    events = decisions(3)
    with filled(store_url, events=events) as store:
        again = store.append(events[1])
        renamed = store.append(msgspec.structs.replace(events[2], event_id="other-id"))
        assert (again.seq, again.stored) == (2, False)
        assert (renamed.seq, renamed.stored) == (3, False)  # same decision id
        assert store.count() == 3 and store.verify().ok


def test_a_changed_record_is_named(store_url: str) -> None:
    events = decisions(5)
    filled(store_url, events=events).close()
    body_of_3 = "decision 3"
    assert tamper(store_url, "UPDATE audit_records SET body = REPLACE(body, ?, ?) WHERE seq = 3",
                  body_of_3, "decision three") == 1  # fmt: skip
    with AuditStore.open(store_url) as store:
        verdict = store.verify()
    assert verdict.broken is not None and verdict.count == 2
    assert (verdict.broken.seq, verdict.broken.event_id) == (3, events[2].event_id)
    assert "changed" in verdict.broken.problem


def test_a_changed_column_is_caught_even_with_the_body_intact(store_url: str) -> None:
    filled(store_url).close()
    tamper(store_url, "UPDATE audit_records SET service = ? WHERE seq = 2", "someone")
    with AuditStore.open(store_url) as store:
        broken = store.verify().broken
    assert broken is not None and broken.seq == 2 and "service" in broken.problem


def test_a_deleted_record_is_named(store_url: str) -> None:
    filled(store_url).close()
    tamper(store_url, "DELETE FROM audit_records WHERE seq = 4")
    with AuditStore.open(store_url) as store:
        broken = store.verify().broken
    assert broken is not None and broken.seq == 5
    assert "seq 4 deleted" in broken.describe()


def test_listing_filters_by_time_and_service(store_url: str) -> None:
    events = decisions(4)
    with filled(store_url, events=events) as store:
        other = audit_record(
            decision_id="ks-1", service="killswitch", decision_type="kill_switch_activated",
            ts_ns=events[3].ts_event,
        )  # fmt: skip
        store.append(other)
        since = events[2].ts_event
        assert [r["decision_id"] for r in store.records(since)] == ["dec-3", "dec-4", "ks-1"]
        assert [r["decision_id"] for r in store.records(service="killswitch")] == ["ks-1"]


def test_an_audit_record_needs_its_decision_id() -> None:
    with pytest.raises(ValueError, match="decision_id"):
        audit_record(decision_id="", service="x", decision_type="y", ts_ns=1)
