"""The dashboard's few actions: pull or reset a kill switch, retry dead letters.

Only with the configured token (``Authorization: Bearer <token>``); without one configured the
dashboard is read-only and every action is refused (403). The kill switch verbs go through
``quantrail.risk.kill_commands`` like ``quantrail killswitch`` (SQL first, then the event and
its audit record); a retry goes through ``quantrail.ops.inspect.retry_dead_letters`` like
``quantrail dlq retry``. Every action done is audited (``audit.decision``, service
``dashboard``) with who asked, why and from where.
"""

from __future__ import annotations

import asyncio
import hmac
import time
import uuid
from dataclasses import dataclass
from typing import Any

from quantrail.audit.record import audit_record
from quantrail.bus.bus import EventBus
from quantrail.config import Config
from quantrail.events import Event

SERVICE = "dashboard"
DLQ_SCAN_LIMIT = 100_000


class ActionError(Exception):
    """An action refused: the HTTP status and a one-line reason the page shows."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


@dataclass(frozen=True, slots=True)
class Ask:
    """Who asks for an action, why, and from where (the client's address)."""

    by: str
    reason: str
    remote: str

    @classmethod
    def of(cls, body: dict[str, Any], remote: str) -> Ask:
        by, reason = _text(body, "by"), _text(body, "reason")
        return cls(by=by, reason=reason, remote=remote)


class DeskActions:
    def __init__(
        self, config: Config, bus: EventBus, token: str | None, db_url: str | None
    ) -> None:
        self._config, self._bus, self._token = config, bus, token
        self._db_url = db_url or config.db.url

    @property
    def enabled(self) -> bool:
        return self._token is not None

    def check_token(self, authorization: str) -> None:
        """Raise 403 unless ``authorization`` carries the configured token."""
        if self._token is None:
            raise ActionError(
                403, "read-only: no dashboard token is configured (dashboard.token_env)"
            )
        given = authorization.removeprefix("Bearer ").strip()
        if not given or not hmac.compare_digest(given.encode(), self._token.encode()):
            raise ActionError(403, "refused: this action needs the dashboard token")

    async def activate(self, account: str, flatten: bool, ask: Ask) -> str:
        from quantrail.risk.kill_commands import manual_activation, record_kill

        self._require_account(account)
        event = manual_activation(account, ask.by, ask.reason, flatten, source=SERVICE)

        def save() -> list[Event]:
            with self._kill_store() as store:
                if store.state().active(account) is not None:
                    raise ActionError(409, f"{account}: the kill switch is already active")
                return record_kill(store, event, self._config.session.timezone, _inputs(ask))

        events = await asyncio.to_thread(save)
        done = f"{account}: kill switch activated by {ask.by}"
        await self._publish(events, "kill_switch_activate", account, ask, done, event)
        return done

    async def reset(self, account: str, ask: Ask) -> str:
        from quantrail.risk.kill_commands import operator_reset, record_kill, reset_inputs

        self._require_account(account)

        def save() -> tuple[list[Event], Event]:
            with self._kill_store() as store:
                active = store.state().active(account)
                if active is None:
                    raise ActionError(409, f"{account}: the kill switch is not active")
                event = operator_reset(active, ask.by, ask.reason, source=SERVICE)
                inputs = reset_inputs(active) | _inputs(ask)
                return record_kill(store, event, self._config.session.timezone, inputs), event

        events, event = await asyncio.to_thread(save)
        done = f"{account}: kill switch reset by {ask.by}"
        await self._publish(events, "kill_switch_reset", account, ask, done, event)
        return done

    async def retry_dead_letters(self, ids: list[str], every: bool, ask: Ask) -> str:
        from quantrail.ops.inspect import IncompleteDeadLetterError, retry_dead_letters

        letters = await self._bus.dead_letters(DLQ_SCAN_LIMIT)
        chosen = letters if every else [x for x in letters if x.dlq_id in ids]
        missing = set() if every else set(ids) - {x.dlq_id for x in chosen}
        if not every and not ids:
            raise ActionError(400, "ids: name dead-letter ids, or send all: true")
        if missing:
            raise ActionError(404, f"ids: no such dead letter: {', '.join(sorted(missing))}")
        try:
            new_ids = await retry_dead_letters(self._bus, chosen)
        except IncompleteDeadLetterError as exc:
            raise ActionError(409, str(exc)) from None
        done = f"retried {len(new_ids)} dead letters"
        retried = [x.dlq_id for x in chosen]
        await self._publish([], "dlq_retry", None, ask, done, None, {"dead_letters": retried})
        return done

    def _require_account(self, account: str) -> None:
        known = [a.name for a in self._config.risk.accounts]
        if not account.strip():
            raise ActionError(400, f"account: must not be empty, got {account!r}")
        if known and account not in known:
            raise ActionError(400, f"account: {account!r} is not in risk.accounts ({known})")

    def _kill_store(self) -> Any:
        from quantrail.risk.kill_state import KillStateStore

        return KillStateStore.open(self._db_url)

    async def _publish(
        self,
        events: list[Event],
        action: str,
        account: str | None,
        ask: Ask,
        done: str,
        cause: Event | None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        """The action's events, then the dashboard's own audit record of who did it."""
        audit = audit_record(
            decision_id=f"dashboard:{action}:{uuid.uuid4().hex}",
            service=SERVICE,
            decision_type=f"dashboard_{action}",
            ts_ns=time.time_ns(),
            account=account,
            cause=cause,
            input_summary=_inputs(ask) | (extra or {}),
            output={"result": done},
            reasoning=f"{ask.by} via the dashboard: {ask.reason}",
            policy_references=["docs/dashboard.md#actions"],
        )
        await self._bus.publish_batch([*events, audit])


def _inputs(ask: Ask) -> dict[str, str]:
    return {"by": ask.by, "reason": ask.reason, "remote": ask.remote}


def _text(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value.strip():
        raise ActionError(400, f"{name}: must be a non-empty string, got {value!r}")
    return value.strip()
