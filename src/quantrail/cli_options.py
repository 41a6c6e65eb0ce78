"""What the ``quantrail`` verbs share: the consoles, the common options, loading the config."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from quantrail.config import Config, ConfigError, load_config

console = Console()
err_console = Console(stderr=True)

ConfigOption = Annotated[
    Path | None, typer.Option("--config", "-c", help="quantrail.yaml (default: ./quantrail.yaml)")
]
RedisOption = Annotated[str | None, typer.Option("--redis", help="Redis URL (overrides config)")]
NamespaceOption = Annotated[
    str | None, typer.Option("--namespace", "-n", help="stream namespace (paper, live, ...)")
]


def load_cli_config(
    path: Path | None, redis: str | None = None, namespace: str | None = None
) -> Config:
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
    return with_overrides(config, overrides) if overrides else config


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
