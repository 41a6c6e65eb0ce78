"""Dead-letter records: what failed, where, how often, and the original entry.

The original is kept under ``orig.<field>`` up to ``max_original_bytes`` in all (the config's
``bus.deadletter.max_original_bytes``, 64 KiB by default): a 16 MiB garbage entry dead-lettered
once per consuming group must not fill Redis's memory. A field cut short keeps its first bytes
and says what it was: ``orig_len.<field>`` (its length in bytes) and ``orig_sha256.<field>`` (the
SHA-256 of the whole value, hex), so it can still be matched against its source. A dead letter
with a cut field cannot be retried as it is (``quantrail dlq retry`` refuses it).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from quantrail.bus.transport import Entry, Fields

ORIGINAL_PREFIX = b"orig."
LENGTH_PREFIX = b"orig_len."
SHA256_PREFIX = b"orig_sha256."
DEFAULT_MAX_ORIGINAL_BYTES = 64 * 1024
MAX_ERROR_CHARS = 4096  # an error that quotes a huge value is cut too


def dead_letter_fields(
    entry: Entry,
    *,
    stream: str,
    group: str | None,
    consumer: str | None,
    error: BaseException | str,
    deliveries: int,
    ts_ns: int,
    max_original_bytes: int = DEFAULT_MAX_ORIGINAL_BYTES,
) -> Fields:
    """The dead-letter entry: the failure and the original fields under ``orig.`` (capped)."""
    error_type, message = describe_error(error)
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
    fields.update(capped_original(entry.fields, max_original_bytes))
    return fields


def describe_error(error: BaseException | str) -> tuple[str, str]:
    """The error's type name and its message, cut to ``MAX_ERROR_CHARS``."""
    if isinstance(error, BaseException):
        error_type, message = type(error).__name__, str(error) or repr(error)
    else:
        error_type, message = "Error", error
    if len(message) > MAX_ERROR_CHARS:
        cut = len(message) - MAX_ERROR_CHARS
        message = f"{message[:MAX_ERROR_CHARS]}... ({cut} more characters cut)"
    return error_type, message


def capped_original(original: Fields, max_bytes: int) -> Fields:
    """``orig.`` fields within ``max_bytes`` in all; a cut field also gets its length and hash."""
    kept: Fields = {}
    budget = max_bytes
    for name, value in original.items():
        if len(value) <= budget:
            kept[ORIGINAL_PREFIX + name] = value
            budget -= len(value)
            continue
        kept[ORIGINAL_PREFIX + name] = value[:budget]
        kept[LENGTH_PREFIX + name] = str(len(value)).encode()
        kept[SHA256_PREFIX + name] = hashlib.sha256(value).hexdigest().encode()
        budget = 0
    return kept


@dataclass(frozen=True, slots=True)
class CutField:
    """A field of the original kept only in part: its full length and SHA-256."""

    length: int
    sha256: str


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
    cut: dict[bytes, CutField] = field(default_factory=dict)
    size_bytes: int = 0

    @classmethod
    def from_entry(cls, entry: Entry) -> DeadLetter:
        f = entry.fields

        def text(name: bytes) -> str:
            return f.get(name, b"").decode(errors="replace")

        original = _suffixed(f, ORIGINAL_PREFIX)
        lengths, hashes = _suffixed(f, LENGTH_PREFIX), _suffixed(f, SHA256_PREFIX)
        cut = {
            name: CutField(int(length.decode() or 0), hashes.get(name, b"").decode())
            for name, length in lengths.items()
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
            cut=cut,
            size_bytes=sum(len(k) + len(v) for k, v in f.items()),
        )

    @property
    def kind(self) -> str:
        return self.original.get(b"kind", b"").decode(errors="replace")

    @property
    def complete(self) -> bool:
        """Whether the original is kept whole (only then can it be retried)."""
        return not self.cut


def _suffixed(fields: Fields, prefix: bytes) -> Fields:
    return {k[len(prefix) :]: v for k, v in fields.items() if k.startswith(prefix)}
