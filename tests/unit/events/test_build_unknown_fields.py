"""Building an event from loose fields (``publish --json``, scenario files) refuses a field the
event does not have, naming it, instead of dropping it silently."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from quantrail.cli import app
from quantrail.events.codec import default_codec
from quantrail.events.errors import EventDecodeError

ALERT = {"alert_id": "a1", "severity": "INFO", "message": "hi", "ts_event": 1}


def test_an_unknown_field_is_refused_by_name() -> None:
    with pytest.raises(EventDecodeError) as caught:
        default_codec().build("system.alert.triggered", {**ALERT, "sevrity": "WARNING"})
    assert caught.value.path == "$.sevrity" and "unknown field" in str(caught.value)
    assert caught.value.value == "WARNING"


def test_known_fields_still_build() -> None:
    event = default_codec().build("system.alert.triggered", ALERT)
    assert event.kind == "system.alert.triggered"


def test_publish_refuses_an_unknown_field_before_touching_redis() -> None:
    payload = '{"alert_id": "a1", "severity": "INFO", "message": "hi", "sevrity": "WARNING"}'
    result = CliRunner(env={"COLUMNS": "200"}).invoke(
        app, ["publish", "system.alert.triggered", "--json", payload,
              "--redis", "redis://127.0.0.1:1/0"],
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    assert "sevrity" in result.output and "unknown field" in result.output
