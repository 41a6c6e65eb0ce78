"""Stream entry ids (``<ms>-<seq>``): parsing, comparing and building from times."""

from __future__ import annotations

EntryId = tuple[int, int]
ZERO_ID: EntryId = (0, 0)


def parse_id(entry_id: str, *, for_end: bool = False) -> EntryId:
    """``"1700-3"`` -> (1700, 3); a bare ms value is the first (or, as an end, the last) id."""
    if entry_id == "-":
        return ZERO_ID
    if entry_id == "+":
        return (2**63, 2**63)
    ms, sep, seq = entry_id.partition("-")
    try:
        if not sep:
            return (int(ms), 2**63 if for_end else 0)
        return (int(ms), int(seq))
    except ValueError:
        raise ValueError(f"stream entry id {entry_id!r} is not of the form <ms>-<seq>") from None


def format_id(entry_id: EntryId) -> str:
    return f"{entry_id[0]}-{entry_id[1]}"


def id_at_ns(ts_ns: int) -> str:
    """The smallest entry id at or after a time (entry ids carry milliseconds)."""
    return f"{ts_ns // 1_000_000}-0"
