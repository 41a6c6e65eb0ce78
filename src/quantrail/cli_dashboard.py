"""``quantrail dashboard`` (the live web page) and ``quantrail top`` (the same in a terminal).

Both read Redis only (never a consumer group): the desk's streams, stream health, and the
ledger's SQL for the day's P&L. The dashboard's actions need the token (``dashboard.token_env``
or ``dashboard.token_file``); the token is never printed. ``docs/dashboard.md`` has the rest.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Annotated, Any

import typer

from quantrail.cli_bus import _redis_bus
from quantrail.cli_errors import fail
from quantrail.cli_options import (
    ConfigOption,
    NamespaceOption,
    RedisOption,
    console,
    load_cli_config,
)
from quantrail.config import Config

DbOption = Annotated[
    str | None, typer.Option("--db", help="ledger database URL (default: db.url, QUANTRAIL_DB_URL)")
]


def _feed(cfg: Config, bus: Any, db: str | None) -> Any:
    from quantrail.ops.desk_feed import DeskFeed
    from quantrail.ops.desk_ledger import ledger_reader
    from quantrail.ops.desk_view import DeskLimits, DeskView
    from quantrail.risk.rules import RiskRulesError, load_risk_rules

    try:
        rules = load_risk_rules(cfg.risk.rules)
    except RiskRulesError as exc:
        fail(f"risk rules: {exc}", 2)
    view = DeskView(DeskLimits.from_rules(rules), [a.name for a in cfg.risk.accounts])
    return DeskFeed(
        bus, view, timezone=cfg.session.timezone,
        streams_interval_s=cfg.dashboard.streams_interval_s,
        ledger=ledger_reader(db or cfg.db.url, cfg.session.timezone),
        ledger_interval_s=cfg.dashboard.ledger_interval_s,
    )  # fmt: skip


def dashboard(
    port: Annotated[int | None, typer.Option("--port", help="default: dashboard.port")] = None,
    db: DbOption = None,
    config: ConfigOption = None,
    redis: RedisOption = None,
    namespace: NamespaceOption = None,
) -> None:
    """Serve the live desk page (read-only unless the dashboard token is configured)."""
    import uvicorn

    from quantrail.ops.dashboard.app import create_app
    from quantrail.ops.dashboard.config import TokenError, action_token
    from quantrail.runtime.logs import setup_logging

    cfg = load_cli_config(config, redis, namespace)
    setup_logging(cfg.log.level, cfg.log.format)
    try:
        token = action_token(cfg.dashboard)
    except TokenError as exc:
        fail(f"invalid configuration: {exc}", 2)
    bus = _redis_bus(cfg)
    app = create_app(cfg, bus, _feed(cfg, bus, db), token, db)
    where = port if port is not None else cfg.dashboard.port
    access = "actions enabled with the token" if token else "read-only: no token configured"
    console.print(
        f"dashboard on http://{cfg.dashboard.host}:{where} (namespace '{cfg.namespace}', {access})",
        markup=False,
    )
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host=cfg.dashboard.host,
            port=where,
            log_level="warning",
            timeout_graceful_shutdown=2,
        )
    )
    server.run()


def top(
    db: DbOption = None,
    config: ConfigOption = None,
    redis: RedisOption = None,
    namespace: NamespaceOption = None,
) -> None:
    """The desk in the terminal: mode, kill switch, exposure, P&L, alerts, streams (Ctrl-C)."""
    from quantrail.ops.top import run_top

    cfg = load_cli_config(config, redis, namespace)

    async def work() -> None:
        bus = _redis_bus(cfg)
        try:
            await run_top(_feed(cfg, bus, db), cfg.namespace, console)
        finally:
            await bus.close()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(work())
