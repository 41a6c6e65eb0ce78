"""``quantrail killswitch``: status, reset and a manual activation (a person's verbs).

Each writes the kill switch's SQL state first (``db.url`` or ``--db``), then publishes the event
and its audit record on Redis: the killswitch service publishes again whatever SQL has and the
stream lost, so an interrupted verb is completed by the next start of the service.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from quantrail.cli_bus import _run, _with_bus
from quantrail.cli_errors import fail
from quantrail.cli_options import (
    ConfigOption,
    NamespaceOption,
    RedisOption,
    console,
    load_cli_config,
)
from quantrail.config import Config

killswitch_app = typer.Typer(no_args_is_help=True, help="The kill switch: status, reset, pull.")

DbOption = Annotated[
    str | None, typer.Option("--db", help="ledger database URL (default: db.url, QUANTRAIL_DB_URL)")
]
AccountArg = Annotated[str, typer.Argument(help="the account, e.g. HAMMER")]
ByOption = Annotated[str, typer.Option("--by", help="who does it (your name)")]
ReasonOption = Annotated[str, typer.Option("--reason", help="why")]


def open_db(opener: Any, config: Config, db: str | None, label: str) -> Any:
    """``opener(url)`` on ``--db`` or ``db.url``; a database that cannot be opened exits 1."""
    from quantrail.ledger.sql import DatabaseUnavailableError

    try:
        return opener(db or config.db.url)
    except (DatabaseUnavailableError, ValueError) as exc:
        fail(f"{label}: {exc}", 1)


def _store(config: Config, db: str | None) -> Any:
    from quantrail.risk.kill_state import KillStateStore

    return open_db(KillStateStore.open, config, db, "killswitch")


def _require(label: str, text: str) -> None:
    if not text.strip():
        fail(f"{label}: must not be empty, got {text!r}", 2)


@killswitch_app.command("status")
def status(db: DbOption = None, config: ConfigOption = None) -> None:
    """Each account's kill switch: active or not, who, when, why, the trigger value."""
    from quantrail.session.phases import format_exchange_time

    cfg = load_cli_config(config)
    with _store(cfg, db) as store:
        state = store.state()
    accounts = sorted({a.name for a in cfg.risk.accounts} | set(state.accounts()))
    for account in accounts:
        last = state.last(account)
        if last is None:
            typer.echo(f"{account}: inactive (never activated)")
            continue
        when = format_exchange_time(last.event.ts_event, cfg.session.timezone)
        word = "ACTIVE" if state.active(account) else "inactive"
        typer.echo(f"{account}: {word} since {when}: {last.describe()}")


def _publish(cfg: Config, events: list[Any]) -> None:
    async def work(bus: Any) -> None:
        await bus.publish_batch(events)

    _run(_with_bus(cfg, work))


@killswitch_app.command("reset")
def reset(
    account: AccountArg,
    by: ByOption,
    reason: ReasonOption,
    db: DbOption = None,
    config: ConfigOption = None,
    redis: RedisOption = None,
    namespace: NamespaceOption = None,
) -> None:
    """Clear ACCOUNT's kill switch (written to SQL, published, audited)."""
    from quantrail.risk.kill_commands import operator_reset, reset_inputs

    _require("--by", by)
    _require("--reason", reason)
    cfg = load_cli_config(config, redis, namespace)
    with _store(cfg, db) as store:
        active = store.state().active(account)
    if active is None:
        fail(f"{account}: the kill switch is not active", 1)
    _record(cfg, db, operator_reset(active, by, reason, source="cli"), reset_inputs(active))
    console.print(f"{account}: kill switch reset by {by} ({reason})", markup=False)


@killswitch_app.command("activate")
def activate(
    account: AccountArg,
    by: ByOption,
    reason: ReasonOption,
    flatten: Annotated[
        bool | None, typer.Option("--flatten/--no-flatten", help="default: kill_switch.flatten")
    ] = None,
    db: DbOption = None,
    config: ConfigOption = None,
    redis: RedisOption = None,
    namespace: NamespaceOption = None,
) -> None:
    """Pull ACCOUNT's kill switch by hand (cancels its orders; flattens if asked)."""
    from quantrail.risk.kill_commands import manual_activation

    _require("--by", by)
    _require("--reason", reason)
    cfg = load_cli_config(config, redis, namespace)
    flat = cfg.kill_switch.flatten if flatten is None else flatten
    with _store(cfg, db) as store:
        if store.state().active(account) is not None:
            fail(f"{account}: the kill switch is already active", 1)
    _record(cfg, db, manual_activation(account, by, reason, flat, source="cli"), {"reason": reason})
    console.print(f"{account}: kill switch activated by {by} ({reason})", markup=False)


def _record(cfg: Config, db: str | None, event: Any, inputs: dict[str, Any]) -> None:
    """SQL first (the service re-publishes what the stream lost), then the event and its
    audit record."""
    from quantrail.risk.kill_commands import record_kill

    with _store(cfg, db) as store:
        events = record_kill(store, event, cfg.session.timezone, inputs)
    _publish(cfg, events)
