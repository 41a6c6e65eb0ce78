"""Errors raised when an event cannot be decoded or built."""

from __future__ import annotations

from typing import Any


class EventDecodeError(ValueError):
    """An event that does not decode: names the field path, the value and the reason."""

    def __init__(self, reason: str, path: str = "$", value: Any = None, kind: str | None = None):
        self.reason = reason
        self.path = path
        self.value = value
        self.kind = kind
        where = f" (kind {kind!r})" if kind else ""
        shown = "<missing>" if value is _MISSING else repr(value)
        super().__init__(f"{reason} at {path}{where}: value {shown}")


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


_MISSING: Any = _Missing()
MISSING = _MISSING
