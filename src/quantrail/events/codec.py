"""Encoding and decoding of events: JSON with one reused msgspec Decoder.

On a stream an event is an entry with plain fields, readable with ``redis-cli XRANGE``:
``kind``, ``event_id``, ``ts_event``, ``key`` (the idempotency key) and ``payload`` (JSON).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any, Protocol, Union

import msgspec

from quantrail.events.base import Event
from quantrail.events.errors import MISSING, EventDecodeError
from quantrail.events.sharing import Check, share_check

Fields = dict[bytes, bytes]

_PATH_RE = re.compile(r" - at `(\$[^`]*)`$")
_MISSING_RE = re.compile(r"Object missing required field `([^`]+)`")
_RULE_RE = re.compile(r"^([a-z_][a-z0-9_]*): (.+)$", re.S)


class HeldEntry(Protocol):
    """A bus entry: its encoded fields and, on the in-process bus, the event object itself."""

    @property
    def fields(self) -> Mapping[bytes, bytes]: ...

    @property
    def event(self) -> Event | None: ...


class Codec:
    """Encodes and decodes one closed set of event types (a tagged union)."""

    def __init__(self, types: Iterable[type[Event]]) -> None:
        self.types: tuple[type[Event], ...] = tuple(types)
        self.by_kind: dict[str, type[Event]] = {}
        for event_type in self.types:
            kind = event_type.__struct_config__.tag
            if not isinstance(kind, str):
                raise TypeError(f"{event_type.__name__} has no kind tag")
            if kind in self.by_kind:
                raise TypeError(f"kind {kind!r} is used by two event types")
            self.by_kind[kind] = event_type
        union: Any = Union[self.types]  # noqa: UP007 - built at run time from the catalog
        self._decoder: msgspec.json.Decoder[Event] = msgspec.json.Decoder(union)
        self._encoder = msgspec.json.Encoder()
        self._share_checks: dict[type[Event], Check] = {}

    def encode(self, event: Event) -> bytes:
        return self._encoder.encode(event)

    def decode(self, data: bytes | str) -> Event:
        try:
            return self._decoder.decode(data)
        except msgspec.ValidationError as exc:
            raise _explain(str(exc), data) from None
        except msgspec.DecodeError as exc:
            raise EventDecodeError(f"malformed JSON ({exc})", "$", _preview(data)) from None

    def to_fields(self, event: Event) -> Fields:
        return {
            b"kind": event.kind.encode(),
            b"event_id": event.event_id.encode(),
            b"ts_event": str(event.ts_event).encode(),
            b"key": event.key.encode(),
            b"payload": self.encode(event),
        }

    def from_fields(self, fields: Mapping[bytes, bytes]) -> Event:
        payload = fields.get(b"payload")
        if payload is None:
            raise EventDecodeError("entry has no payload field", "payload", MISSING)
        return self.decode(payload)

    def from_entry(self, entry: HeldEntry) -> Event:
        """The entry's event: the object the in-process bus kept with it (``shareable``), else
        decoded from its fields (an entry published raw, or read from Redis)."""
        event = entry.event
        return event if event is not None else self.from_fields(entry.fields)

    def shareable(self, event: Event) -> bool:
        """Whether readers may take ``event`` itself instead of decoding its encoding: decoding
        would give an equal object of the same types, and it holds nothing mutable
        (``events/sharing.py``)."""
        check = self._share_checks.get(type(event))
        if check is None:
            kind = type(event).__struct_config__.tag
            codec_type = self.by_kind.get(kind) if isinstance(kind, str) else None
            check = self._share_checks[type(event)] = share_check(type(event), codec_type)
        return check(event)

    def build(self, kind: str, payload: Mapping[str, Any]) -> Event:
        """Validate a loose mapping (CLI, scenario files) into the event of ``kind``."""
        if kind not in self.by_kind:
            raise EventDecodeError("unknown event kind", "$.kind", kind)
        event = self.decode(msgspec.json.encode({**payload, "kind": kind}))
        # Decoding ignores fields the event does not have (newer producers may add some); a
        # person's input must not lose a misspelt field silently.
        unknown = _unknown_field(payload, msgspec.to_builtins(event), "$")
        if unknown is not None:
            path, value = unknown
            raise EventDecodeError("unknown field (not in this event)", path, value, kind)
        return event

    def schema(self, kind: str) -> dict[str, Any]:
        schema: dict[str, Any] = msgspec.json.schema(self.by_kind[kind])
        return schema


def _unknown_field(given: Any, built: Any, path: str) -> tuple[str, Any] | None:
    """The first key of ``given`` that ``built`` (the event, as builtins) does not have."""
    if isinstance(given, Mapping) and isinstance(built, dict):
        for key, value in given.items():
            if key not in built:
                return f"{path}.{key}", value
            found = _unknown_field(value, built[key], f"{path}.{key}")
            if found is not None:
                return found
    elif isinstance(given, list) and isinstance(built, list):
        for index, (item, built_item) in enumerate(zip(given, built, strict=False)):
            found = _unknown_field(item, built_item, f"{path}[{index}]")
            if found is not None:
                return found
    return None


def _explain(message: str, data: bytes | str) -> EventDecodeError:
    """Turn msgspec's message into an error naming the field path and the value."""
    kind = _kind_of(data)
    missing = _MISSING_RE.search(message)
    path_match = _PATH_RE.search(message)
    path = path_match.group(1) if path_match else "$"
    reason = _PATH_RE.sub("", message)
    if missing:
        parent = path
        path = f"{parent}.{missing.group(1)}"
        return EventDecodeError("missing required field", path, MISSING, kind)
    if path == "$.kind":
        return EventDecodeError("unknown event kind", path, kind, None)
    rule = _RULE_RE.match(reason)
    if rule and path == "$":  # a contract rule (``__post_init__``) names its field first
        path, reason = f"$.{rule.group(1)}", rule.group(2)
    return EventDecodeError(reason, path, _value_at(data, path), kind)


def _kind_of(data: bytes | str) -> str | None:
    try:
        loose = msgspec.json.decode(data)
    except msgspec.DecodeError:
        return None
    kind = loose.get("kind") if isinstance(loose, dict) else None
    return kind if isinstance(kind, str) else None


def _value_at(data: bytes | str, path: str) -> Any:
    try:
        node: Any = msgspec.json.decode(data)
    except msgspec.DecodeError:
        return _preview(data)
    return _walk(node, re.findall(r"\.([^.\[]+)|\[(\d+|\.\.\.)\]", path.removeprefix("$")))


def _walk(node: Any, parts: list[tuple[str, str]]) -> Any:
    """Follow a msgspec path; ``[...]`` (some dict key) tries each value for the rest."""
    for position, (name, index) in enumerate(parts):
        if index == "...":
            values = node.values() if isinstance(node, dict) else []
            found = (_walk(value, parts[position + 1 :]) for value in values)
            return next((value for value in found if value is not MISSING), MISSING)
        try:
            node = node[int(index)] if index else node[name]
        except (KeyError, IndexError, TypeError):
            return MISSING
    return node


def _preview(data: bytes | str) -> str:
    text = data.decode(errors="replace") if isinstance(data, bytes) else data
    return text if len(text) <= 200 else text[:200] + "..."


@cache
def default_codec() -> Codec:
    """The codec for every event type in the catalog."""
    from quantrail.events.catalog import ALL_EVENTS

    return Codec(ALL_EVENTS)
