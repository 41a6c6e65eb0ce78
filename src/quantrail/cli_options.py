"""What the ``quantrail`` verbs share: the consoles, the common options, loading the config."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console

from quantrail.cli_errors import fail, say_error
from quantrail.config import DEFAULT_CONFIG_FILE, Config, ConfigError, load_config

if TYPE_CHECKING:
    from quantrail.bus.replay import TimeWindow

console = Console()
# Errors are one line each, however narrow the terminal: never wrapped into several.
err_console = Console(stderr=True, soft_wrap=True)

ConfigOption = Annotated[
    Path | None, typer.Option("--config", "-c", help="quantrail.yaml (default: ./quantrail.yaml)")
]
RedisOption = Annotated[str | None, typer.Option("--redis", help="Redis URL (overrides config)")]
NamespaceOption = Annotated[
    str | None, typer.Option("--namespace", "-n", help="stream namespace (paper, live, ...)")
]


def load_cli_config(
    path: Path | None,
    redis: str | None = None,
    namespace: str | None = None,
    *,
    checked: bool = False,
) -> Config:
    """Load the config, or stop with the key named (exit 2). ``checked``: also everything
    ``up`` would refuse (``config_check``), every problem listed at once."""
    try:
        config = load_config(path)
    except ConfigError as exc:
        stop_on_config_errors(exc.errors)
    overrides: dict[str, Any] = {}
    if redis:
        overrides = {"redis": {"url": redis}, "bus": {"transport": "redis"}}
    if namespace is not None:
        overrides["namespace"] = namespace
    config = with_overrides(config, overrides) if overrides else config
    if checked:
        from quantrail.config_check import check_config

        default = Path(DEFAULT_CONFIG_FILE)
        problems = check_config(config, str(path or (default if default.exists() else "")))
        if problems:
            stop_on_config_errors(problems)
    return config


def stop_on_config_errors(errors: list[Any]) -> NoReturn:
    """Print each problem on a line of its own (never wrapped mid-word) and exit 2."""
    for error in errors:
        say_error(f"invalid configuration: {error}")
    raise typer.Exit(2)


def with_overrides(config: Config, overrides: dict[str, Any]) -> Config:
    """``config`` with some keys replaced (one level of nesting), validated again."""
    import msgspec

    from quantrail.config import config_from_mapping

    raw = msgspec.to_builtins(config)
    for key, value in overrides.items():
        if isinstance(value, dict):
            raw.setdefault(key, {}).update(value)
        else:
            raw[key] = value
    return config_from_mapping(raw, "command line")


SinceOption = Annotated[
    str | None,
    typer.Option(
        "--since",
        help="event time (the event's ts_event), from (inclusive): ISO-8601 with a zone, "
        "e.g. 2026-11-20T09:30:00-05:00, or int ns UTC",
    ),
]
UntilOption = Annotated[
    str | None,
    typer.Option(
        "--until", help="event time (the event's ts_event), up to (exclusive): like --since"
    ),
]


def event_time_window(since: str | None, until: str | None) -> TimeWindow:
    """``--since``/``--until`` as a ``TimeWindow`` in event time; a bad value stops (exit 2)
    with the option and the value named."""
    from quantrail.bus.replay import TimeWindow

    try:
        since_ns, until_ns = parse_event_time(since, "--since"), parse_event_time(until, "--until")
        if since_ns is not None and until_ns is not None and until_ns <= since_ns:
            raise ValueError(f"--until: must be after --since ({since}), got {until!r}")
        return TimeWindow(since_ns, until_ns)
    except ValueError as exc:
        fail(f"{exc}", 2)


def parse_event_time(text: str | None, option: str) -> int | None:
    """ISO-8601 with a zone (up to 9 fractional digits, exact) or int ns UTC; None stays None.

    An entry id (``1700000000000-0``) is refused with a pointer to ``--from-id``/``--to-id``:
    entry ids say when Redis stored an entry, not when the event happened."""
    from quantrail.marketdata.replay import parse_ts

    if text is None:
        return None
    text = text.strip()
    if re.fullmatch(r"\d+-\d+", text):
        raise ValueError(
            f"{option}: {text!r} is a stream entry id; --since/--until take event times "
            "(use --from-id/--to-id for entry ids)"
        )
    try:
        return parse_ts(text)
    except ValueError as exc:
        reason = "the time needs a zone (e.g. -05:00 or Z)" if "no zone" in str(exc) else exc
        raise ValueError(f"{option}: {reason}: {text!r}") from None
