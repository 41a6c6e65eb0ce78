"""Builders for the audit trail tests: a numbered run of audit events and SQL tampering."""

from __future__ import annotations

from kit.event_base import ACCOUNT, T0
from quantrail.audit.record import audit_record
from quantrail.events import DecisionAudited
from quantrail.ledger.sql import connect


def decisions(count: int, service: str = "engine") -> list[DecisionAudited]:
    """``count`` audit events one second apart, decision ids ``dec-1``..``dec-<count>``."""
    return [
        audit_record(
            decision_id=f"dec-{n}",
            service=service,
            decision_type="mode_change",
            ts_ns=T0 + n * 1_000_000_000,
            account=ACCOUNT,
            correlation_id=f"corr-{n}",
            input_summary={"gross_pct": "101.5", "n": n},
            output={"mode": "SOFT_DERISK"},
            reasoning=f"decision {n}",
            policy_references=["docs/risk.md"],
        )
        for n in range(1, count + 1)
    ]


def tamper(db_url: str, sql: str, *params: object) -> int:
    """Run ``sql`` straight on the database, as someone editing it by hand would."""
    backend = connect(db_url)
    try:
        with backend.transaction() as tx:
            return tx.run(sql, params)
    finally:
        backend.close()
