"""The quantrail command against the private redis-server (CliRunner, in process)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kit.bus import new_namespace
from quantrail.cli import app
from quantrail.events.catalog import ALL_EVENTS

runner = CliRunner(env={"COLUMNS": "200"})


@pytest.fixture
def ns() -> str:
    return new_namespace()


def cli(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_publish_validates_and_appends_plain_fields(redis_url: str, ns: str) -> None:
    payload = json.dumps({"alert_id": "a1", "severity": "WARNING", "message": "gross 121%"})
    code, out = cli("publish", "system.alert.triggered", "--json", payload,
                    "--redis", redis_url, "-n", ns)  # fmt: skip
    assert code == 0, out
    assert f"{ns}:system.alert" in out
    code, out = cli("tail", "system.alert", "--from-start", "--limit", "1",
                    "--redis", redis_url, "-n", ns)  # fmt: skip
    assert code == 0 and "system.alert.triggered" in out and "gross 121%" in out


def test_publish_refuses_a_bad_event_naming_field_and_value(redis_url: str, ns: str) -> None:
    payload = json.dumps({"alert_id": "a1", "severity": "LOUD", "message": "x"})
    code, out = cli("publish", "system.alert.triggered", "--json", payload,
                    "--redis", redis_url, "-n", ns)  # fmt: skip
    assert code == 2
    assert "$.severity" in out and "LOUD" in out
    code, out = cli("publish", "no.such.kind", "--redis", redis_url, "-n", ns)
    assert code == 2 and "unknown event kind" in out


def test_streams_lists_length_groups_and_pending(redis_url: str, ns: str) -> None:
    for i in range(3):
        cli("publish", "system.alert.triggered", "--json",
            json.dumps({"alert_id": f"a{i}", "severity": "INFO", "message": "m"}),
            "--redis", redis_url, "-n", ns)  # fmt: skip
    code, out = cli("streams", "--redis", redis_url, "-n", ns)
    assert code == 0, out
    row = next(line for line in out.splitlines() if "system.alert" in line)
    assert "│ 3 " in row.replace("  ", " ") or " 3 " in row


def test_dlq_list_retry_and_drop(redis_url: str, ns: str) -> None:
    import asyncio

    from kit.bus import make_bus
    from quantrail.bus.deadletter import dead_letter_fields
    from quantrail.bus.transport import Entry

    async def seed() -> None:
        bus = make_bus("redis", redis_url, ns)
        original = {b"kind": b"system.alert.triggered", b"key": b"k", b"payload": b"{}"}
        for i in range(2):
            fields = dead_letter_fields(
                Entry(bus.names.key("system.alert"), f"1-{i}", original),
                stream="system.alert",
                group="g",
                consumer="c",
                error=ValueError("bad"),
                deliveries=3,
                ts_ns=1,
            )
            await bus.transport.add([(bus.names.key("system.deadletter"), fields)], {})
        await bus.close()

    asyncio.run(seed())
    code, out = cli("dlq", "list", "--redis", redis_url, "-n", ns)
    assert code == 0 and out.count("ValueError: bad") == 2
    code, out = cli("dlq", "retry", "--redis", redis_url, "-n", ns)
    assert code == 2 and "--all" in out
    code, out = cli("dlq", "retry", "--all", "--redis", redis_url, "-n", ns)
    assert code == 0 and "retried 2" in out
    code, out = cli("dlq", "list", "--redis", redis_url, "-n", ns)
    assert "ValueError" not in out
    code, out = cli("tail", "system.alert", "--from-start", "--limit", "2",
                    "--redis", redis_url, "-n", ns)  # fmt: skip
    assert out.count("undecodable") == 2  # the originals are back on their stream, as they were
    code, out = cli("dlq", "drop", "9-9", "--yes", "--redis", redis_url, "-n", ns)
    assert code == 2 and "no such dead letter: 9-9" in out


def test_schema_writes_one_file_per_kind(tmp_path: Path) -> None:
    code, out = cli("schema", "--out", str(tmp_path))
    assert code == 0, out
    files = {p.name for p in tmp_path.glob("*.json")}
    assert "index.json" in files
    assert len(files) == len(ALL_EVENTS) + 1
    assert "trades.order.filled.json" in files


def test_replay_prints_a_range(redis_url: str, ns: str) -> None:
    for i in range(4):
        cli("publish", "system.alert.triggered", "--json",
            json.dumps({"alert_id": f"r{i}", "severity": "INFO", "message": f"m{i}"}),
            "--redis", redis_url, "-n", ns)  # fmt: skip
    code, out = cli("replay", "system.alert", "--speed", "max", "--redis", redis_url, "-n", ns)
    assert code == 0, out
    assert "replayed 4 events" in out and out.index("alert_id=r0") < out.index("alert_id=r3")
    code, out = cli("replay", "system.alert", "--since", "2026-01-01T00:00:00",
                    "--redis", redis_url, "-n", ns)  # fmt: skip
    assert code == 2 and "needs a zone" in out


def test_bad_config_file_stops_with_the_key_named(tmp_path: Path) -> None:
    bad = tmp_path / "q.yaml"
    bad.write_text("bus:\n  consumer:\n    max_deliveries: 0\n")
    code, out = cli("config", "-c", str(bad))
    assert code == 2
    assert "bus.consumer.max_deliveries" in out and "value: 0" in out


def test_unreachable_redis_is_a_clear_error(ns: str) -> None:
    code, out = cli("streams", "--redis", "redis://127.0.0.1:1/0", "-n", ns)
    assert code == 1 and "cannot reach Redis" in out


def test_core_demo_runs_on_the_memory_bus() -> None:
    code, out = cli("demo", "--core")
    assert code == 0, out
    assert "dead letters" in out and "replayed from the stream" in out


def test_scenario_run_exit_codes(tmp_path: Path) -> None:
    seeds = Path(__file__).resolve().parents[3] / "scenarios" / "seeds"
    code, out = cli("scenario", "run", str(seeds))
    assert code == 0, out
    assert "5 passed, 0 failed" in out
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\naccount: A\nequity: 1\nexpect: {mode: NORMAL}\n")
    code, out = cli("scenario", "run", str(bad))
    assert code == 2 and "bad.yaml" in out and "'at'" in out


def test_service_refuses_an_unknown_name() -> None:
    code, out = cli("service", "nonsense")
    assert code == 2 and "unknown 'nonsense'" in out
