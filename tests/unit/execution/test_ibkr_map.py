"""IB's statuses and error codes as we read them."""

from __future__ import annotations

import pytest

from quantrail.execution.venues.ibkr_map import (
    ErrorKind,
    StatusMeaning,
    error_kind,
    exec_base,
    is_correction,
    status_meaning,
)


@pytest.mark.parametrize(
    ("status", "meaning"),
    [
        ("PendingSubmit", StatusMeaning.NONE), ("ApiPending", StatusMeaning.NONE),
        ("PreSubmitted", StatusMeaning.ACCEPTED), ("Submitted", StatusMeaning.ACCEPTED),
        ("PendingCancel", StatusMeaning.NONE), ("Cancelled", StatusMeaning.CANCELED),
        ("ApiCancelled", StatusMeaning.CANCELED), ("Filled", StatusMeaning.NONE),
        ("Inactive", StatusMeaning.REJECTED), ("SomethingNew", StatusMeaning.NONE),
    ],
)  # fmt: skip
def test_every_ib_status_has_a_meaning(status: str, meaning: StatusMeaning) -> None:
    assert status_meaning(status) is meaning


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        (2104, ErrorKind.INFO), (2106, ErrorKind.INFO), (2158, ErrorKind.INFO),
        (1100, ErrorKind.CONNECTIVITY), (1102, ErrorKind.RESTORED), (201, ErrorKind.REJECTED),
        (103, ErrorKind.REJECTED), (10148, ErrorKind.CANCEL_REJECTED), (202, ErrorKind.CANCELED),
        (9999, ErrorKind.WARNING),
    ],
)  # fmt: skip
def test_error_codes_are_classed_by_what_they_mean_for_us(code: int, kind: ErrorKind) -> None:
    assert error_kind(code) is kind


def test_a_correction_shares_the_base_of_the_execution_it_revises() -> None:
    assert exec_base("0000e0d5.00000001.01.02") == "0000e0d5.00000001.01"
    seen = {"0000e0d5.00000001.01": "0000e0d5.00000001.01.01"}
    assert is_correction("0000e0d5.00000001.01.02", seen)
    assert not is_correction("0000e0d5.00000001.01.01", seen)
