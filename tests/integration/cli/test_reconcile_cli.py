"""``quantrail reconcile ACCOUNT`` against the gateway simulator and the private redis-server."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kit.bus import new_namespace
from quantrail.cli import app
from quantrail.ibkr.ibsim import IbGatewaySimulator

runner = CliRunner(env={"COLUMNS": "200"})


@pytest.fixture
async def ibsim() -> AsyncIterator[IbGatewaySimulator]:
    simulator = await IbGatewaySimulator().start()
    yield simulator
    await simulator.stop()


def _config(tmp_path: Path, port: int) -> Path:
    path = tmp_path / "quantrail.yaml"
    path.write_text(
        "risk:\n  accounts:\n    - {name: HAMMER, equity: '1000000'}\n"
        f"ibkr:\n  port: {port}\n  accounts: {{HAMMER: DU0000001}}\n  connect_timeout_s: 5\n"
    )
    return path


async def _cli(*args: str) -> tuple[int, str]:
    # The command runs its own event loop: off the loop the simulator runs on.
    result = await asyncio.to_thread(runner.invoke, app, list(args))
    return result.exit_code, result.output


async def test_agreeing_books_exit_0(
    ibsim: IbGatewaySimulator, tmp_path: Path, redis_url: str
) -> None:
    config = _config(tmp_path, ibsim.port)
    code, out = await _cli("reconcile", "HAMMER", "-c", str(config), "--redis", redis_url,
                           "-n", new_namespace())  # fmt: skip
    assert code == 0, out
    assert "agree: 0 orders, 0 open at IB, 0 executions today" in out


async def test_an_order_placed_by_hand_and_its_position_are_differences(
    ibsim: IbGatewaySimulator, tmp_path: Path, redis_url: str
) -> None:
    manual = await ibsim.place_manual("DU0000001", "MSFT", "BUY", 300, Decimal("400.00"))
    await ibsim.fill(manual.request.order_id, 300, Decimal("399.90"))
    config = _config(tmp_path, ibsim.port)
    code, out = await _cli("reconcile", "HAMMER", "-c", str(config), "--redis", redis_url,
                           "-n", new_namespace())  # fmt: skip
    assert code == 1, out
    assert "external" in out and "position MSFT" in out and "+300" in out
    assert "DIFFER" in out


async def test_an_unknown_account_is_refused_with_exit_2(
    ibsim: IbGatewaySimulator, tmp_path: Path, redis_url: str
) -> None:
    config = _config(tmp_path, ibsim.port)
    code, out = await _cli("reconcile", "NOBODY", "-c", str(config), "--redis", redis_url)
    assert code == 2
    assert "unknown account 'NOBODY'" in out


def test_an_unreachable_gateway_is_one_line_on_a_narrow_terminal(
    tmp_path: Path, redis_url: str
) -> None:
    # A real process: ib_async's own logging and the terminal width are part of what a user
    # sees. Nothing listens on the port it is told.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    config = _config(tmp_path, closed_port)
    done = subprocess.run(
        [sys.executable, "-m", "quantrail.cli", "reconcile", "HAMMER", "-c", str(config),
         "--redis", redis_url, "-n", new_namespace()],
        capture_output=True, text=True, timeout=60, env={**os.environ, "COLUMNS": "60"},
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines() == [
        f"error: reconcile: cannot reach the IB gateway at 127.0.0.1:{closed_port}: "
        f"[Errno 111] Connect call failed ('127.0.0.1', {closed_port})"
    ]


def test_an_unreachable_redis_is_the_one_line_redis_error(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    done = subprocess.run(
        [sys.executable, "-m", "quantrail.cli", "reconcile", "HAMMER",
         "-c", str(_config(tmp_path, closed_port)), "--redis", f"redis://127.0.0.1:{closed_port}/0"],
        capture_output=True, text=True, timeout=60, env={**os.environ, "COLUMNS": "60"},
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    [line] = done.stderr.splitlines()
    assert line.startswith("error: cannot reach Redis: ") and str(closed_port) in line
