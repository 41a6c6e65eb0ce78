"""Execution and ledger as real ``quantrail service`` processes on a private redis-server that a
test kills -9 and starts again (with or without AOF), with quotes and intents fed by the test.

``Flow`` keeps a quote fresh and sends market intents (buy, sell, buy...: the position stays
small) at a steady pace; publishing through the outage fails and is skipped (an intent never
published never makes an order, and the venue's count is what the test compares).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from kit.market_events import quote, trade_print
from kit.order_events import intent
from kit.poll import eventually
from quantrail.bus.bus import EventBus
from quantrail.bus.redis import RedisTransport
from quantrail.bus.transport import TransportError
from quantrail.events import AlertTriggered, HealthHeartbeat, OrderFill
from quantrail.vocab import OrderType, Side

CLI = [sys.executable, "-m", "quantrail.cli"]
SRC = str(Path(__file__).resolve().parents[2] / "src")
ACCOUNT, SYMBOL = "ACC1", "ACME"


def write_config(tmp_path: Path, namespace: str, redis_url: str) -> tuple[Path, str]:
    """A config file for the processes and the ledger's database URL."""
    db_url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    path = tmp_path / "quantrail.yaml"
    path.write_text(
        f"namespace: {namespace}\n"
        f"redis: {{url: '{redis_url}', reconnect_backoff_ms: [50, 100, 200]}}\n"
        "bus: {transport: redis, consumer: {block_ms: 100, claim_idle_ms: 2000,"
        " claim_interval_ms: 500}}\n"
        "runtime: {heartbeat_s: 0.3}\n"
        f"db: {{url: '{db_url}'}}\n"
        "execution: {latency_ms: 5}\n"
        "liquidity: {min_interval_s: 0, default_adv: 100000000}\n"
        f"risk: {{accounts: [{{name: {ACCOUNT}, equity: '100000000'}}]}}\n"
    )
    return path, db_url


def start_service(name: str, config: Path, cwd: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.Popen(
        [*CLI, "service", name, "--config", str(config), "--instance", f"memloss-{name}"],
        cwd=cwd, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, env=env,
    )  # fmt: skip


def stop_service(process: subprocess.Popen[bytes]) -> str:
    """SIGTERM and wait; the process's stderr."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
    return process.stderr.read().decode() if process.stderr else ""


@contextlib.contextmanager
def services(config: Path, cwd: Path, *names: str) -> Iterator[dict[str, subprocess.Popen[bytes]]]:
    running = {name: start_service(name, config, cwd) for name in names}
    try:
        yield running
    finally:
        for process in running.values():
            if process.poll() is None:
                process.kill()
                process.wait(10)


class Flow:
    """Quotes and market intents at a steady pace, through an outage."""

    def __init__(self, bus: EventBus) -> None:
        self.bus = bus
        self.sent = 0
        self.failed = 0
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def publish(self, event: Any) -> bool:
        try:
            await self.bus.publish(event)
        except TransportError:
            self.failed += 1
            return False
        return True

    async def show_quote(self) -> bool:
        return await self.publish(
            quote(symbol=SYMBOL, bid="24.99", ask="25.01", bid_size=1_000_000,
                  ask_size=1_000_000, ts_event=time.time_ns())
        )  # fmt: skip

    async def _run(self, every_s: float) -> None:
        while not self._stop.is_set():
            await self.show_quote()
            side = Side.BUY if self.sent % 2 == 0 else Side.SELL
            event = intent(
                side=side, qty=100, intent_id=f"flow-{self.sent}", symbol=SYMBOL,
                account=ACCOUNT, order_type=OrderType.MARKET, limit_price=None,
                ts_event=time.time_ns(),
            )  # fmt: skip
            if await self.publish(event):
                self.sent += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), every_s)  # the pace of the flow

    def start(self, every_s: float = 0.02) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(every_s))

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            await self._task

    async def rest(self, intent_id: str, side: Side, price: str) -> None:
        """A limit order that rests (away from the touch) until ``trade_at`` fills it."""
        event = intent(
            side=side, qty=100, intent_id=intent_id, symbol=SYMBOL, account=ACCOUNT,
            order_type=OrderType.LIMIT, limit_price=price, ts_event=time.time_ns(),
        )  # fmt: skip
        assert await self.publish(event)

    async def trade_at(self, price: str) -> bool:
        return await self.publish(
            trade_print(symbol=SYMBOL, price=price, size=1000, ts_event=time.time_ns())
        )


async def forget_namespace(bus: EventBus) -> int:
    """What a Redis restarted without persistence looks like to this test's namespace: every
    key of it deleted (streams, groups, registry, state). Other tests' keys are left alone."""
    assert isinstance(bus.transport, RedisTransport)
    client: Any = bus.transport.client
    keys = [key async for key in client.scan_iter(match=f"{bus.names.namespace}:*", count=1000)]
    return int(await client.delete(*keys)) if keys else 0


async def latest_health(bus: EventBus, service: str) -> dict[str, Any]:
    """The metrics of the newest heartbeat of ``service`` ({} when none yet)."""
    for entry in reversed(await bus.read_range("system.health", "-", "+", 10_000)):
        event = bus.codec.from_fields(entry.fields)
        if isinstance(event, HealthHeartbeat) and event.service == service:
            return dict(event.metrics)
    return {}


async def fill_events(bus: EventBus) -> list[OrderFill]:
    return [e for e in await bus.read_events("trades.order") if isinstance(e, OrderFill)]


async def alerts(bus: EventBus, source: str) -> list[AlertTriggered]:
    found = await bus.read_events("system.alert")
    return [e for e in found if isinstance(e, AlertTriggered) and e.source == source]


async def fills_from_the_start(bus: EventBus, at_least: int, within: float = 60.0) -> None:
    await eventually(
        lambda: fill_events(bus), lambda f: len(f) >= at_least, within=within,
        what=f"{at_least} fills on trades.order",
    )  # fmt: skip
