"""IB execution ids (pure): how a correction names the execution it replaces.

IB's ``Execution.execId`` documentation: "A correction is indicated by an ExecId which differs
from a previous ExecId in only the digits after the final period, e.g. an ExecId ending in
".02" would be a correction of a previous execution with an ExecId ending in ".01"."
(``docs/ibkr.md``, Execution corrections). The base (everything before the final period)
names the execution across its revisions; the revision orders them.
"""

from __future__ import annotations


def exec_base(exec_id: str) -> str:
    """``...01.02`` -> ``...01``: the execution an id is a revision of."""
    base, dot, _revision = exec_id.rpartition(".")
    return base if dot else exec_id


def exec_revision(exec_id: str) -> tuple[int, str]:
    """A sort key of the digits after the final period (``.02`` after ``.01``, ``.10`` after
    ``.09``): shorter digit strings first, then by text, so hex or zero-padded both order."""
    _base, dot, revision = exec_id.rpartition(".")
    text = revision if dot else ""
    return (len(text), text)


def is_correction(exec_id: str, seen: dict[str, str]) -> bool:
    """True when ``exec_id`` revises an execution already seen (``seen``: base -> exec id)."""
    earlier = seen.get(exec_base(exec_id))
    return earlier is not None and earlier != exec_id


def latest_revisions(exec_ids: list[str]) -> dict[str, str]:
    """Base -> the latest revision among ``exec_ids`` (what is booked for each execution)."""
    latest: dict[str, str] = {}
    for exec_id in exec_ids:
        base = exec_base(exec_id)
        known = latest.get(base)
        if known is None or exec_revision(exec_id) > exec_revision(known):
            latest[base] = exec_id
    return latest
