"""The ``quantrail`` command: the verbs, registered here (the work lives in the packages)."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from quantrail import (
    cli_audit,
    cli_bench_venue,
    cli_bus,
    cli_dashboard,
    cli_errors,
    cli_killswitch,
    cli_ops,
    cli_scale,
    cli_trace,
)
from quantrail.cli_bench_backtest import bench_backtest
from quantrail.cli_errors import fail
from quantrail.cli_options import ConfigOption, console, load_cli_config
from quantrail.config import Config

USER_HELP = (
    "quantrail: trading and risk services on Redis Streams. Try `quantrail demo` for a simulated"
    " day; `quantrail COMMAND --help` describes each command."
)
app = typer.Typer(
    no_args_is_help=True, add_completion=False, help=USER_HELP, cls=cli_errors.QuantrailGroup,
    pretty_exceptions_show_locals=False,  # a traceback (--debug) must not print a password
)  # fmt: skip


@app.callback()
def _root(debug: cli_errors.DebugOption = False) -> None:
    """An error ends in one line (exit 2 for bad input); --debug shows the traceback."""


bench_app = typer.Typer(no_args_is_help=True, help="Benchmarks (figures as ratios to a baseline).")
app.add_typer(cli_bus.dlq_app, name="dlq")
app.add_typer(bench_app, name="bench")
bench_app.command("scale")(cli_scale.scale)
app.add_typer(cli_killswitch.killswitch_app, name="killswitch")
app.add_typer(cli_audit.audit_app, name="audit")
app.command("trace")(cli_trace.trace)
app.command("health")(cli_ops.health)
app.command("dashboard")(cli_dashboard.dashboard)
app.command("top")(cli_dashboard.top)

# The stream verbs live in cli_bus; registered here, around `schema`, in their --help order.
app.command()(cli_bus.streams)
app.command()(cli_bus.tail)
app.command()(cli_bus.publish)


@app.command()
def schema(
    out: Annotated[Path, typer.Option(help="directory to write the JSON Schemas into")],
) -> None:
    """Write a JSON Schema per event kind (and index.json)."""
    from quantrail.events.schema import write_schemas

    written = write_schemas(out)
    console.print(f"wrote {len(written)} files to {out}/")


app.command()(cli_bus.replay)


@bench_app.command("transport")
def bench_transport(
    quick: Annotated[bool, typer.Option(help="smaller sizes, shorter phases")] = False,
    json_path: Annotated[Path | None, typer.Option("--json", help="write the report here")] = None,
    rounds: Annotated[
        int | None, typer.Option(min=1, help="rounds of each comparison (default 9, quick 5)")
    ] = None,
) -> None:
    """Measure the transport on a private redis-server (never yours)."""
    from quantrail.ops.bench_transport import BenchOptions, run_transport_bench

    options = BenchOptions(quick=quick, json_path=json_path, rounds=rounds)
    report = run_transport_bench(options)
    report.render(console)


bench_app.command("venue")(cli_bench_venue.bench_venue)
bench_app.command("backtest")(bench_backtest)


@app.command("config")
def check_config(config: ConfigOption = None) -> None:
    """Validate the configuration (all that `up` checks, every error at once) and print it
    resolved."""
    import msgspec

    from quantrail.redact import redact

    cfg = load_cli_config(config, checked=True)
    console.print_json(redact(msgspec.json.encode(cfg).decode()))


# -- the ledger: BefDay snapshots, booking fill files, end-of-day reports ---------------------

snapshot_app = typer.Typer(no_args_is_help=True, help="BefDay snapshots: an account's baseline.")
ledger_app = typer.Typer(no_args_is_help=True, help="The ledger: book fills from files.")
report_app = typer.Typer(no_args_is_help=True, help="Reports from the ledger.")
app.add_typer(snapshot_app, name="snapshot")
app.add_typer(ledger_app, name="ledger")
app.add_typer(report_app, name="report")

DbOption = Annotated[
    str | None, typer.Option("--db", help="ledger database URL (default: db.url, QUANTRAIL_DB_URL)")
]
DateOption = Annotated[
    str | None, typer.Option("--date", help="the day, YYYY-MM-DD (default: today at the exchange)")
]
MarksOption = Annotated[
    Path | None, typer.Option("--marks", help="closing prices, CSV symbol,price")
]


@contextlib.contextmanager
def _ledger(config: Config, db: str | None) -> Any:
    """The ledger store, with the ledger's errors turned into a message and an exit code."""
    from quantrail.ledger.report import ReconciliationError
    from quantrail.ledger.sql import DatabaseUnavailableError
    from quantrail.ledger.store import LedgerStore, StoreError

    try:
        with LedgerStore.open(db or config.db.url) as store:
            yield store
    except (DatabaseUnavailableError, StoreError, ReconciliationError) as exc:
        fail(f"ledger: {exc}", 1)
    except ValueError as exc:  # bad input: a file, a value, an option
        fail(f"invalid input: {exc}", 2)


def _marks(path: Path | None) -> Any:
    from quantrail.ledger.marks import read_marks_file

    return read_marks_file(path) if path is not None else None


def _known_account(config: Config, account: str) -> None:
    names = [a.name for a in config.risk.accounts]
    if names and account not in names:
        fail(f"account {account!r} is not in risk.accounts ({names})", 2)


@snapshot_app.command("befday")
def snapshot_befday(
    account: Annotated[str, typer.Argument(help="the account, e.g. HAMMER")],
    date: DateOption = None,
    from_file: Annotated[
        Path | None, typer.Option("--from", help="positions CSV: symbol,qty,bucket,prior_close")
    ] = None,
    force: Annotated[bool, typer.Option(help="replace an existing snapshot (audited)")] = False,
    marks: MarksOption = None,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Freeze ACCOUNT's baseline for the day (a second run reports the existing one)."""
    import time

    from quantrail.ledger import commands

    cfg = load_cli_config(config)
    _known_account(cfg, account)
    baseline = {a.name: a.baseline for a in cfg.risk.accounts}.get(account)
    with _ledger(cfg, db) as store:
        now = time.time_ns()
        day = commands.parse_day(date, cfg.session.timezone, now)
        result = commands.take_befday(
            store, account, day, from_file=from_file, config_file=baseline, force=force,
            now_ns=now, marks=_marks(marks),
        )  # fmt: skip
    typer.echo(result.describe())


@ledger_app.command("book")
def ledger_book(
    file: Annotated[Path, typer.Argument(help="fills CSV: fill_id,account,ts,symbol,side,...")],
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Book the fills of FILE through the live fills' path (a fill booked before is skipped)."""
    from quantrail.ledger import commands

    cfg = load_cli_config(config)
    baselines = {a.name: a.baseline for a in cfg.risk.accounts}
    with _ledger(cfg, db) as store:
        booked = commands.book_file(
            store, file, timezone=cfg.session.timezone, baseline_files=baselines
        )
    typer.echo(booked.describe())


@report_app.command("eod")
def report_eod(
    account: Annotated[str, typer.Argument(help="the account, e.g. HAMMER")],
    date: DateOption = None,
    fmt: Annotated[str, typer.Option("--format", help="json, csv or html")] = "json",
    dual: Annotated[bool, typer.Option(help="baseline and intraday side by side")] = False,
    out: Annotated[Path | None, typer.Option(help="write here instead of stdout")] = None,
    marks: MarksOption = None,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """ACCOUNT's end-of-day report: P&L, fills by class, positions, exposure, mode changes."""
    import time

    from quantrail.ledger import commands
    from quantrail.ledger.report import report_eod as build
    from quantrail.risk.rules import load_risk_rules

    cfg = load_cli_config(config)
    with _ledger(cfg, db) as store:
        day = commands.parse_day(date, cfg.session.timezone, time.time_ns())
        limits = commands.exposure_limits(load_risk_rules(cfg.risk.rules))
        report = build(store, account, day, dual, marks=_marks(marks),
                       timezone=cfg.session.timezone, limits=limits)  # fmt: skip
        text = commands.render(report, fmt)
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text)
        console.print(f"wrote {fmt} report for {account} {day} to {out}", markup=False)


def _register_run_verbs() -> None:
    from quantrail import cli_backtest, cli_ibkr, cli_run

    scenario_app = typer.Typer(no_args_is_help=True, help="Scenario files for the risk kernel.")
    app.add_typer(scenario_app, name="scenario")
    scenario_app.command("run")(cli_run.scenario_run)
    app.command("demo")(cli_run.demo)
    app.command("up")(cli_run.up)
    app.command("service")(cli_run.service)
    app.command("ibsim")(cli_ibkr.ibsim)
    app.command("reconcile")(cli_ibkr.reconcile)
    app.command("backtest")(cli_backtest.backtest)


_register_run_verbs()


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
