"""Dead-letter records: a capped original that still names its length and hash; the split."""

from __future__ import annotations

import hashlib

from quantrail.bus.deadletter import DeadLetter, capped_original, dead_letter_fields
from quantrail.bus.transport import Entry
from quantrail.bus.violation import RuleViolation, is_rule_violation
from quantrail.ledger.books import FillConflictError, LedgerInputError


def letter_of(original: dict[bytes, bytes], cap: int, error: str = "bad") -> DeadLetter:
    fields = dead_letter_fields(
        Entry("ns:s", "1-0", original),
        stream="s",
        group="g",
        consumer="c",
        error=error,
        deliveries=1,
        ts_ns=5,
        max_original_bytes=cap,
    )
    return DeadLetter.from_entry(Entry("ns:system.deadletter", "2-0", fields))


def test_an_original_within_the_cap_is_kept_whole_and_can_be_retried() -> None:
    original = {b"kind": b"k", b"payload": b"x" * 100}
    letter = letter_of(original, cap=1024)
    assert letter.original == original and letter.complete and letter.cut == {}


def test_a_field_beyond_the_cap_keeps_its_start_its_length_and_its_sha256() -> None:
    payload = bytes(range(256)) * 40  # 10,240 bytes
    letter = letter_of({b"kind": b"kind", b"payload": payload, b"key": b"k1"}, cap=1024)
    assert letter.original[b"kind"] == b"kind"
    assert letter.original[b"payload"] == payload[:1020]
    assert letter.original[b"key"] == b""  # nothing left of the budget, but still named
    assert letter.cut[b"payload"].length == 10_240
    assert letter.cut[b"payload"].sha256 == hashlib.sha256(payload).hexdigest()
    assert letter.cut[b"key"].length == 2
    assert sum(len(v) for v in letter.original.values()) <= 1024
    assert not letter.complete


def test_the_cap_applies_to_the_values_of_all_fields_together() -> None:
    kept = capped_original({b"a": b"1" * 600, b"b": b"2" * 600}, 1000)
    assert kept[b"orig.a"] == b"1" * 600 and kept[b"orig.b"] == b"2" * 400
    assert kept[b"orig_len.b"] == b"600"


def test_a_huge_error_message_is_cut_and_says_so() -> None:
    letter = letter_of({b"kind": b"k"}, cap=1024, error="e" * 10_000)
    assert len(letter.error) < 4200 and letter.error.endswith("(5904 more characters cut)")


def test_ledger_input_errors_are_rule_violations_and_plain_errors_are_not() -> None:
    assert is_rule_violation(LedgerInputError("fill 'f': fee must be ..."))
    assert is_rule_violation(FillConflictError("fill 'f': already booked"))
    assert isinstance(LedgerInputError("x"), ValueError)  # callers catching ValueError still do
    assert not is_rule_violation(ValueError("x")) and not is_rule_violation(OSError("db"))
    try:
        try:
            raise LedgerInputError("inner")
        except LedgerInputError as exc:
            raise RuntimeError("wrapped") from exc
    except RuntimeError as outer:
        assert is_rule_violation(outer)
    assert issubclass(LedgerInputError, RuleViolation)
