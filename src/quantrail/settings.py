"""Validated settings trees (the config, the risk rules): errors that name the key and value.

msgspec reports where conversion failed as a path (``$.bus.consumer.batch_size``, with
``[...]`` for a dict value); this turns that into the dotted key a person wrote in the YAML
(``bus.retention.trades.order.maxlen``) and the value found there.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import msgspec

from quantrail.redact import redact

T = TypeVar("T")


E = TypeVar("E", bound="SettingsError")


class SettingsError(ValueError):
    """Settings that cannot be used: names the key path and the value."""

    label = "settings key"

    def __init__(self, key: str, message: str, value: Any = None, source: str = "") -> None:
        self.key = key
        self.value = value
        self.reason = message
        self.source = source
        self.errors: list[SettingsError] = [self]
        # An environment variable is where the value came *from*; a file is where it is *in*.
        where = (
            f" {'from' if source.startswith('environment') else 'in'} {source}" if source else ""
        )
        # A URL's password (redis.url) is never repeated in a message.
        super().__init__(redact(f"{self.label} '{key}'{where}: {message} (value: {value!r})"))

    @classmethod
    def combine(cls: type[E], errors: list[E]) -> E:
        """One error that carries several (``.errors``): its message has one line each."""
        if len(errors) == 1:
            return errors[0]
        first = errors[0]
        combined = cls(first.key, first.reason, first.value, first.source)
        combined.errors = list(errors)
        lines = "\n".join(f"  {error}" for error in errors)
        combined.args = (f"{len(errors)} problems:\n{lines}",)
        return combined


_AT_PATH = re.compile(r" - at `\$([^`]*)`$")
_AT_KEY = re.compile(r" - at `key` in `\$([^`]*)`$")
_BAD_ENUM = re.compile(r"Invalid enum value '([^']*)'")
_FIELD_MESSAGE = re.compile(r"^([a-z_][a-z0-9_]*): (.+)$", re.S)
_UNKNOWN = re.compile(r"Object contains unknown field `([^`]+)`")
_MISSING = re.compile(r"Object missing required field `([^`]+)`")


def convert_settings(
    raw: Mapping[str, Any],
    root: type[T],
    error: type[E],
    source: str = "",
    source_of: Callable[[str], str] | None = None,
) -> T:
    """Convert a loose mapping (parsed YAML) into ``root``, or raise ``error`` naming the key;
    with several errors, one ``error`` carrying them all (``.errors``), each naming its key and
    where it came from (``source_of(key)``, else ``source``)."""
    from quantrail.settings_errors import collect_errors

    try:
        return msgspec.convert(raw, root, strict=False)
    except msgspec.ValidationError as exc:
        first = explain(str(exc), raw, root, error, source)
        found = collect_errors(raw, root, error, source_of or (lambda _key: source))
        raise error.combine(found or [first]) from None


def explain(
    message: str, raw: Mapping[str, Any], root: type[Any], error: type[E], source: str
) -> E:
    key_match = _AT_KEY.search(message)
    if key_match:  # a dict key that is not one of the allowed names (an enum)
        bad = _BAD_ENUM.search(message)
        name = bad.group(1) if bad else "<key>"
        key = ".".join(p for p in (_resolve(_dotted(key_match.group(1)), raw, root), name) if p)
        return error(key, "not a known name", name, source)
    path_match = _AT_PATH.search(message)
    dotted = _resolve(_dotted(path_match.group(1)), raw, root) if path_match else ""
    reason = _AT_PATH.sub("", message)
    for pattern, text in (
        (_FIELD_MESSAGE, None),
        (_UNKNOWN, "unknown key"),
        (_MISSING, "missing required key"),
    ):
        found = pattern.search(reason)
        if found:
            key = ".".join(p for p in (dotted, found.group(1)) if p)
            value = lookup(raw, key)
            # A validator may have named the same value itself; the error names it once.
            detail = text or _without_value(found.group(2), value)
            return error(key, detail, value, source)
    return error(dotted or "<root>", reason, lookup(raw, dotted), source)


def _without_value(detail: str, value: Any) -> str:
    """``detail`` without a trailing ``(value: ...)`` that repeats ``value``."""
    return detail.removesuffix(f" (value: {value!r})").removesuffix(f" (value: {value})")


def _dotted(path: str) -> str:
    return re.sub(r"\[(\d+)\]", r".\1", path).replace("[...]", ".[...]").lstrip(".")


def _resolve(dotted: str, raw: Mapping[str, Any], root: type[Any]) -> str:
    """Replace ``[...]`` (some dict key) by the first key whose value does not convert."""
    head, marker, tail = dotted.partition(".[...]")
    if not marker:
        return dotted
    mapping = lookup(raw, head)
    value_type = _dict_value_type(root, head)
    if isinstance(mapping, Mapping) and value_type is not None:
        for name, value in mapping.items():
            try:
                msgspec.convert(value, value_type, strict=False)
            except msgspec.ValidationError:
                return f"{head}.{name}{tail}"
    return f"{head}.<key>{tail}"


def _dict_value_type(root: type[Any], dotted: str) -> Any:
    info: Any = msgspec.inspect.type_info(root)
    for part in [p for p in dotted.split(".") if p]:
        info = _unwrap(info)
        if isinstance(info, msgspec.inspect.StructType):
            field = next((f for f in info.fields if f.encode_name == part), None)
            if field is None:
                return None
            info = field.type
        elif isinstance(info, msgspec.inspect.ListType) and part.isdigit():
            info = info.item_type
        else:
            return None
    info = _unwrap(info)
    if isinstance(info, msgspec.inspect.DictType):
        value = _unwrap(info.value_type)
        return value.cls if isinstance(value, msgspec.inspect.StructType) else None
    return None


def _unwrap(info: Any) -> Any:
    if isinstance(info, msgspec.inspect.UnionType):
        options = [t for t in info.types if not isinstance(t, msgspec.inspect.NoneType)]
        return options[0] if len(options) == 1 else info
    return info


def lookup(raw: Mapping[str, Any], dotted: str) -> Any:
    """The value at a dotted key path; map keys may hold dots themselves (stream names)."""
    return _lookup_parts(raw, [p for p in dotted.split(".") if p])


def _lookup_parts(node: Any, parts: list[str]) -> Any:
    if not parts:
        return node
    if isinstance(node, list) and parts[0].isdigit() and int(parts[0]) < len(node):
        return _lookup_parts(node[int(parts[0])], parts[1:])
    if isinstance(node, Mapping):
        for width in range(len(parts), 0, -1):  # longest key first: "trades.order"
            key = ".".join(parts[:width])
            if key in node:
                return _lookup_parts(node[key], parts[width:])
    return None
