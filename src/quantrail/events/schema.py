"""JSON Schemas of the event contracts, one file per kind, for non-Python consumers.

``write_schemas`` is what ``quantrail schema`` runs. Output is deterministic (sorted keys, fixed
indentation) so the files can be committed and diffed between versions.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from quantrail.events.base import stream_of_kind
from quantrail.events.codec import Codec, default_codec

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
INDEX_FILE = "index.json"


def schema_for(kind: str, codec: Codec | None = None) -> dict[str, Any]:
    """The JSON Schema of one event kind; its ``kind`` property is the one-value enum."""
    codec = codec or default_codec()
    if kind not in codec.by_kind:
        raise ValueError(f"kind: unknown event kind {kind!r}")
    event_type = codec.by_kind[kind]
    schema = codec.schema(kind)
    return {
        "$schema": JSON_SCHEMA_DIALECT,
        "title": kind,
        "description": f"{event_type.__name__} on stream {stream_of_kind(kind)}",
        **schema,
    }


def schema_index(codec: Codec | None = None) -> dict[str, dict[str, str]]:
    """kind -> its stream and class name."""
    codec = codec or default_codec()
    return {
        kind: {"stream": stream_of_kind(kind), "class": event_type.__name__}
        for kind, event_type in sorted(codec.by_kind.items())
    }


def write_schemas(out_dir: Path, codec: Codec | None = None) -> list[Path]:
    """Write ``<kind>.json`` for every kind plus ``index.json``; returns the paths written."""
    codec = codec or default_codec()
    out_dir.mkdir(parents=True, exist_ok=True)
    written = [
        _write_json(out_dir / f"{kind}.json", schema_for(kind, codec))
        for kind in sorted(codec.by_kind)
    ]
    written.append(_write_json(out_dir / INDEX_FILE, schema_index(codec)))
    return written


def _write_json(path: Path, document: dict[str, Any]) -> Path:
    path.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path
