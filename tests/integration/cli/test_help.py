"""``--help`` is written for users: no ``<bool>`` on flags, every option described, no text
meant for developers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from quantrail.cli import app

DEVELOPER_TEXT = ("Each verb is thin", "separate terminals", "seeds'", "``")


def command_paths(
    command: Any, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], Any]]:
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        yield from command_paths(sub, (*path, name))


ROOT = typer.main.get_command(app)
PATHS = list(command_paths(ROOT))


@pytest.mark.parametrize(
    ("path", "command"), PATHS, ids=[" ".join(p) or "quantrail" for p, _ in PATHS]
)
def test_help_is_for_users(path: tuple[str, ...], command: Any) -> None:
    result = CliRunner(env={"COLUMNS": "200"}).invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "<bool>" not in result.output
    for text in DEVELOPER_TEXT:
        assert text not in result.output, (text, result.output)
    for param in command.params:
        if getattr(param, "param_type_name", "") == "option":
            assert param.help, f"{' '.join(path)}: {param.opts} has no description"
