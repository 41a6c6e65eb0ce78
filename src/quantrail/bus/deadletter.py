"""Dead-letter records: what failed, where, how often, and the original entry, kept whole."""

from __future__ import annotations

from dataclasses import dataclass

from quantrail.bus.transport import Entry, Fields

ORIGINAL_PREFIX = b"orig."


def dead_letter_fields(
    entry: Entry,
    *,
    stream: str,
    group: str | None,
    consumer: str | None,
    error: BaseException | str,
    deliveries: int,
    ts_ns: int,
) -> Fields:
    """The dead-letter entry: the failure and every original field under ``orig.``."""
    if isinstance(error, BaseException):
        error_type, message = type(error).__name__, str(error) or repr(error)
    else:
        error_type, message = "Error", error
    fields: Fields = {
        b"stream": stream.encode(),
        b"group": (group or "").encode(),
        b"consumer": (consumer or "").encode(),
        b"entry_id": entry.entry_id.encode(),
        b"error_type": error_type.encode(),
        b"error": message.encode(errors="replace"),
        b"deliveries": str(deliveries).encode(),
        b"ts_ns": str(ts_ns).encode(),
    }
    for name, value in entry.fields.items():
        fields[ORIGINAL_PREFIX + name] = value
    return fields


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A dead-letter entry read back (for ``quantrail dlq``)."""

    dlq_id: str
    stream: str
    group: str
    consumer: str
    entry_id: str
    error_type: str
    error: str
    deliveries: int
    ts_ns: int
    original: Fields

    @classmethod
    def from_entry(cls, entry: Entry) -> DeadLetter:
        f = entry.fields

        def text(name: bytes) -> str:
            return f.get(name, b"").decode(errors="replace")

        original = {
            k[len(ORIGINAL_PREFIX) :]: v for k, v in f.items() if k.startswith(ORIGINAL_PREFIX)
        }
        return cls(
            dlq_id=entry.entry_id,
            stream=text(b"stream"),
            group=text(b"group"),
            consumer=text(b"consumer"),
            entry_id=text(b"entry_id"),
            error_type=text(b"error_type"),
            error=text(b"error"),
            deliveries=int(text(b"deliveries") or 0),
            ts_ns=int(text(b"ts_ns") or 0),
            original=original,
        )

    @property
    def kind(self) -> str:
        return self.original.get(b"kind", b"").decode(errors="replace")
