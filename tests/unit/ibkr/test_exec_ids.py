"""IB execution ids: a correction is the same execution under a later revision."""

from __future__ import annotations

from quantrail.ibkr.exec_ids import exec_base, exec_revision, is_correction, latest_revisions


def test_the_base_and_revision_order_corrections() -> None:
    assert exec_base("0000e0d5.00000001.01.02") == "0000e0d5.00000001.01"
    assert exec_revision("a.01.02") > exec_revision("a.01.01")
    assert exec_revision("a.01.10") > exec_revision("a.01.09")
    assert exec_revision("a.01.100") > exec_revision("a.01.99")  # more digits: later
    assert is_correction("a.01.02", {"a.01": "a.01.01"})
    assert not is_correction("a.01.01", {"a.01": "a.01.01"})


def test_the_latest_revision_of_each_execution_is_kept() -> None:
    ids = ["a.01.02", "a.01.01", "b.01.01", "a.01.03"]
    assert latest_revisions(ids) == {"a.01": "a.01.03", "b.01": "b.01.01"}
