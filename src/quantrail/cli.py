"""The ``quantrail`` command. Each verb is thin: the work lives in the package's modules."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console

from quantrail.config import Config, ConfigError, load_config
from quantrail.events.streams import DEADLETTER

T = TypeVar("T")

app = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__)
dlq_app = typer.Typer(no_args_is_help=True, help="Dead letters: list, retry, drop.")
bench_app = typer.Typer(no_args_is_help=True, help="Benchmarks (figures as ratios to a baseline).")
app.add_typer(dlq_app, name="dlq")
app.add_typer(bench_app, name="bench")
console = Console()
err_console = Console(stderr=True)

ConfigOption = Annotated[
    Path | None, typer.Option("--config", "-c", help="quantrail.yaml (default: ./quantrail.yaml)")
]
RedisOption = Annotated[str | None, typer.Option("--redis", help="Redis URL (overrides config)")]
NamespaceOption = Annotated[
    str | None, typer.Option("--namespace", "-n", help="stream namespace (paper, live, ...)")
]


def _config(path: Path | None, redis: str | None = None, namespace: str | None = None) -> Config:
    """Load the config, or stop with the key named (exit 2)."""
    try:
        config = load_config(path)
    except ConfigError as exc:
        err_console.print(f"[red]invalid configuration:[/red] {exc}")
        raise typer.Exit(2) from None
    overrides: dict[str, Any] = {}
    if redis:
        overrides = {"redis": {"url": redis}, "bus": {"transport": "redis"}}
    if namespace is not None:
        overrides["namespace"] = namespace
    return _with(config, overrides) if overrides else config


def _with(config: Config, overrides: dict[str, Any]) -> Config:
    import msgspec

    from quantrail.config import config_from_mapping

    raw = msgspec.to_builtins(config)
    for key, value in overrides.items():
        if isinstance(value, dict):
            raw.setdefault(key, {}).update(value)
        else:
            raw[key] = value
    return config_from_mapping(raw, "command line")


def _run(coro: Awaitable[T]) -> T:
    return asyncio.run(coro)  # type: ignore[arg-type]


def _redis_bus(config: Config) -> Any:
    """Inspection verbs always read Redis: the memory bus lives only inside one process."""
    from quantrail.bus.bus import EventBus
    from quantrail.bus.redis import RedisTransport
    from quantrail.events.streams import StreamNames

    return EventBus(
        RedisTransport(config.redis.url, config.redis.socket_timeout_s),
        config=config.bus,
        names=StreamNames(config.namespace),
    )


async def _with_bus(config: Config, work: Callable[[Any], Awaitable[T]]) -> T:
    from quantrail.bus.transport import TransportError

    bus = _redis_bus(config)
    try:
        return await work(bus)
    except TransportError as exc:
        err_console.print(f"[red]cannot reach Redis:[/red] {exc}")
        raise typer.Exit(1) from None
    finally:
        await bus.close()


@app.command()
def streams(
    config: ConfigOption = None, redis: RedisOption = None, namespace: NamespaceOption = None
) -> None:
    """Each stream: length, groups, consumers, pending, lag."""
    from quantrail.ops.inspect import stream_infos, streams_table

    cfg = _config(config, redis, namespace)

    async def work(bus: Any) -> None:
        console.print(streams_table(bus, await stream_infos(bus)))

    _run(_with_bus(cfg, work))


@app.command()
def tail(
    stream: Annotated[str, typer.Argument(help="logical stream, e.g. trades.order")],
    from_start: Annotated[bool, typer.Option("--from-start", help="show history first")] = False,
    limit: Annotated[int, typer.Option(help="stop after N entries (0 = run until Ctrl-C)")] = 0,
    config: ConfigOption = None,
    redis: RedisOption = None,
    namespace: NamespaceOption = None,
) -> None:
    """Follow a stream live, pretty-printed."""
    from quantrail.ops.inspect import render_entry

    cfg = _config(config, redis, namespace)

    async def work(bus: Any) -> None:
        key = bus.names.key(stream)
        position = "0-0" if from_start else await bus.transport.last_id(key)
        shown = 0
        while limit == 0 or shown < limit:
            entries = await bus.transport.read({key: position}, 100, 1000)
            for entry in entries:
                render_entry(console, bus, entry)
                position = entry.entry_id
                shown += 1
                if limit and shown >= limit:
                    return

    with contextlib.suppress(KeyboardInterrupt):
        _run(_with_bus(cfg, work))


@app.command()
def publish(
    kind: Annotated[str, typer.Argument(help="event kind, e.g. system.alert.triggered")],
    payload: Annotated[str, typer.Option("--json", help="the event's fields as JSON")] = "{}",
    config: ConfigOption = None,
    redis: RedisOption = None,
    namespace: NamespaceOption = None,
) -> None:
    """Validate and publish one event (ts_event defaults to now, source to 'cli')."""
    import time

    from quantrail.events.codec import default_codec
    from quantrail.events.errors import EventDecodeError

    cfg = _config(config, redis, namespace)
    try:
        fields = json.loads(payload)
    except json.JSONDecodeError as exc:
        err_console.print(f"[red]--json is not valid JSON:[/red] {exc}")
        raise typer.Exit(2) from None
    if not isinstance(fields, dict):
        err_console.print("[red]--json must be a JSON object[/red]")
        raise typer.Exit(2)
    fields.setdefault("ts_event", time.time_ns())
    fields.setdefault("source", "cli")
    try:
        event = default_codec().build(kind, fields)
    except EventDecodeError as exc:
        err_console.print(f"[red]invalid event:[/red] {exc}")
        raise typer.Exit(2) from None

    async def work(bus: Any) -> str:
        entry_id: str = await bus.publish(event)
        return entry_id

    entry_id = _run(_with_bus(cfg, work))
    stream = event.kind.rsplit(".", 1)[0]
    console.print(f"published {kind} as {entry_id} on {cfg.namespace}:{stream}")


@app.command()
def schema(
    out: Annotated[Path, typer.Option(help="directory for the JSON Schemas")] = Path("schemas"),
) -> None:
    """Write a JSON Schema per event kind (and index.json)."""
    from quantrail.events.schema import write_schemas

    written = write_schemas(out)
    console.print(f"wrote {len(written)} files to {out}/")


@app.command()
def replay(
    stream: Annotated[str, typer.Argument(help="logical stream, e.g. trades.order")],
    since: Annotated[str | None, typer.Option(help="ISO time or entry id to start at")] = None,
    until: Annotated[str | None, typer.Option(help="ISO time or entry id to end at")] = None,
    speed: Annotated[str, typer.Option(help="1, 10, ... or max")] = "max",
    into: Annotated[
        str | None, typer.Option(help="republish into this namespace instead of printing")
    ] = None,
    config: ConfigOption = None,
    redis: RedisOption = None,
    namespace: NamespaceOption = None,
) -> None:
    """Read a stream between two times or ids, printing or republishing each event."""
    from quantrail.bus.replay import replay as replay_stream
    from quantrail.events.base import Event
    from quantrail.events.streams import StreamNames
    from quantrail.ops.inspect import render_entry

    cfg = _config(config, redis, namespace)
    factor = None if speed == "max" else _positive_float("--speed", speed)
    start, since_ns = _bound(since, "--since")
    end, until_ns = _bound(until, "--until")

    async def work(bus: Any) -> None:
        target = _redis_bus(_with(cfg, {"namespace": into})) if into else None

        async def handle(event: Event) -> None:
            if target is not None:
                await target.publish(event)
            else:
                from quantrail.bus.transport import Entry

                render_entry(console, bus, Entry(stream, "-", bus.codec.to_fields(event)))

        try:
            result = await replay_stream(
                bus, stream, handle, start=start or "-", end=end or "+",
                since_ns=since_ns, until_ns=until_ns, speed=factor,
            )  # fmt: skip
        finally:
            if target is not None:
                await target.close()
        where = f" into namespace {StreamNames(into).namespace}" if into else ""
        console.print(f"replayed {result.replayed} events{where}; undecodable {result.undecodable}")

    _run(_with_bus(cfg, work))


def _positive_float(option: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if value <= 0:
        err_console.print(f"[red]{option} must be a positive number or 'max', got {text!r}[/red]")
        raise typer.Exit(2)
    return value


def _bound(text: str | None, option: str) -> tuple[str | None, int | None]:
    """An entry id (``1700000000000-0``) or an ISO time with zone."""
    if text is None:
        return None, None
    if text[0].isdigit() and "-" in text and "T" not in text and ":" not in text:
        return text, None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        err_console.print(f"[red]{option}: not an entry id or ISO time: {text!r}[/red]")
        raise typer.Exit(2) from None
    if moment.tzinfo is None:
        err_console.print(f"[red]{option}: the time needs a zone (e.g. -05:00 or Z): {text!r}")
        raise typer.Exit(2)
    return None, int(moment.timestamp() * 1_000_000) * 1000


@dlq_app.command("list")
def dlq_list(
    count: Annotated[int, typer.Option(help="how many")] = 100,
    config: ConfigOption = None,
    redis: RedisOption = None,
    namespace: NamespaceOption = None,
) -> None:
    """Show dead letters with their error and delivery count."""
    from quantrail.ops.inspect import dead_letter_table

    cfg = _config(config, redis, namespace)

    async def work(bus: Any) -> None:
        console.print(dead_letter_table(await bus.dead_letters(count)))

    _run(_with_bus(cfg, work))


def _select(letters: list[Any], ids: list[str], all_: bool) -> list[Any]:
    if all_:
        return letters
    if not ids:
        err_console.print("[red]name dead-letter ids, or pass --all[/red]")
        raise typer.Exit(2)
    chosen = [letter for letter in letters if letter.dlq_id in ids]
    missing = set(ids) - {letter.dlq_id for letter in chosen}
    if missing:
        err_console.print(f"[red]no such dead letter: {', '.join(sorted(missing))}[/red]")
        raise typer.Exit(2)
    return chosen


async def _chosen_letters(bus: Any, ids: list[str] | None, all_: bool) -> list[Any]:
    """The dead letters a retry or drop names (every one with ``--all``)."""
    return _select(await bus.dead_letters(100_000), ids or [], all_)


@dlq_app.command("retry")
def dlq_retry(
    ids: Annotated[list[str] | None, typer.Argument(help="dead-letter ids")] = None,
    all_: Annotated[bool, typer.Option("--all", help="every dead letter")] = False,
    config: ConfigOption = None,
    redis: RedisOption = None,
    namespace: NamespaceOption = None,
) -> None:
    """Put dead letters back on their stream (groups that handled them skip them by key)."""
    from quantrail.ops.inspect import retry_dead_letters

    cfg = _config(config, redis, namespace)

    async def work(bus: Any) -> None:
        chosen = await _chosen_letters(bus, ids, all_)
        new_ids = await retry_dead_letters(bus, chosen)
        console.print(f"retried {len(new_ids)} dead letters")

    _run(_with_bus(cfg, work))


@dlq_app.command("drop")
def dlq_drop(
    ids: Annotated[list[str] | None, typer.Argument(help="dead-letter ids")] = None,
    all_: Annotated[bool, typer.Option("--all", help="every dead letter")] = False,
    yes: Annotated[bool, typer.Option("--yes", help="do not ask")] = False,
    config: ConfigOption = None,
    redis: RedisOption = None,
    namespace: NamespaceOption = None,
) -> None:
    """Delete dead letters for good (asks first unless --yes)."""
    cfg = _config(config, redis, namespace)

    async def work(bus: Any) -> None:
        chosen = await _chosen_letters(bus, ids, all_)
        if not yes and not typer.confirm(f"drop {len(chosen)} dead letters for good?"):
            raise typer.Exit(1)
        removed = await bus.transport.delete(
            bus.names.key(DEADLETTER), [letter.dlq_id for letter in chosen]
        )
        console.print(f"dropped {removed} dead letters")

    _run(_with_bus(cfg, work))


@bench_app.command("transport")
def bench_transport(
    quick: Annotated[bool, typer.Option(help="smaller sizes, shorter phases")] = False,
    json_path: Annotated[Path | None, typer.Option("--json", help="write the report here")] = None,
) -> None:
    """Measure the transport on a private redis-server (never yours)."""
    from quantrail.ops.bench_transport import BenchOptions, run_transport_bench

    report = run_transport_bench(BenchOptions(quick=quick, json_path=json_path))
    report.render(console)


@app.command("config")
def check_config(config: ConfigOption = None) -> None:
    """Validate the configuration and print it resolved."""
    import msgspec

    cfg = _config(config)
    console.print_json(msgspec.json.encode(cfg).decode())


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
        err_console.print(f"[red]ledger:[/red] {exc}", markup=True, highlight=False)
        raise typer.Exit(1) from None
    except ValueError as exc:  # bad input: a file, a value, an option
        err_console.print(f"[red]invalid input:[/red] {exc}", markup=True, highlight=False)
        raise typer.Exit(2) from None


def _marks(path: Path | None) -> Any:
    from quantrail.ledger.marks import read_marks_file

    return read_marks_file(path) if path is not None else None


def _known_account(config: Config, account: str) -> None:
    names = [a.name for a in config.risk.accounts]
    if names and account not in names:
        err_console.print(f"[red]account {account!r} is not in risk.accounts ({names})[/red]")
        raise typer.Exit(2)


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

    cfg = _config(config)
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

    cfg = _config(config)
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

    cfg = _config(config)
    with _ledger(cfg, db) as store:
        day = commands.parse_day(date, cfg.session.timezone, time.time_ns())
        report = build(store, account, day, dual, marks=_marks(marks),
                       timezone=cfg.session.timezone)  # fmt: skip
        text = commands.render(report, fmt)
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text)
        console.print(f"wrote {fmt} report for {account} {day} to {out}", markup=False)


def _register_run_verbs() -> None:
    from quantrail import cli_run

    scenario_app = typer.Typer(no_args_is_help=True, help="Scenario files for the risk kernel.")
    app.add_typer(scenario_app, name="scenario")
    scenario_app.command("run")(cli_run.scenario_run)
    app.command("demo")(cli_run.demo)
    app.command("up")(cli_run.up)
    app.command("service")(cli_run.service)


_register_run_verbs()


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
