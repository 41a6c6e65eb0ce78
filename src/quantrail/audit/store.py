"""The audit trail's SQL store: append-only, hash-chained, in the ledger's database.

Table ``audit_records`` (migration 3 in ``ledger/migrations.py``). ``append`` is idempotent on
the event id and on the decision id: a redelivered record is not stored twice and the chain
stays linear. The next ``seq`` is taken under a table lock (SQLite's ``BEGIN IMMEDIATE``,
PostgreSQL's ``LOCK TABLE``), so two writers cannot fork the chain.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from quantrail.audit.chain import (
    GENESIS,
    StoredRecord,
    Verdict,
    canonical,
    chain_hash,
    record_fields,
    verify_chain,
)
from quantrail.events.audit import DecisionAudited
from quantrail.ledger.migrations import apply_migrations
from quantrail.ledger.sql import Backend, Tx, connect

_COLUMNS = "seq, event_id, decision_id, ts_ns, service, body, prev_hash, hash"
_PAGE = 1000
_INDEXED = (
    "seq", "event_id", "decision_id", "ts_ns", "service", "decision_type", "account",
    "correlation_id",
)  # fmt: skip
"""The record's fields kept as columns (for queries) beside the canonical body."""


@dataclass(frozen=True, slots=True)
class Appended:
    """Where the record is in the chain; ``stored`` False: it was there already."""

    seq: int
    stored: bool


class AuditStore:
    """One thread at a time; open one per process (``AuditStore.open(db.url)``)."""

    def __init__(self, backend: Backend) -> None:
        self._db = backend

    @classmethod
    def open(cls, url: str) -> AuditStore:
        backend = connect(url)
        apply_migrations(backend)
        return cls(backend)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> AuditStore:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def append(self, event: DecisionAudited) -> Appended:
        with self._db.transaction() as tx:
            if self._db.dialect == "postgresql":
                tx.run("LOCK TABLE audit_records IN EXCLUSIVE MODE")
            known = tx.select(
                "audit_records", "seq", "event_id = ? OR decision_id = ?",
                event.event_id, event.decision_id,
            )  # fmt: skip
            if known:
                return Appended(int(known[0][0]), stored=False)
            seq, prev = _head(tx)
            fields = record_fields(event, seq + 1)
            body = canonical(fields)
            row = {name: fields[name] for name in _INDEXED}
            row |= {"body": body, "prev_hash": prev, "hash": chain_hash(prev, body)}
            tx.insert("audit_records", row)
            return Appended(seq + 1, stored=True)

    def records(
        self, since_ns: int | None = None, service: str | None = None
    ) -> list[dict[str, Any]]:
        """Stored records (their canonical fields), oldest first, optionally filtered."""
        where: list[str] = ["1 = 1"]
        params: list[object] = []
        if since_ns is not None:
            where.append("ts_ns >= ?")
            params.append(since_ns)
        if service is not None:
            where.append("service = ?")
            params.append(service)
        with self._db.transaction() as tx:
            rows = tx.rows(
                f"SELECT body FROM audit_records WHERE {' AND '.join(where)} ORDER BY seq",
                tuple(params),
            )
        return [json.loads(row[0]) for row in rows]

    def verify(self) -> Verdict:
        """Check the whole chain, page by page (one transaction: a consistent view)."""
        with self._db.transaction() as tx:
            return verify_chain(_stored(tx))

    def count(self) -> int:
        with self._db.transaction() as tx:
            return int(tx.rows("SELECT COUNT(*) FROM audit_records")[0][0])


def _head(tx: Tx) -> tuple[int, str]:
    rows = tx.rows("SELECT seq, hash FROM audit_records ORDER BY seq DESC LIMIT 1")
    return (int(rows[0][0]), str(rows[0][1])) if rows else (0, GENESIS)


def _stored(tx: Tx) -> list[StoredRecord]:
    out: list[StoredRecord] = []
    after = 0
    while True:
        rows = tx.rows(
            f"SELECT {_COLUMNS} FROM audit_records WHERE seq > ? ORDER BY seq LIMIT {_PAGE}",
            (after,),
        )
        out.extend(
            StoredRecord(int(r[0]), str(r[1]), str(r[2]), int(r[3]), str(r[4]), str(r[5]),
                         str(r[6]), str(r[7]))
            for r in rows
        )  # fmt: skip
        if len(rows) < _PAGE:
            return out
        after = int(rows[-1][0])
