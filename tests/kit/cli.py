"""The ``quantrail`` command from async tests (CliRunner, in process, in a thread)."""

from __future__ import annotations

import asyncio

from typer.testing import CliRunner, Result

from quantrail.cli import app

runner = CliRunner(env={"COLUMNS": "200"})


async def run_cli(args: list[str]) -> Result:
    """The command in a thread: its ``asyncio.run`` cannot run inside the test's event loop."""
    return await asyncio.to_thread(runner.invoke, app, args)
