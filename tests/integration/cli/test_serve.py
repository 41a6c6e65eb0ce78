"""``quantrail service`` as a real process against the private Redis."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from kit.bus import make_bus, new_namespace
from kit.poll import eventually

CLI = [sys.executable, "-m", "quantrail.cli"]


def start(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [*CLI, *args],
        cwd=cwd,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        env={**os.environ, **env},
    )


async def stop(process: subprocess.Popen[bytes]) -> tuple[int, str]:
    process.terminate()
    code = await asyncio.to_thread(process.wait, 30)
    return code, process.stderr.read().decode() if process.stderr else ""


async def test_one_service_per_process_publishes_and_stops_on_sigterm(
    redis_url: str, tmp_path: Path
) -> None:
    namespace = new_namespace()
    process = start("service", "session", "--redis", redis_url, "--instance", "t",
                    cwd=tmp_path, env={"QUANTRAIL_NAMESPACE": namespace})  # fmt: skip
    bus = make_bus("redis", redis_url, namespace)
    try:
        entries = await eventually(
            lambda: bus.read_range("session.clock"),
            lambda e: len(e) >= 2,
            within=30,
            what="session clock ticks",
        )
        assert bus.codec.from_fields(entries[0].fields).kind == "session.clock.ticked"
        code, stderr = await stop(process)
        assert code == 0, stderr
        beats = await bus.read_range("system.health")
        assert beats, "no heartbeat from the service"
    finally:
        if process.poll() is None:
            process.kill()
        await bus.close()
