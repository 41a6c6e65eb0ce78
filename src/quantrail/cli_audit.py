"""``quantrail audit list`` and ``quantrail audit verify``: the SQL audit chain."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer

from quantrail.cli_errors import fail
from quantrail.cli_killswitch import DbOption, open_db
from quantrail.cli_options import ConfigOption, load_cli_config
from quantrail.config import Config

audit_app = typer.Typer(no_args_is_help=True, help="The audit trail: list and verify.")


def _store(config: Config, db: str | None) -> Any:
    from quantrail.audit.store import AuditStore

    return open_db(AuditStore.open, config, db, "audit")


def parse_since(text: str, timezone: str) -> int:
    """ISO-8601 to ns UTC; a time without a zone is in the exchange's zone."""
    from quantrail.session.phases import to_utc_ns

    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"--since: not an ISO-8601 time (value: {text!r})") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(timezone))
    return to_utc_ns(moment)


@audit_app.command("list")
def audit_list(
    since: Annotated[str | None, typer.Option(help="ISO-8601 time (exchange zone if none)")] = None,
    service: Annotated[str | None, typer.Option(help="only this service's records")] = None,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """One line per audit record, oldest first."""
    from quantrail.session.phases import format_exchange_time

    cfg = load_cli_config(config)
    try:
        since_ns = parse_since(since, cfg.session.timezone) if since else None
    except ValueError as exc:
        fail(str(exc), 2)
    with _store(cfg, db) as store:
        records = store.records(since_ns, service)
    for record in records:
        when = format_exchange_time(record["ts_ns"], cfg.session.timezone)
        account = record["account"] or "-"
        typer.echo(
            f"{record['seq']:>6} {when} {record['service']:<12} {record['decision_type']:<24} "
            f"{account:<8} {record['decision_id']}: {record['reasoning']}"
        )


@audit_app.command("verify")
def audit_verify(db: DbOption = None, config: ConfigOption = None) -> None:
    """Check the hash chain: exit 0 with the count, 1 naming the first broken record."""
    cfg = load_cli_config(config)
    with _store(cfg, db) as store:
        verdict = store.verify()
    if verdict.broken is not None:
        good, broken = verdict.count, verdict.broken.describe()
        fail(f"audit chain broken after {good} good records: {broken}", 1)
    typer.echo(f"audit chain ok: {verdict.count} records, head {verdict.head}")
