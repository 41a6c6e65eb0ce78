"""``quantrail ibsim``: run the IB Gateway simulator for a dry run of the IB venue."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from decimal import Decimal, InvalidOperation
from typing import Annotated

import typer

from quantrail.cli_errors import fail
from quantrail.cli_options import (
    ConfigOption,
    NamespaceOption,
    RedisOption,
    console,
    load_cli_config,
)
from quantrail.ibkr.ibsim import Faults
from quantrail.ibkr.reconcile_report import ReconcileReport

FLAG_FAULTS = ("exec-before-status", "repeat-exec-id", "hold-fills", "silent")
FAULT_KEYS = ("drop-after", "reject", "correct-price", *FLAG_FAULTS)


def ibsim(
    port: Annotated[
        int, typer.Option(help="port to listen on (TWS paper: 7497, Gateway: 4002)")
    ] = 4002,
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    account: Annotated[list[str] | None, typer.Option(help="managed account (repeatable)")] = None,
    fault: Annotated[
        list[str] | None,
        typer.Option(
            help=f"scripted fault (repeatable): {', '.join(FAULT_KEYS)}; e.g. drop-after=20"
        ),
    ] = None,
) -> None:
    """Run a small IB Gateway that speaks the TWS API (for `quantrail up` dry runs and tests).

    It quotes any stock it is asked for from a synthetic market and fills market orders at once.
    """
    from quantrail.ibkr.ibsim import IbGatewaySimulator
    from quantrail.ibkr.sim_book import SimBook

    faults = _faults(fault or [])
    book = SimBook(accounts=account or ["DU0000001"])

    async def serve() -> None:
        simulator = await IbGatewaySimulator(book, faults, host).start(port)
        console.print(
            f"ibsim: listening on {host}:{simulator.port} (accounts {', '.join(book.accounts)})"
        )
        try:
            await asyncio.Event().wait()
        finally:
            await simulator.stop()

    with contextlib.suppress(KeyboardInterrupt):
        try:
            asyncio.run(serve())
        except OSError as exc:
            fail(f"ibsim: cannot listen on {host}:{port}: {exc.strerror}", 2)


def _price(text: str) -> Decimal:
    try:
        price = Decimal(text)
    except InvalidOperation:
        raise ValueError(text) from None
    if not price.is_finite() or price <= 0:
        raise ValueError(text)
    return price


def _faults(specs: list[str]) -> Faults:
    faults = Faults()
    for spec in specs:
        key, _, value = spec.partition("=")
        try:
            if key == "drop-after":
                faults.drop_after_messages = int(value)
            elif key == "reject":
                faults.reject_code = int(value)
            elif key == "correct-price":
                faults.correct_price = _price(value)
            elif key in FLAG_FAULTS and not value:
                setattr(faults, key.replace("-", "_"), True)
            else:
                raise ValueError
        except ValueError:
            fail(f"--fault: unknown or malformed {spec!r}; known: {', '.join(FAULT_KEYS)}", 2)
    return faults


def reconcile(
    account: Annotated[str, typer.Argument(help="our account (mapped by ibkr.accounts)")],
    config: ConfigOption = None,
    redis: RedisOption = None,
    namespace: NamespaceOption = None,
) -> None:
    """Compare our orders, fills and positions with what IB reports (reads only).

    Exit 0 when they agree, 1 when they differ (each difference listed), 2 on bad input.
    """
    from quantrail.cli_bus import _redis_bus
    from quantrail.ibkr.reconcile_report import build_report

    cfg = load_cli_config(config, redis, namespace)
    if account not in {a.name for a in cfg.risk.accounts} and account not in cfg.ibkr.accounts:
        fail(f"reconcile: unknown account {account!r} (not in risk.accounts or ibkr.accounts)", 2)

    async def run() -> ReconcileReport:
        bus = _redis_bus(cfg)  # the registry lives in Redis
        try:
            return await build_report(cfg, bus, account)
        finally:
            await bus.close()

    # ib_async logs a refused connection in two lines of its own; the one line below says it.
    logging.getLogger("ib_async.client").setLevel(logging.CRITICAL)
    try:
        report = asyncio.run(run())
    except (ConnectionError, OSError, TimeoutError) as exc:
        where = f"{cfg.ibkr.host}:{cfg.ibkr.port}"
        fail(f"reconcile: cannot reach the IB gateway at {where}: {exc}", 2)
    render_report(report)
    raise typer.Exit(0 if report.result.clean else 1)


def render_report(report: ReconcileReport) -> None:
    from rich.table import Table

    result = report.result
    console.print(f"reconcile {report.account} (IB {report.ib_account})")
    table = Table("what", "ours", "IB", "difference")
    for order in report.ours:
        if order.order_id in result.gone:
            table.add_row(
                f"order {order.order_id}", order.status.value, "not open", "closed on our side"
            )
        elif order.order_id in result.unsent:
            table.add_row(
                f"order {order.order_id}", order.status.value, "unknown", "never reached IB"
            )
    for execution in result.fills:
        table.add_row(
            f"fill {execution.exec_id}",
            "missing",
            f"{execution.side} {execution.shares} {execution.symbol} @ {execution.price}",
            "to book",
        )
    for external in result.external_orders:
        table.add_row(
            f"IB order {external.ib_order_id}",
            "none",
            f"{external.action} {external.qty} {external.symbol}",
            "external (placed by hand?)",
        )
    for execution in result.external_fills:
        table.add_row(
            f"IB fill {execution.exec_id}",
            "none",
            f"{execution.side} {execution.shares} {execution.symbol}",
            "external",
        )
    for _account, symbol, theirs, ours in result.position_mismatches:
        table.add_row(f"position {symbol}", str(ours), str(theirs), f"{theirs - ours:+d}")
    if table.row_count:
        console.print(table)
    counts = (
        f"{len(report.ours)} orders, {len(report.ib_open)} open at IB, "
        f"{len(report.ib_executions)} executions today"
    )
    console.print(("agree: " if result.clean else "DIFFER: ") + counts, markup=False)
