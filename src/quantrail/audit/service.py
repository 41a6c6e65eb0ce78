"""The audit archiver (service ``audit``): every ``audit.decision.logged`` into the SQL chain.

Group ``audit`` on ``audit.decision`` from the stream's start, so a record published before the
archiver first ran is archived too. The store's append is idempotent on the event id and the
decision id: a redelivery, a restart or a second archiver stores nothing twice. An event of
another kind on the stream is acked untouched.
"""

from __future__ import annotations

from quantrail.audit.db_thread import DbThread
from quantrail.audit.store import AuditStore
from quantrail.bus.delivery import Delivery
from quantrail.config import Config
from quantrail.events.audit import DecisionAudited
from quantrail.events.base import Event
from quantrail.runtime.service import Service, Subscription

NAME = "audit"
STREAM = "audit.decision"


class AuditService(Service):
    name = NAME

    def __init__(self, db_url: str) -> None:
        super().__init__()
        self.db_url = db_url
        self.counts = {"stored": 0, "duplicates": 0}
        self._db = DbThread("audit-db")
        self._store: AuditStore | None = None

    def subscriptions(self) -> list[Subscription]:
        return [Subscription([STREAM], self.on_record, name="records", start="0")]

    async def on_start(self) -> None:
        self._store = await self._db.run(AuditStore.open, self.db_url)

    async def on_stop(self) -> None:
        if self._store is not None:
            await self._db.run(self._store.close)
        self._db.shutdown()

    async def on_record(self, event: Event, _delivery: Delivery) -> None:
        if not isinstance(event, DecisionAudited) or self._store is None:
            return
        appended = await self._db.run(self._store.append, event)
        self.counts["stored" if appended.stored else "duplicates"] += 1

    def health(self) -> dict[str, object]:
        return dict(self.counts)


def build_audit_service(config: Config) -> Service:
    return AuditService(config.db.url)
