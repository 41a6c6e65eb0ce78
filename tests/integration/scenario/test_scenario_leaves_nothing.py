"""``scenario run --redis`` removes its namespaces when done; ``schema`` needs ``--out``."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import redis
from typer.testing import CliRunner

from quantrail.cli import app
from quantrail.scenario.format import load_scenario
from quantrail.scenario.runner import run_scenario

ROOT = Path(__file__).resolve().parents[3]
pytestmark = pytest.mark.redis


def scenario_keys(url: str) -> set[bytes]:
    client = redis.Redis.from_url(url)
    try:
        return set(client.scan_iter(match="scn*"))
    finally:
        client.close()


def test_a_scenario_on_redis_leaves_no_keys(redis_url: str) -> None:
    before = scenario_keys(redis_url)
    path = ROOT / "scenarios" / "seeds" / "c_close_110_hard_derisk.yaml"
    result = asyncio.run(run_scenario(load_scenario(path), str(path), redis_url=redis_url))
    assert result.passed, result
    assert scenario_keys(redis_url) == before


def test_schema_does_not_write_into_the_current_directory_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner(env={"COLUMNS": "200"}).invoke(app, ["schema"])
    assert result.exit_code == 2, result.output
    assert "--out" in result.output
    assert list(tmp_path.iterdir()) == []
