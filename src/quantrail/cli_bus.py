"""Verbs that inspect and feed the event streams: streams, tail, publish, replay and ``dlq``.

They always read Redis (the memory bus lives only inside one process). ``quantrail.cli``
registers the top-level verbs in the order ``quantrail --help`` lists them and adds ``dlq_app``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

import typer

from quantrail.cli_errors import fail
from quantrail.cli_options import (
    ConfigOption,
    NamespaceOption,
    RedisOption,
    SinceOption,
    UntilOption,
    console,
    event_time_window,
    load_cli_config,
    with_overrides,
)
from quantrail.config import Config
from quantrail.events.streams import DEADLETTER

T = TypeVar("T")

dlq_app = typer.Typer(no_args_is_help=True, help="Dead letters: list, retry, drop.")

JsonOutputOption = Annotated[
    bool, typer.Option("--json", help="print each event as raw JSON (one line) instead")
]
DeadLetterIds = Annotated[list[str] | None, typer.Argument(help="dead-letter ids")]
AllOption = Annotated[bool, typer.Option("--all", help="every dead letter")]
DLQ_SCAN_LIMIT = 100_000
"""How many dead letters a time-filtered ``dlq list`` (and retry/drop) reads at most."""


def _run(coro: Awaitable[T]) -> T:
    return asyncio.run(coro)  # type: ignore[arg-type]


def _redis_bus(config: Config) -> Any:
    """Inspection verbs always read Redis: the memory bus lives only inside one process."""
    from quantrail.bus.bus import EventBus
    from quantrail.bus.redis import RedisTransport
    from quantrail.events.streams import StreamNames

    return EventBus(
        RedisTransport(config.redis),
        config=config.bus,
        names=StreamNames(config.namespace),
    )


async def _with_bus(config: Config, work: Callable[[Any], Awaitable[T]]) -> T:
    from quantrail.bus.transport import TransportError

    bus = _redis_bus(config)
    try:
        return await work(bus)
    except TransportError as exc:
        fail(f"cannot reach Redis: {exc}", 1)
    finally:
        await bus.close()


def streams(
    config: ConfigOption = None, redis: RedisOption = None, namespace: NamespaceOption = None
) -> None:
    """Each stream: length, groups, consumers, pending, lag."""
    from quantrail.ops.inspect import stream_infos, streams_table

    cfg = load_cli_config(config, redis, namespace)

    async def work(bus: Any) -> None:
        console.print(streams_table(bus, await stream_infos(bus)))

    _run(_with_bus(cfg, work))


def tail(
    stream: Annotated[str, typer.Argument(help="logical stream, e.g. trades.order")],
    from_start: Annotated[bool, typer.Option("--from-start", help="show history first")] = False,
    limit: Annotated[int, typer.Option(help="stop after N entries (0 = run until Ctrl-C)")] = 0,
    raw: JsonOutputOption = False,
    config: ConfigOption = None,
    redis: RedisOption = None,
    namespace: NamespaceOption = None,
) -> None:
    """Follow a stream live: one line per event (exchange time, kind, its fields)."""
    from quantrail.ops.inspect import render_entry

    cfg = load_cli_config(config, redis, namespace)

    async def work(bus: Any) -> None:
        from quantrail.bus.cursor import ShardedCursor

        # Every shard of a sharded stream, each from its own position (bus.shards).
        cursor = (
            ShardedCursor(bus, stream) if from_start else await ShardedCursor.at_end(bus, stream)
        )
        shown = 0
        while limit == 0 or shown < limit:
            for entry in await cursor.wait_new(100, 1000):
                render_entry(console, bus, entry, timezone=cfg.session.timezone, raw=raw)
                shown += 1
                if limit and shown >= limit:
                    return

    with contextlib.suppress(KeyboardInterrupt):
        _run(_with_bus(cfg, work))


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

    cfg = load_cli_config(config, redis, namespace)
    try:
        fields = json.loads(payload)
    except json.JSONDecodeError as exc:
        fail(f"--json is not valid JSON: {exc}", 2)
    if not isinstance(fields, dict):
        fail("--json must be a JSON object", 2)
    fields.setdefault("ts_event", time.time_ns())
    fields.setdefault("source", "cli")
    try:
        event = default_codec().build(kind, fields)
    except EventDecodeError as exc:
        fail(f"invalid event: {exc}", 2)

    async def work(bus: Any) -> str:
        entry_id: str = await bus.publish(event)
        return entry_id

    entry_id = _run(_with_bus(cfg, work))
    stream = event.kind.rsplit(".", 1)[0]
    console.print(f"published {kind} as {entry_id} on {cfg.namespace}:{stream}")


FromIdOption = Annotated[
    str | None,
    typer.Option("--from-id", help="first entry id (when Redis stored it), e.g. 1700000000000-0"),
]
ToIdOption = Annotated[
    str | None, typer.Option("--to-id", help="last entry id (inclusive), e.g. 1700000000000-5")
]


def replay(
    stream: Annotated[str, typer.Argument(help="logical stream, e.g. trades.order")],
    since: SinceOption = None,
    until: UntilOption = None,
    from_id: FromIdOption = None,
    to_id: ToIdOption = None,
    speed: Annotated[str, typer.Option(help="1, 10, ... or max")] = "max",
    into: Annotated[
        str | None, typer.Option(help="republish into this namespace instead of printing")
    ] = None,
    raw: JsonOutputOption = False,
    config: ConfigOption = None,
    redis: RedisOption = None,
    namespace: NamespaceOption = None,
) -> None:
    """Read a stream in order, printing or republishing each event.

    --since/--until: by when the event happened (its ts_event; exchange time for market data).

    --from-id/--to-id: by where the entry sits in the stream (when Redis stored it).
    """
    from quantrail.bus.replay import replay as replay_stream
    from quantrail.events.base import Event
    from quantrail.events.streams import StreamNames
    from quantrail.ops.inspect import render_entry

    cfg = load_cli_config(config, redis, namespace)
    factor = None if speed == "max" else _positive_float("--speed", speed)
    window = event_time_window(since, until)
    start, end = _entry_id(from_id, "--from-id", "-"), _entry_id(to_id, "--to-id", "+")

    async def work(bus: Any) -> None:
        target = _redis_bus(with_overrides(cfg, {"namespace": into})) if into else None

        async def handle(event: Event) -> None:
            if target is not None:
                await target.publish(event)
            else:
                from quantrail.bus.transport import Entry

                fields = bus.codec.to_fields(event)
                render_entry(console, bus, Entry(stream, "-", fields),
                             timezone=cfg.session.timezone, raw=raw)  # fmt: skip

        try:
            result = await replay_stream(
                bus, stream, handle, start=start, end=end,
                since_ns=window.since_ns, until_ns=window.until_ns, speed=factor,
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
        fail(f"{option} must be a positive number or 'max', got {text!r}", 2)
    return value


def _entry_id(text: str | None, option: str, default: str) -> str:
    """A stream entry id (``1700000000000-0``, or bare milliseconds); exit 2 when it is not."""
    from quantrail.bus.ids import parse_id

    if text is None:
        return default
    try:
        parse_id(text)
    except ValueError as exc:
        fail(f"{option}: {exc}", 2)
    return text


@dlq_app.command("list")
def dlq_list(
    count: Annotated[int, typer.Option(help="how many")] = 100,
    since: SinceOption = None,
    until: UntilOption = None,
    config: ConfigOption = None,
    redis: RedisOption = None,
    namespace: NamespaceOption = None,
) -> None:
    """Show dead letters with their error, delivery count and size, oldest first, and the
    bytes the stream holds.

    --since/--until: by when the failed event happened (its ts_event), not when it failed.
    With a time bound, a dead letter whose original has no readable ts_event is left out.
    """
    from quantrail.ops.inspect import print_dead_letters

    cfg = load_cli_config(config, redis, namespace)
    window = event_time_window(since, until)

    async def work(bus: Any) -> None:
        letters = await bus.dead_letters(count if window.is_open else DLQ_SCAN_LIMIT)
        if not window.is_open:
            letters = [x for x in letters if window.contains_fields(x.original)][:count]
        print_dead_letters(console, letters, await bus.dead_letter_bytes())

    _run(_with_bus(cfg, work))


def _select(letters: list[Any], ids: list[str], all_: bool) -> list[Any]:
    if all_:
        return letters
    if not ids:
        fail("name dead-letter ids, or pass --all", 2)
    chosen = [letter for letter in letters if letter.dlq_id in ids]
    missing = set(ids) - {letter.dlq_id for letter in chosen}
    if missing:
        fail(f"no such dead letter: {', '.join(sorted(missing))}", 2)
    return chosen


def _on_chosen_letters(
    cfg: Config,
    ids: list[str] | None,
    all_: bool,
    act: Callable[[Any, list[Any]], Awaitable[None]],
) -> None:
    """``act(bus, letters)`` on the dead letters a retry or drop names (every one with --all)."""

    async def work(bus: Any) -> None:
        await act(bus, _select(await bus.dead_letters(DLQ_SCAN_LIMIT), ids or [], all_))

    _run(_with_bus(cfg, work))


@dlq_app.command("retry")
def dlq_retry(
    ids: DeadLetterIds = None,
    all_: AllOption = False,
    config: ConfigOption = None,
    redis: RedisOption = None,
    namespace: NamespaceOption = None,
) -> None:
    """Put dead letters back on their stream (groups that handled them skip them by key)."""
    from quantrail.ops.inspect import retry_dead_letters

    async def retry(bus: Any, chosen: list[Any]) -> None:
        try:
            new_ids = await retry_dead_letters(bus, chosen)
        except ValueError as exc:
            fail(f"{exc}", 2)
        console.print(f"retried {len(new_ids)} dead letters")

    _on_chosen_letters(load_cli_config(config, redis, namespace), ids, all_, retry)


@dlq_app.command("drop")
def dlq_drop(
    ids: DeadLetterIds = None,
    all_: AllOption = False,
    yes: Annotated[bool, typer.Option("--yes", help="do not ask")] = False,
    config: ConfigOption = None,
    redis: RedisOption = None,
    namespace: NamespaceOption = None,
) -> None:
    """Delete dead letters for good (asks first unless --yes)."""

    async def drop(bus: Any, chosen: list[Any]) -> None:
        if not yes and not typer.confirm(f"drop {len(chosen)} dead letters for good?"):
            raise typer.Exit(1)
        removed = await bus.transport.delete(
            bus.names.key(DEADLETTER), [letter.dlq_id for letter in chosen]
        )
        console.print(f"dropped {removed} dead letters")

    _on_chosen_letters(load_cli_config(config, redis, namespace), ids, all_, drop)
