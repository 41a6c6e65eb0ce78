"""The ledger's journal: audit rows, risk mode changes and exposure samples, kept for reports.

Beside the books (``store.py``) in the same database. Each write is one transaction. Mode
changes carry the event id they came from, so a re-delivered ``RiskModeChanged`` is stored once;
exposure samples are thinned to one per account per interval (the latest of it), so a 15 s
exposure feed costs a few hundred rows a day and the last sample of the day is always kept.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from quantrail.ledger.sql import Backend, Tx
from quantrail.ledger.sql import money as _money
from quantrail.vocab import Mode

NS_PER_SECOND = 1_000_000_000


@dataclass(frozen=True, slots=True)
class AuditRecord:
    ts_ns: int
    account: str | None
    action: str
    detail: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ModeChange:
    """A risk mode change; ``account`` None means every account. ``event_id`` makes it unique."""

    ts_ns: int
    mode: Mode
    reason: str
    account: str | None = None
    event_id: str = ""


@dataclass(frozen=True, slots=True)
class ExposureSample:
    """One exposure reading; percentages are of equity (gross = |long| + |short|)."""

    ts_ns: int
    equity: Decimal
    long_notional: Decimal
    short_notional: Decimal
    gross_pct: Decimal
    net_pct: Decimal
    account: str | None = None


_EXPOSURE_COLUMNS = "ts_ns, equity, long_notional, short_notional, gross_pct, net_pct, account"


class Journal:
    """Audit, mode changes and exposure samples in the ledger's database."""

    def __init__(self, backend: Backend) -> None:
        self._db = backend

    def record_audit(self, record: AuditRecord) -> None:
        with self._db.transaction() as tx:
            insert_audit(tx, record)

    def audit_records(self, account: str | None = None) -> list[AuditRecord]:
        rows = self._select("audit", "ts_ns, account, action, detail", account)
        return [AuditRecord(int(ts), acc, str(act), json.loads(det)) for ts, acc, act, det in rows]

    def record_mode_change(self, change: ModeChange) -> bool:
        """Store a mode change; False when its (non-empty) event id is already stored."""
        with self._db.transaction() as tx:
            if change.event_id and tx.select("mode_changes", "1", "event_id = ?", change.event_id):
                return False
            tx.insert("mode_changes", _fields(change))
        return True

    def mode_changes(
        self,
        account: str | None = None,
        since_ns: int | None = None,
        until_ns: int | None = None,
        *,
        with_global: bool = False,
    ) -> list[ModeChange]:
        """Mode changes in ``[since_ns, until_ns)`` in time order; all of them without an account.

        ``with_global`` adds, for an account, the changes that apply to every account (None).
        """
        columns = "ts_ns, mode, reason, account, event_id"
        where, params = _time_window(since_ns, until_ns)
        if account is not None:
            scope = "(account = ? OR account IS NULL)" if with_global else "account = ?"
            where, params = f"{where} AND {scope}", [*params, account]
        with self._db.transaction() as tx:
            rows = tx.select("mode_changes", columns, f"{where} ORDER BY ts_ns, seq", *params)
        return [ModeChange(int(ts), Mode(m), str(why), acc, str(e)) for ts, m, why, acc, e in rows]

    def record_exposure(self, sample: ExposureSample) -> None:
        """Store every sample given (see ``record_exposure_sample`` for the thinned feed)."""
        with self._db.transaction() as tx:
            tx.insert("exposure_samples", _fields(sample))

    def record_exposure_sample(self, sample: ExposureSample, interval_s: int = 60) -> bool:
        """Keep at most one sample per account per ``interval_s`` window: the latest one.

        A sample in a window that already has one replaces it when it is not older, so the
        window holds its last reading (and the day its last sample). Returns False when an
        older sample arrived late and was ignored.
        """
        window_ns = interval_s * NS_PER_SECOND
        start = sample.ts_ns - sample.ts_ns % window_ns
        with self._db.transaction() as tx:
            account_is = "account IS NULL" if sample.account is None else "account = ?"
            key = () if sample.account is None else (sample.account,)
            where = f"{account_is} AND ts_ns >= ? AND ts_ns < ? ORDER BY ts_ns DESC"
            window = (*key, start, start + window_ns)
            held = tx.select("exposure_samples", "seq, ts_ns", where, *window)
            if not held:
                tx.insert("exposure_samples", _fields(sample))
                return True
            seq, held_ts = held[0]
            if sample.ts_ns < int(held_ts):
                return False
            values = _fields(sample)
            assignments = ", ".join(f"{name} = ?" for name in values)
            update = f"UPDATE exposure_samples SET {assignments} WHERE seq = ?"
            tx.run(update, (*values.values(), seq))
        return True

    def exposure_samples(
        self, account: str | None = None, since_ns: int | None = None, until_ns: int | None = None
    ) -> list[ExposureSample]:
        """Samples in ``[since_ns, until_ns)`` in time order, for one account or all."""
        where, params = _time_window(since_ns, until_ns)
        if account is not None:
            where, params = f"{where} AND account = ?", [*params, account]
        with self._db.transaction() as tx:
            rows = tx.select(
                "exposure_samples", _EXPOSURE_COLUMNS, f"{where} ORDER BY ts_ns, seq", *params
            )
        return [_exposure(row) for row in rows]

    def _select(self, table: str, columns: str, account: str | None) -> list[tuple[Any, ...]]:
        where, params = ("account = ?", (account,)) if account is not None else ("1 = 1", ())
        with self._db.transaction() as tx:
            return tx.select(table, columns, f"{where} ORDER BY seq", *params)


def insert_audit(tx: Tx, record: AuditRecord) -> None:
    """Write an audit row inside the caller's transaction (it commits with their change)."""
    row = _fields(record)
    tx.insert("audit", {**row, "detail": json.dumps(record.detail, sort_keys=True)})


def _time_window(since_ns: int | None, until_ns: int | None) -> tuple[str, list[object]]:
    clauses, params = ["1 = 1"], list[object]()
    if since_ns is not None:
        clauses.append("ts_ns >= ?")
        params.append(since_ns)
    if until_ns is not None:
        clauses.append("ts_ns < ?")
        params.append(until_ns)
    return " AND ".join(clauses), params


def _fields(record: ModeChange | ExposureSample | AuditRecord) -> dict[str, object]:
    return {f.name: getattr(record, f.name) for f in dataclasses.fields(record)}


def _exposure(row: Sequence[Any]) -> ExposureSample:
    ts_ns, equity, long_notional, short_notional, gross, net, account = row
    money = _money
    return ExposureSample(
        int(ts_ns), money(equity), money(long_notional), money(short_notional), money(gross),
        money(net), account,
    )  # fmt: skip
