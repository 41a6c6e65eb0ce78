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


def render_entry(console: Console, bus: EventBus, entry: Entry) -> None:
    try:
        event = bus.codec.from_fields(entry.fields)
    except EventDecodeError as exc:
        console.print(f"[red]{entry.entry_id} undecodable: {exc}[/red]")
        return
    payload: dict[str, Any] = json.loads(bus.codec.encode(event))
    envelope = {"kind", "event_id", "ts_event", "idempotency_key", "source", "correlation_id",
                "causation_id", "schema_version", "account"}  # fmt: skip
    body = {k: v for k, v in payload.items() if k not in envelope and v not in (None, "", {}, [])}
    account = f" [cyan]{event.account}[/cyan]" if event.account else ""
    console.print(
        f"[dim]{entry.entry_id}[/dim] [bold]{event.kind}[/bold]{account} "
        f"{json.dumps(body, separators=(',', ':'))}",
        highlight=False,
    )


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
