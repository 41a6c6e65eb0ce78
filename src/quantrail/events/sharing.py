"""When an event object may be handed to its readers as it is, instead of decoded from its entry.

The in-process bus (``bus/memory.py``) keeps the event object a publisher gave it in the
entry (its fields encoded only when read raw), and its readers take that object instead of
decoding the fields: no decode per reader. That is only the same as decoding when decoding
the event's encoding would give back an equal object of the same types, field by field.
Construction does not check types (msgspec validates on decode only), so this module checks
what decode would check or change, once per publish:

* the event is the codec's class for its kind (a subclass or a foreign class decodes to
  something else, or not at all);
* every field holds exactly the type decode produces for it: ``str`` for ``str`` (not a
  ``StrEnum`` member), ``int`` for ``int`` (not ``bool``), a ``Decimal`` for ``Decimal`` (not an
  ``int`` or a ``float``, which decode would turn into a ``Decimal``), a finite ``float`` (NaN
  and infinities encode as ``null``), a member of the field's ``Enum`` (not its value), one of
  a ``Literal``'s values; a ``str`` that encodes (no lone surrogate: the fields of a kept
  event are encoded only when somebody reads them raw, so it must not fail then);
* no field holds a container (a list, a dict, a nested struct): a decoding reader gets its own
  copy of those, a shared one could be changed by the publisher after publishing or by one
  reader under another. Only ten kinds have such fields (trade prints' conditions, features',
  alerts' and audit records' details, mode changes' inputs, declined advisories, risk
  evaluations, exposure snapshots, heartbeats); they take the decoding path, as do fields with
  constraints (none today).

The contract rules in ``__post_init__`` ran when the object was built, as they do on decode.
An event that fails the check is published as today and every reader decodes it, so what a
reader sees (or the dead letter it causes) does not depend on the transport.
"""

from __future__ import annotations

import keyword
import math
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from msgspec import inspect

from quantrail.events.base import Event

Check = Callable[[Event], bool]
"""True when the event may be handed over as it is (one compiled per event class)."""

_SCALARS: dict[type[inspect.Type], type] = {
    inspect.StrType: str,
    inspect.IntType: int,
    inspect.BoolType: bool,
    inspect.FloatType: float,
    inspect.DecimalType: Decimal,
    inspect.NoneType: type(None),
}


class _NotShareable(Exception):
    """A field type whose values are never handed over (containers, constraints)."""


def never(_event: Event) -> bool:
    return False


def share_check(event_type: type[Event], codec_type: type[Event] | None) -> Check:
    """The check for events of ``event_type``; ``codec_type`` is the codec's class for its kind.

    It is compiled into one expression over the fields (``type(e.bid) is Decimal and ...``):
    it runs on every publish to the in-process bus, and a loop over the fields cost most of
    what the decode it saves costs."""
    if codec_type is not event_type:
        return never
    info = {f.name: f.type for f in inspect.type_info(event_type).fields}  # type: ignore[attr-defined]
    names: dict[str, Any] = {"isfinite": math.isfinite, "utf8": _utf8}
    terms: list[str] = []
    try:
        for index, name in enumerate(event_type.__struct_fields__):
            if not name.isidentifier() or keyword.iskeyword(name):
                raise _NotShareable(name)
            terms.append(_term(index, name, info[name], names))
    except _NotShareable:
        return never
    source = "def check(e):\n    return " + (" and ".join(terms) or "True") + "\n"
    exec(source, names)  # built from the class's own field names and types only
    check: Check = names["check"]
    return check


def _term(index: int, name: str, field_type: inspect.Type, names: dict[str, Any]) -> str:
    """The test of one field: its value has exactly a type decode gives back unchanged."""
    types, literals = _accepted(field_type)
    if types == {str} and not literals:
        return f"(type(v := e.{name}) is str and (v.isascii() or utf8(v)))"
    if len(types) == 1 and not literals and not types & {float, str}:
        (only,) = types
        names[f"T{index}"] = only
        return f"type(e.{name}) is T{index}"
    names[f"T{index}"] = frozenset(types)
    test = (
        f"((t := type(v := e.{name})) in T{index} and (t is not float or isfinite(v))"
        " and (t is not str or v.isascii() or utf8(v))"
    )
    if literals:
        names[f"L{index}"] = frozenset(literals)
        names[f"K{index}"] = frozenset(kind for kind, _ in literals)
        test += f" or (t in K{index} and (t, v) in L{index})"
    return test + ")"


def _utf8(text: str) -> bool:
    """Whether ``text`` encodes (a lone surrogate does not): the fields of a kept event are
    encoded when first read, so its publish must not be the one to find out."""
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def _accepted(field_type: inspect.Type) -> tuple[set[type], set[tuple[type, Any]]]:
    """The types whose every value is kept by decode, and the (type, value) pairs of Literals."""
    types: set[type] = set()
    literals: set[tuple[type, Any]] = set()
    members = field_type.types if isinstance(field_type, inspect.UnionType) else (field_type,)
    for member in members:
        if isinstance(member, inspect.EnumType):
            types.add(member.cls)
        elif isinstance(member, inspect.LiteralType):
            literals.update((type(value), value) for value in member.values)
        elif type(member) in _SCALARS and not _constrained(member):
            types.add(_SCALARS[type(member)])
        else:
            raise _NotShareable(repr(member))
    return types, literals


def _constrained(member: inspect.Type) -> bool:
    """Length, pattern or range constraints: decode checks them, construction does not."""
    return any(getattr(member, name) is not None for name in member.__struct_fields__)
