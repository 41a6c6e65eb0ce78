"""Builders for the desk view, the dashboard and ``quantrail top``: a day's story of events,
publishing from sync tests, and the dashboard as a real process on a free port."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Coroutine, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import quantrail
from kit.bus import make_bus
from kit.event_base import ACCOUNT, T0
from kit.market_events import session_clock
from kit.order_events import order_working
from kit.position_events import exposure_snapshot, position_updated
from kit.risk_events import risk_daily_status, risk_mode_changed
from kit.system_events import alert, heartbeat
from quantrail.events.base import Event
from quantrail.vocab import Mode, Phase

SECOND = 1_000_000_000
TOKEN = "s3cret-desk-token"
T = TypeVar("T")
SRC = str(Path(quantrail.__file__).resolve().parents[1])


def desk_story(account: str = ACCOUNT) -> list[Event]:
    """ACC1 at the MID phase: NORMAL, exposure rising 100 -> 110 %, one working order, one
    position, a daily status, a WARNING alert and a heartbeat."""
    return [
        session_clock(phase=Phase.MID),
        risk_mode_changed(
            mode=Mode.NORMAL, previous_mode=Mode.NORMAL, reason="all limits met", account=account
        ),
        exposure_snapshot(account=account, ts_event=T0),
        exposure_snapshot(
            account=account,
            ts_event=T0 + 15 * SECOND,
            gross_exposure_pct=110.0,
            long_gross_pct=88.0,
            short_gross_pct=22.0,
            potential_gross_pct=118.0,
        ),
        order_working(account=account, order_id="ord-w1", qty=300),
        position_updated(qty=400, account=account, position_id="pos-acme"),
        risk_daily_status(account=account),
        alert(account=account, message="LT bucket near its max"),
        heartbeat("execution"),
    ]


def run_apart(work: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """``asyncio.run(work())`` in a thread of its own: Playwright's sync API keeps an event loop
    running in the test's thread, where ``asyncio.run`` is refused."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, work()).result()


def publish(url: str, namespace: str, events: Sequence[Event]) -> None:
    """Publish from a sync test (a Playwright or pexpect one): a bus of its own, then closed."""

    async def work() -> None:
        bus = make_bus("redis", url, namespace)
        try:
            await bus.publish_batch(list(events))
        finally:
            await bus.close()

    run_apart(work)


def read_events(url: str, namespace: str, stream: str) -> list[Any]:
    async def work() -> list[Any]:
        bus = make_bus("redis", url, namespace)
        try:
            return await bus.read_events(stream)
        finally:
            await bus.close()

    return run_apart(work)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def desk_config(tmp: Path, db_url: str, port: int, accounts: Sequence[str] = (ACCOUNT,)) -> Path:
    path = tmp / "quantrail.yaml"
    config = {
        "db": {"url": db_url},
        "risk": {"accounts": [{"name": name, "equity": "1000000"} for name in accounts]},
        "dashboard": {"port": port, "ledger_interval_s": 1.0, "streams_interval_s": 0.5},
    }
    path.write_text(json.dumps(config))
    return path


def cli_env(**extra: str) -> dict[str, str]:
    """The environment for a ``quantrail`` child process: this checkout's source first."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUANTRAIL_")}
    env["PYTHONPATH"] = os.pathsep.join([SRC, env.get("PYTHONPATH", "")])
    env["COLUMNS"], env["LINES"] = "160", "60"
    return env | extra


def start_dashboard(
    config: Path, url: str, namespace: str, token: str | None
) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "quantrail.cli", "dashboard", "--config", str(config),
               "--redis", url, "--namespace", namespace]  # fmt: skip
    env = cli_env(**({"QUANTRAIL_DASHBOARD_TOKEN": token} if token else {}))
    return subprocess.Popen(
        command, env=env, cwd=config.parent, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


def post_json(url: str, body: dict[str, Any], token: str | None = None) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, json.dumps(body).encode(), headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def dashboard_up(base: str) -> bool:
    try:
        get_json(f"{base}/api/state")
    except OSError:
        return False
    return True


def dead_letter(url: str, namespace: str, event: Event) -> None:
    """Put ``event`` on the dead letters as a consumer that failed it three times would."""
    from quantrail.bus.deadletter import dead_letter_fields
    from quantrail.bus.transport import Entry
    from quantrail.events.streams import DEADLETTER

    async def work() -> None:
        bus = make_bus("redis", url, namespace)
        try:
            original = Entry("system.alert", "1-0", bus.codec.to_fields(event))
            fields = dead_letter_fields(
                original, stream="system.alert", group="notifier", consumer="n-1",
                error="ValueError: smtp down", deliveries=3, ts_ns=T0,
            )  # fmt: skip
            await bus.publish_raw(DEADLETTER, fields)
        finally:
            await bus.close()

    run_apart(work)
