"""The kill switch's durable state: every activation and reset, and what they mean now.

``KillState`` is pure: fed ``KillRecord``s in order, it knows per account whether the switch is
active (the last record is an activation), by whom, when, why and at which value, and whether
the daily-loss trigger already fired on a date (it fires once per account and date: after a
person resets it, the same day's loss does not pull it again).

``KillStateStore`` keeps the records in SQL in the ledger's database (table
``kill_switch_events``, migration 3): append-only, one row per event id, the event itself kept
as JSON so a restarted service can publish the very same event (same event id, same
idempotency key) when Redis has lost it.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import TracebackType

import msgspec

from quantrail.events.risk import KillSwitchActivated, KillSwitchReset
from quantrail.ledger.migrations import apply_migrations
from quantrail.ledger.sql import Backend, connect

KillEvent = KillSwitchActivated | KillSwitchReset
ACTIVATED, RESET = "ACTIVATED", "RESET"
DAILY_LOSS = "daily_loss_exceeded"

_COLUMNS = "event_json, session_date"


@dataclass(frozen=True, slots=True)
class KillRecord:
    """One activation or reset of an account, with the session date it happened on."""

    event: KillEvent
    session_date: str

    @property
    def account(self) -> str:
        return self.event.account or ""

    @property
    def action(self) -> str:
        return ACTIVATED if isinstance(self.event, KillSwitchActivated) else RESET

    @property
    def actor(self) -> str:
        event = self.event
        return event.activated_by if isinstance(event, KillSwitchActivated) else event.reset_by

    @property
    def reason(self) -> str:
        event = self.event
        return event.action_taken if isinstance(event, KillSwitchActivated) else event.reason

    @property
    def trigger(self) -> str:
        return self.event.trigger if isinstance(self.event, KillSwitchActivated) else ""

    @property
    def trigger_value(self) -> float | None:
        return self.event.trigger_value if isinstance(self.event, KillSwitchActivated) else None

    def describe(self) -> str:
        value = "" if self.trigger_value is None else f" at {self.trigger_value:.2f}%"
        what = f"{self.trigger}{value}: " if self.trigger else ""
        return f"{self.action} by {self.actor} ({what}{self.reason})"


def daily_loss_key(account: str, session_date: str) -> str:
    """The idempotency key of the automatic activation: once per account and date."""
    return f"killswitch:{account}:{session_date}:{DAILY_LOSS}"


class KillState:
    def __init__(self, records: list[KillRecord] | None = None) -> None:
        self._last: dict[str, KillRecord] = {}
        self._fired: set[tuple[str, str]] = set()
        self._seen: set[str] = set()
        for record in records or ():
            self.apply(record)

    def apply(self, record: KillRecord) -> bool:
        """Take a record in; False when its event was already applied."""
        if record.event.event_id in self._seen or not record.account:
            return False
        self._seen.add(record.event.event_id)
        self._last[record.account] = record
        if record.trigger == DAILY_LOSS:
            self._fired.add((record.account, record.session_date))
        return True

    def knows(self, event_id: str) -> bool:
        return event_id in self._seen

    def active(self, account: str) -> KillRecord | None:
        last = self._last.get(account)
        return last if last is not None and last.action == ACTIVATED else None

    def last(self, account: str) -> KillRecord | None:
        return self._last.get(account)

    def accounts(self) -> list[str]:
        return sorted(self._last)

    def fired_on(self, account: str, session_date: str) -> bool:
        return (account, session_date) in self._fired


class KillStateStore:
    """One thread at a time; ``KillStateStore.open(db.url)`` migrates the database."""

    def __init__(self, backend: Backend) -> None:
        self._db = backend

    @classmethod
    def open(cls, url: str) -> KillStateStore:
        backend = connect(url)
        apply_migrations(backend)
        return cls(backend)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> KillStateStore:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def save(self, record: KillRecord) -> bool:
        """Append the record; False when its event id is stored already (a redelivery)."""
        event = record.event
        row: dict[str, object] = {
            "event_id": event.event_id,
            "account": record.account,
            "action": record.action,
            "ts_ns": event.ts_event,
            "session_date": record.session_date,
            "actor": record.actor,
            "reason": record.reason,
            "trigger_name": record.trigger,
            "trigger_value": _text(record.trigger_value),
            "threshold": _text(event.threshold if isinstance(event, KillSwitchActivated) else None),
            "event_json": msgspec.json.encode(event).decode(),
        }
        with self._db.transaction() as tx:
            if tx.select("kill_switch_events", "seq", "event_id = ?", event.event_id):
                return False
            tx.insert("kill_switch_events", row)
        return True

    def records(self) -> list[KillRecord]:
        with self._db.transaction() as tx:
            rows = tx.rows(f"SELECT {_COLUMNS} FROM kill_switch_events ORDER BY seq")
        return [KillRecord(msgspec.json.decode(r[0], type=KillEvent), str(r[1])) for r in rows]

    def state(self) -> KillState:
        return KillState(self.records())


def _text(value: float | None) -> str | None:
    return None if value is None else repr(value)
