"""What the operator sees: stream tables, pretty events, dead letters."""

from __future__ import annotations

import functools
import json
from typing import Any

from rich.console import Console
from rich.table import Table

from quantrail.bus.bus import EventBus
from quantrail.bus.deadletter import DeadLetter
from quantrail.bus.transport import Entry, StreamInfo
from quantrail.events.errors import EventDecodeError
from quantrail.events.streams import DEADLETTER
from quantrail.session.phases import exchange_time


async def stream_infos(bus: EventBus) -> list[StreamInfo]:
    prefix = f"{bus.names.namespace}:" if bus.names.namespace else ""
    keys = await bus.transport.streams(prefix)
    return [await bus.transport.info(key) for key in keys]


def streams_table(bus: EventBus, infos: list[StreamInfo]) -> Table:
    table = Table(title=f"streams in namespace '{bus.names.namespace}'")
    for column in ("stream", "length", "groups", "consumers", "pending", "lag", "last id"):
        table.add_column(column, justify="left" if column == "stream" else "right")
    for info in infos:
        lags = [g.lag for g in info.groups if g.lag is not None]
        table.add_row(
            bus.names.logical(info.stream),
            str(info.length),
            ", ".join(g.name for g in info.groups) or "-",
            str(sum(len(g.consumers) for g in info.groups)),
            str(sum(g.pending for g in info.groups)),
            str(max(lags)) if lags else "-",
            info.last_id or "-",
        )
    return table


_ENVELOPE = frozenset({"kind", "event_id", "ts_event", "idempotency_key", "source",
                       "correlation_id", "causation_id", "schema_version", "account"})  # fmt: skip


def render_entry(
    console: Console,
    bus: EventBus,
    entry: Entry,
    *,
    timezone: str = "America/New_York",
    raw: bool = False,
) -> None:
    """One event on one line, never wrapped by us: its exchange time, kind, account and its own
    fields (``name=value``; ``*_ns`` times as exchange times); ``raw``: the event as JSON."""
    say = functools.partial(console.print, soft_wrap=True, highlight=False, markup=False)
    try:
        event = bus.codec.from_fields(entry.fields)
    except EventDecodeError as exc:
        say(f"{entry.entry_id} undecodable: {exc}")
        return
    if raw:
        say(bus.codec.encode(event).decode())
        return
    payload: dict[str, Any] = json.loads(bus.codec.encode(event))
    body = {k: v for k, v in payload.items() if k not in _ENVELOPE and v not in (None, "", {}, [])}
    fields = " ".join(
        f"{name}={_field_text(name, value, timezone)}" for name, value in body.items()
    )
    account = f" {event.account}" if event.account else ""
    say(f"{_clock(event.ts_event, timezone)} {event.kind}{account} {fields}".rstrip())


def _clock(ts_ns: int, timezone: str) -> str:
    """``09:31:02.500`` at the exchange (the day is the operator's context, not each line's)."""
    local = exchange_time(ts_ns, timezone)
    return f"{local:%H:%M:%S}.{ts_ns % 1_000_000_000 // 1_000_000:03d}"


def _field_text(name: str, value: Any, timezone: str) -> str:
    if name.endswith("_ns") and isinstance(value, int) and value > 0:
        return _clock(value, timezone)
    if isinstance(value, str):
        return value if value and " " not in value and "=" not in value else repr(value)
    return json.dumps(value, separators=(",", ":"))


def print_dead_letters(
    console: Console, letters: list[DeadLetter], held: tuple[int, int] | None = None
) -> None:
    """One line per dead letter, its id first and whole, then its error indented below.

    Not a table: a table squeezes its columns to the terminal and cuts the ids, and an id must
    be usable as shown (``dlq retry ID``). Lines are printed unwrapped (the terminal may wrap
    them, never inside the id, which comes first)."""
    count = f"; the stream holds {held[0]} dead letters, {held[1]:,} bytes" if held else ""
    say = functools.partial(console.print, soft_wrap=True, highlight=False, markup=False)
    say(f"dead letters (system.deadletter): {len(letters)} shown{count}")
    for letter in letters:
        say(
            f"{letter.dlq_id}  stream {letter.stream}  group {letter.group or '-'}  "
            f"kind {letter.kind or '-'}  deliveries {letter.deliveries}  bytes {_size(letter)}"
        )
        say(f"    {letter.error_type}: {letter.error}"[:240])


def _size(letter: DeadLetter) -> str:
    """The letter's size; a cut original also shows what it was (length, start of its hash)."""
    cut = ", ".join(
        f"{name.decode(errors='replace')} cut from {each.length:,} B, sha256 {each.sha256[:12]}"
        for name, each in letter.cut.items()
    )
    return f"{letter.size_bytes:,}" + (f" ({cut})" if cut else "")


class IncompleteDeadLetterError(ValueError):
    """A dead letter whose original was cut to the size limit: it cannot be replayed as is."""


async def retry_dead_letters(bus: EventBus, letters: list[DeadLetter]) -> list[str]:
    """Put each original entry back on its stream, then remove it from the dead letters."""
    new_ids: list[str] = []
    dlq_key = bus.names.key(DEADLETTER)
    incomplete = [letter.dlq_id for letter in letters if not letter.complete]
    if incomplete:
        raise IncompleteDeadLetterError(
            f"nothing retried: {len(incomplete)} of the chosen dead letters keep only part of"
            f" their original (bus.deadletter.max_original_bytes): {', '.join(incomplete)};"
            " leave them out or drop them"
        )
    for letter in letters:
        if not letter.original:
            continue
        new_ids.append(await bus.publish_raw(letter.stream, letter.original))
        await bus.transport.delete(dlq_key, [letter.dlq_id])
    return new_ids
