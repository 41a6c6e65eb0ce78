"""``inject``: events and the two runner actions; anything else is refused naming key and value."""

from __future__ import annotations

from pathlib import Path

import pytest

from quantrail.events.trades import IntentCreated
from quantrail.scenario.format import (
    REDELIVER,
    RESTART,
    ScenarioFileError,
    load_scenario,
)

HEAD = (
    "name: x\nat: '2026-11-20T12:00:00-05:00'\naccount: HAMMER\nequity: 500000\n"
    "expect: {mode: NORMAL}\n"
)
INTENT = (
    "{kind: trades.intent.created, payload: {intent_id: d-1, account: HAMMER, symbol: PFA, "
    "side: SELL, qty: 100, order_type: LIMIT, limit_price: 24.99, bucket: LT, mode: NORMAL}}"
)


def write(tmp_path: Path, inject: str) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(HEAD + f"inject:\n{inject}")
    return path


def test_events_and_actions_load_and_are_told_apart(tmp_path: Path) -> None:
    items = f"  - {INTENT}\n  - {INTENT}\n  - {{kind: redeliver, payload: {{}}}}\n" + (
        "  - {kind: restart, payload: {service: execution}}\n"
    )
    scenario = load_scenario(write(tmp_path, items))
    assert [i.kind for i in scenario.events] == ["trades.intent.created"] * 2
    assert (scenario.count(REDELIVER), scenario.count(RESTART)) == (1, 1)
    event = scenario.events[0].event(123)
    assert isinstance(event, IntentCreated)
    assert (event.ts_event, event.source, event.intent_id, str(event.limit_price)) == (
        123, "scenario", "d-1", "24.99",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("item", "key", "value"),
    [
        (f"  - {INTENT}\n  - {{kind: rewind, payload: {{}}}}\n", "inject.1.kind", "rewind"),
        ("  - {kind: restart, payload: {service: decision-engine}}\n",
         "inject.0.payload", "decision-engine"),
        ("  - {kind: restart}\n", "inject.0.payload", "None"),
        ("  - {kind: redeliver, payload: {times: 2}}\n", "inject.0.payload", "times"),
        ("  - {kind: trades.intent.created, payload: {intent_id: d-1}}\n",
         "inject.0.payload", "symbol"),
    ],
)  # fmt: skip
def test_a_bad_inject_item_names_its_key_and_value(
    tmp_path: Path, item: str, key: str, value: str
) -> None:
    with pytest.raises(ScenarioFileError) as caught:
        load_scenario(write(tmp_path, item))
    message = str(caught.value)
    assert caught.value.key == key, message
    assert value in message and "s.yaml" in message
