"""Builders for the run-mode and metrics tests: a short replayable day, CLI processes, scrapes."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import yaml
from prometheus_client.parser import text_string_to_metric_families

import quantrail
from kit.event_base import ACCOUNT
from kit.marketdata import prt, quote
from kit.strategy_chain import script
from quantrail.marketdata.replay import write_market_file
from quantrail.runtime.clock import NS_PER_SECOND

CLI = [sys.executable, "-m", "quantrail.cli"]
SOURCE = str(Path(quantrail.__file__).resolve().parents[1])  # this checkout's, whatever the cwd
DAY_START = dt.datetime(2026, 11, 20, 14, 35, tzinfo=dt.UTC)  # 09:35 New York
DAY_START_NS = int(DAY_START.timestamp()) * NS_PER_SECOND
SYMBOL = "ACME"
DAY_END_NS = DAY_START_NS + 380 * NS_PER_SECOND  # the market's last event (+320 s) + 60 s
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def short_day_market(path: Path) -> Path:
    """330 s of ACME, a quote and a print every 10 s: 24.99/25.01 (print 25.00) for 240 s,
    then 24.40/24.42 (print 24.41), through the scripted advisory's 24.50 stop. The calm lasts
    150 replayed seconds after the advisory (+90 s): 2.5 s of wall time at 60x for processes
    that follow the clock a little late to fill the entry at the same price."""
    events: list[Any] = []
    for second in range(0, 330, 10):
        bid, ask, last = (
            ("24.99", "25.01", "25.00") if second < 150 else ("24.40", "24.42", "24.41")
        )
        ts = DAY_START_NS + second * NS_PER_SECOND
        events.append(quote(bid, ask, symbol=SYMBOL, bid_size=5000, ask_size=5000, ts_ns=ts))
        events.append(prt(last, 500, symbol=SYMBOL, ts_ns=ts))
    write_market_file(path, events)
    return path


def short_day_settings(tmp_path: Path, name: str) -> dict[str, Any]:
    """The config of the short day: a scripted LONG ACME at +90 s (stop 24.50); a database of
    its own per run (``name``)."""
    row_ts = (DAY_START + dt.timedelta(seconds=90)).isoformat()
    signals = script(tmp_path / "signals.csv", [f"{row_ts},{SYMBOL},LONG,80,0.8,24.50,seen"])
    # The shipped staleness limits: at 60x they count wall seconds (docs/operations.md).
    return {
        "bus": {"consumer": {"block_ms": 20, "claim_interval_ms": 200}},
        "runtime": {"heartbeat_s": 30, "shutdown_grace_s": 5},
        "strategy": {"name": "scripted", "params": {"path": str(signals)}, "account": ACCOUNT},
        "risk": {"accounts": [{"name": ACCOUNT, "equity": "100000"}]},
        "liquidity": {"min_interval_s": 0},
        "execution": {"latency_ms": 20},
        "positions": {"update_interval_s": 1},
        "db": {"url": f"sqlite:///{tmp_path / f'{name}.sqlite'}"},
    }


def write_config(path: Path, settings: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(settings), encoding="utf-8")
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_cli(*args: str, cwd: Path, namespace: str) -> subprocess.Popen[bytes]:
    """``quantrail ARGS`` as a process of its own in ``namespace`` (stderr kept for failures)."""
    log = open(cwd / f"proc-{'-'.join(a for a in args[:2])}-{os.urandom(3).hex()}.log", "wb")  # noqa: SIM115
    return subprocess.Popen(
        [*CLI, *args], cwd=cwd, stdout=subprocess.DEVNULL, stderr=log,
        env={**os.environ, "QUANTRAIL_NAMESPACE": namespace, "PYTHONPATH": SOURCE},
    )  # fmt: skip


async def stop_cli(process: subprocess.Popen[bytes]) -> int:
    if process.poll() is None:
        process.terminate()
    try:
        return await asyncio.to_thread(process.wait, 30)
    except subprocess.TimeoutExpired:
        process.kill()
        return await asyncio.to_thread(process.wait, 10)


def all_running(processes: list[subprocess.Popen[bytes]], folder: Path) -> None:
    """Fail at once (with their logs) when a process of the test has exited."""
    if any(process.poll() is not None for process in processes):
        raise AssertionError(f"a process exited early:\n{logs_of(folder)}")


def logs_of(folder: Path) -> str:
    return "\n".join(
        p.read_text(errors="replace")[-3000:] for p in sorted(folder.glob("proc-*.log"))
    )


def scrape(port: int) -> Samples:
    """Every sample of ``/metrics`` on ``port``, by name and labels; {} while not serving."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as reply:
            text = reply.read().decode()
    except OSError:
        return {}
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def sample(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, tuple(sorted(labels.items()))))
