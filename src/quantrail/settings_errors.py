"""Every error of a settings tree at once, each with its key path, source and allowed values.

msgspec stops at the first error. ``collect_errors`` walks the parsed YAML alongside the struct
types instead: every unknown key, every value that does not convert (an enum's error lists the
allowed values), and, for a section whose keys are all fine, the section's own checks
(``__post_init__``), each as one error. ``source_of`` names where a key's value came from: the
file, or an environment variable that overrode it.
"""

from __future__ import annotations

import enum
import typing
from collections.abc import Callable, Mapping
from typing import Any, Literal, TypeVar, get_args, get_origin

import msgspec

from quantrail.settings import SettingsError, explain

E = TypeVar("E", bound=SettingsError)
SourceOf = Callable[[str], str]


def collect_errors(
    raw: Mapping[str, Any], root: type[Any], error: type[E], source_of: SourceOf
) -> list[E]:
    found: list[E] = []
    _check_struct(raw, root, "", error, source_of, found)
    return found


def _join(path: str, key: object) -> str:
    return f"{path}.{key}" if path else str(key)


def _check_struct(
    raw: Any, cls: type[Any], path: str, error: type[E], source_of: SourceOf, found: list[E]
) -> None:
    if not isinstance(raw, Mapping):
        _check_leaf(raw, cls, path, error, source_of, found)
        return
    hints = typing.get_type_hints(cls)
    fields = {f.encode_name: f for f in msgspec.inspect.type_info(cls).fields}  # type: ignore[attr-defined]
    good: dict[str, Any] = {}  # the keys that convert: the section's own checks run on them
    for key, value in raw.items():
        key_path = _join(path, key)
        if key not in fields:
            found.append(error(key_path, "unknown key", value, source_of(key_path)))
            continue
        before = len(found)
        _check_value(value, hints[fields[key].name], key_path, error, source_of, found)
        if len(found) == before:
            good[key] = value
    missing = [name for name, field in fields.items() if field.required and name not in raw]
    for name in missing:
        key_path = _join(path, name)
        found.append(error(key_path, "missing required key", None, source_of(key_path)))
    if not missing:
        # The section's own checks (__post_init__), on the keys that convert (the others at
        # their defaults), so a bad limit is reported beside an unknown key.
        try:
            msgspec.convert(good, cls, strict=False)
        except msgspec.ValidationError as exc:
            inner = explain(str(exc), raw, cls, error, "")
            key_path = _join(path, inner.key) if inner.key != "<root>" else path or "<root>"
            found.append(error(key_path, inner.reason, inner.value, source_of(key_path)))


def _check_value(
    value: Any, hint: Any, path: str, error: type[E], source_of: SourceOf, found: list[E]
) -> None:
    options = [a for a in get_args(hint) if a is not type(None)] if _is_optional(hint) else [hint]
    if value is None and len(options) < (len(get_args(hint)) or 1):
        return  # None where None is allowed
    target = options[0] if len(options) == 1 else hint
    origin = get_origin(target)
    if isinstance(target, type) and issubclass(target, msgspec.Struct):
        _check_struct(value, target, path, error, source_of, found)
    elif origin is list and isinstance(value, list) and _is_struct(get_args(target)[0]):
        for index, item in enumerate(value):
            _check_struct(item, get_args(target)[0], _join(path, index), error, source_of, found)
    elif origin is dict and isinstance(value, Mapping) and _is_struct(get_args(target)[1]):
        for key, item in value.items():
            _check_struct(item, get_args(target)[1], _join(path, key), error, source_of, found)
    else:
        _check_leaf(value, target, path, error, source_of, found)


def _check_leaf(
    value: Any, hint: Any, path: str, error: type[E], source_of: SourceOf, found: list[E]
) -> None:
    try:
        msgspec.convert(value, hint, strict=False)
    except msgspec.ValidationError as exc:
        allowed = allowed_values(hint)
        if allowed:
            reason = f"not an allowed value (allowed: {', '.join(allowed)})"
        else:
            inner = explain(str(exc), {"v": value}, _Wrap, error, "")
            reason = inner.reason
        found.append(error(path or "<root>", reason, value, source_of(path)))


class _Wrap(msgspec.Struct):
    v: Any


def allowed_values(hint: Any) -> list[str]:
    """The values a Literal or an Enum (possibly optional) allows, as written in YAML."""
    options = [a for a in get_args(hint) if a is not type(None)] if _is_optional(hint) else [hint]
    values: list[str] = []
    for option in options:
        if get_origin(option) is Literal:
            values.extend(str(v) for v in get_args(option))
        elif isinstance(option, type) and issubclass(option, enum.Enum):
            values.extend(str(member.value) for member in option)
    return values


def _is_optional(hint: Any) -> bool:
    return type(None) in get_args(hint) and get_origin(hint) is not Literal


def _is_struct(hint: Any) -> bool:
    return isinstance(hint, type) and issubclass(hint, msgspec.Struct)
