"""``tail`` and ``replay`` print one readable line per event (exchange time, kind, key fields),
never wrapped mid-word; ``--json`` prints the raw event."""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from kit.bus import new_namespace
from quantrail.cli import app

pytestmark = pytest.mark.redis
# 2026-11-20 14:31:02.5 UTC = 09:31:02.500 in New York
TS = 1_795_703_462_500_000_000
ALERT = {"alert_id": "a1", "severity": "WARNING", "message": "gross 121% over the soft limit",
         "ts_event": TS}  # fmt: skip


def cli(args: list[str], columns: int = 60) -> tuple[int, str]:
    result = CliRunner(env={"COLUMNS": str(columns)}).invoke(app, args)
    return result.exit_code, result.output


@pytest.fixture
def published(redis_url: str) -> list[str]:
    where = ["--redis", redis_url, "-n", new_namespace()]
    code, out = cli(["publish", "system.alert.triggered", "--json", json.dumps(ALERT), *where])
    assert code == 0, out
    return where


@pytest.mark.parametrize("verb", [["tail", "system.alert", "--from-start", "--limit", "1"],
                                  ["replay", "system.alert"]])  # fmt: skip
def test_one_readable_line_per_event(published: list[str], verb: list[str]) -> None:
    code, out = cli([*verb, *published])
    assert code == 0, out
    [line] = [line for line in out.splitlines() if "system.alert.triggered" in line]
    assert "09:31:02.500" in line and "severity=WARNING" in line
    assert "message='gross 121% over the soft limit'" in line
    assert not re.search(r"\d{16,}", line)  # no nanosecond integers
    assert "ts_event" not in line


@pytest.mark.parametrize("verb", [["tail", "system.alert", "--from-start", "--limit", "1"],
                                  ["replay", "system.alert"]])  # fmt: skip
def test_json_prints_the_raw_event_on_one_line(published: list[str], verb: list[str]) -> None:
    code, out = cli([*verb, "--json", *published])
    assert code == 0, out
    events = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert len(events) == 1 and events[0]["ts_event"] == TS
    assert events[0]["kind"] == "system.alert.triggered"
