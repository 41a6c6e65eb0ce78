"""``config`` reports every error at once, names where each came from (the file's key or the
environment variable), lists the allowed values of an enum, and catches what ``up`` refuses."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from quantrail.cli import app
from quantrail.config import ConfigError, load_config


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "q.yaml"
    path.write_text(text)
    return path


def test_every_error_is_reported_at_once(tmp_path: Path) -> None:
    path = write(tmp_path, "bogus: 1\nlog:\n  format: xml\n  colour: red\nbus:\n"
                 "  consumer:\n    batch_size: 0\n    nope: 2\n")  # fmt: skip
    with pytest.raises(ConfigError) as caught:
        load_config(path, env={})
    message = str(caught.value)
    for key in ("'bogus'", "'log.format'", "'log.colour'", "'bus.consumer.batch_size'",
                "'bus.consumer.nope'"):  # fmt: skip
        assert key in message, message
    assert len(caught.value.errors) == 5


def test_an_enum_error_lists_the_allowed_values(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, "log:\n  format: xml\n"), env={})
    assert "allowed: text, json" in str(caught.value)
    assert caught.value.key == "log.format"


def test_a_bad_environment_variable_is_blamed_not_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "namespace: paper\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path, env={"QUANTRAIL_TRANSPORT": "kafka"})
    message = str(caught.value)
    assert "environment variable QUANTRAIL_TRANSPORT" in message
    assert str(path) not in message and "allowed: memory, redis" in message


def cli(*args: str) -> tuple[int, str]:
    result = CliRunner(env={"COLUMNS": "300"}).invoke(app, list(args))
    return result.exit_code, result.output


def test_config_catches_an_unknown_exchange_that_up_refuses(tmp_path: Path) -> None:
    code, out = cli("config", "-c", str(write(tmp_path, "session:\n  exchange: XXXX\n")))
    assert code == 2, out
    assert "session.exchange" in out and "unknown exchange calendar 'XXXX'" in out


def test_config_catches_a_missing_baseline_file_and_reports_all(tmp_path: Path) -> None:
    text = ("session:\n  exchange: XXXX\nrisk:\n  accounts:\n"
            "    - {name: HAMMER, equity: 1000, baseline: nowhere.csv}\n")  # fmt: skip
    code, out = cli("config", "-c", str(write(tmp_path, text)))
    assert code == 2, out
    assert "risk.accounts.0.baseline" in out and "nowhere.csv" in out
    assert "session.exchange" in out
