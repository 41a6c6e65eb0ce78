"""JSON Schemas: one file per kind plus an index, each pinning its kind."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from quantrail.events import ALL_EVENTS, default_codec
from quantrail.events.schema import INDEX_FILE, schema_for, schema_index, write_schemas

KINDS = sorted(default_codec().by_kind)


def _root(schema: dict[str, object]) -> dict[str, object]:
    """The event's own definition (msgspec puts it under $defs and refers to it)."""
    ref = schema["$ref"]
    assert isinstance(ref, str)
    defs = schema["$defs"]
    assert isinstance(defs, dict)
    root: dict[str, object] = defs[ref.removeprefix("#/$defs/")]
    return root


@pytest.mark.parametrize("kind", KINDS)
def test_schema_pins_the_kind_enum_and_requires_it(kind: str) -> None:
    root = _root(schema_for(kind))
    properties = root["properties"]
    required = root["required"]
    assert isinstance(properties, dict) and isinstance(required, list)
    assert properties["kind"] == {"enum": [kind]}
    assert "kind" in required
    assert "ts_event" in required


def test_schema_shows_money_as_decimal_string_and_qty_as_integer() -> None:
    properties = _root(schema_for("trades.order.filled"))["properties"]
    assert isinstance(properties, dict)
    assert properties["last_price"] == {"type": "string", "format": "decimal"}
    assert properties["last_qty"] == {"type": "integer"}
    assert properties["side"] == {"$ref": "#/$defs/Side"}


def test_schema_has_dialect_and_title() -> None:
    schema = schema_for("risk.mode.changed")
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["title"] == "risk.mode.changed"


def test_schema_for_unknown_kind_names_it() -> None:
    with pytest.raises(ValueError, match=r"'market\.quote\.teleported'"):
        schema_for("market.quote.teleported")


def test_write_schemas_writes_one_file_per_kind_and_an_index(tmp_path: Path) -> None:
    written = write_schemas(tmp_path / "schemas")
    assert len(written) == len(ALL_EVENTS) + 1
    names = sorted(p.name for p in (tmp_path / "schemas").iterdir())
    assert names == sorted([f"{kind}.json" for kind in KINDS] + [INDEX_FILE])
    for kind in KINDS:
        on_disk = json.loads((tmp_path / "schemas" / f"{kind}.json").read_text())
        properties = _root(on_disk)["properties"]
        assert isinstance(properties, dict)
        assert properties["kind"] == {"enum": [kind]}


def test_index_maps_kind_to_stream_and_class(tmp_path: Path) -> None:
    write_schemas(tmp_path)
    index = json.loads((tmp_path / INDEX_FILE).read_text())
    assert index == schema_index()
    assert index["trades.order.filled"] == {"stream": "trades.order", "class": "OrderFilled"}
    assert index["risk.kill_switch.reset"] == {
        "stream": "risk.kill_switch",
        "class": "KillSwitchReset",
    }
    assert len(index) == len(ALL_EVENTS)


def test_write_schemas_is_deterministic(tmp_path: Path) -> None:
    first = {p.name: p.read_bytes() for p in write_schemas(tmp_path / "a")}
    second = {p.name: p.read_bytes() for p in write_schemas(tmp_path / "b")}
    assert first == second
