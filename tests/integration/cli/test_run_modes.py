"""The run-mode flags' errors, the no-accounts warning and ``quantrail health``."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from kit.bus import make_bus, new_namespace
from kit.cli import run_cli
from kit.opsrun import start_cli, stop_cli, write_config
from kit.poll import eventually
from kit.system_events import alert, heartbeat
from quantrail.events.system import ClockTicked


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--clock", "bogus"], "clock: must be 'wall' or 'replay' (value: 'bogus')"),
        (["--clock", "replay", "--speed", "0"], "speed: must be a positive number or 'max'"),
        (["--clock", "replay", "--date", "20-11-2026"], "date: must be YYYY-MM-DD"),
        (["--clock", "replay", "--date", "2026-11-26"], "2026-11-26 is not a XNYS trading day"),
        (["--follow"], "--date and --follow go with --clock replay"),
    ],
)
async def test_a_bad_run_flag_is_named_and_exits_2(
    flags: list[str], message: str, tmp_path: Path
) -> None:
    config = write_config(tmp_path / "quantrail.yaml", {})
    result = await run_cli(["service", "session", "-c", str(config), *flags])
    assert result.exit_code == 2, result.output
    assert message in result.output.replace("\n", "")


async def test_up_names_an_unknown_skip() -> None:
    result = await run_cli(["up", "--skip", "ledgerr"])
    assert result.exit_code == 2
    assert "skip: unknown 'ledgerr'" in result.output


async def test_a_config_without_accounts_warns_at_start(redis_url: str, tmp_path: Path) -> None:
    config = write_config(tmp_path / "quantrail.yaml", {})
    process = start_cli("service", "session", "-c", str(config), "--redis", redis_url,
                        cwd=tmp_path, namespace=new_namespace())  # fmt: skip
    try:
        await eventually(
            lambda: "".join(p.read_text() for p in tmp_path.glob("proc-*.log")),
            lambda text: "names no accounts" in text and "started with" in text,
            within=30, what="the warning, then the start",
        )  # fmt: skip
    finally:
        assert await stop_cli(process) == 0


async def test_health_prints_each_service_and_the_active_alerts(redis_url: str) -> None:
    namespace = new_namespace()
    bus = make_bus("redis", redis_url, namespace)
    now = time.time_ns()
    await bus.publish_batch([
        heartbeat("ledger", instance="h1", ts_event=now),
        heartbeat("audit", instance="h1", ts_event=now - 120 * 1_000_000_000),
        alert(alert_id="consumer_lag:trades.order:ledger", message="ledger is behind",
              source="health"),
        alert(alert_id="engine-alert", message="a one-off alert of another service"),
    ])  # fmt: skip
    args = ["health", "--redis", redis_url, "-n", namespace]
    try:
        result = await run_cli(args)
        assert result.exit_code == 1, result.output
        assert "MISSING" in result.output and "HEALTHY" in result.output
        assert "consumer_lag:trades.order:ledger" in result.output
        assert "engine-alert" not in result.output  # one-off alerts have no episode
        await bus.publish(heartbeat("audit", instance="h1", ts_event=now))
        healthy = await run_cli(args)
        assert healthy.exit_code == 0, healthy.output
        assert "MISSING" not in healthy.output
    finally:
        await bus.close()


async def test_health_in_a_replay_at_60x_judges_heartbeat_ages_in_wall_seconds(
    redis_url: str,
) -> None:
    namespace = new_namespace()
    bus = make_bus("redis", redis_url, namespace)
    replayed = 1_790_000_000 * 1_000_000_000
    minute = 60 * 1_000_000_000
    await bus.publish_batch([
        ClockTicked(ts_event=replayed, source="replay-clock", speed=60.0),
        heartbeat("ledger", instance="h1", ts_event=replayed - 2 * minute),  # 2 s of wall time
        heartbeat("audit", instance="h1", ts_event=replayed - 91 * minute),  # 91 s: missing
    ])  # fmt: skip
    try:
        result = await run_cli(["health", "--redis", redis_url, "-n", namespace, "--replay"])
        assert result.exit_code == 1, result.output
        rows = {line.split()[1]: line for line in result.output.splitlines()
                if line.startswith("│") and len(line.split()) > 3}  # fmt: skip
        assert "MISSING" in rows["audit"] and "HEALTHY" in rows["ledger"], result.output
        assert "2 s ago" in rows["ledger"] and "91 s ago" in rows["audit"], result.output
    finally:
        await bus.close()


async def test_a_metrics_port_in_use_is_named(tmp_path: Path) -> None:
    config = write_config(tmp_path / "quantrail.yaml", {})
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = await run_cli(["service", "session", "-c", str(config),
                                "--metrics-port", str(port)])  # fmt: skip
    assert result.exit_code == 2, result.output
    assert f"metrics-port: cannot serve on 127.0.0.1:{port}" in result.output.replace("\n", "")
