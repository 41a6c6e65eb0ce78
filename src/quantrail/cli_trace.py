"""``quantrail trace ID``: a trade's chain, from any id in it, read from the Redis streams."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from quantrail.cli_bus import _run, _with_bus
from quantrail.cli_errors import fail
from quantrail.cli_options import (
    ConfigOption,
    NamespaceOption,
    RedisOption,
    load_cli_config,
)


def trace(
    wanted: Annotated[str, typer.Argument(metavar="ID", help="a signal, order, fill... id")],
    config: ConfigOption = None,
    redis: RedisOption = None,
    namespace: NamespaceOption = None,
) -> None:
    """Signal -> evaluation -> request -> orders -> fills -> position -> exit, from any id."""
    from quantrail.audit.trace import TRACE_STREAMS, chain_of, find_correlation, render_chain
    from quantrail.events.errors import EventDecodeError

    cfg = load_cli_config(config, redis, namespace)

    async def work(bus: Any) -> list[Any]:
        events: list[Any] = []
        for stream in TRACE_STREAMS:
            for entry in await bus.iter_range(stream):
                try:
                    events.append(bus.codec.from_fields(entry.fields))
                except EventDecodeError:
                    continue  # an undecodable entry cannot be part of a chain we can show
        return events

    events = _run(_with_bus(cfg, work))
    correlation = find_correlation(events, wanted)
    if correlation is None:
        fail(f"trace: no event carries the id {wanted!r}", 2)
    chain = chain_of(events, correlation)
    typer.echo(f"chain {correlation} ({len(chain)} events, {cfg.session.timezone})")
    for line in render_chain(chain, cfg.session.timezone):
        typer.echo(line)
