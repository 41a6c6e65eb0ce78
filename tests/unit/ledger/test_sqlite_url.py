"""A SQLite URL's one option, ``?synchronous=``: a scratch database's commits need not wait
for the disk (the backtest's); anything else is refused naming it."""

from __future__ import annotations

from pathlib import Path

import pytest

from quantrail.ledger.sql import connect


def _synchronous_of(url: str) -> int:
    backend = connect(url)
    try:
        with backend.transaction() as tx:
            return int(tx.rows("PRAGMA synchronous")[0][0])
    finally:
        backend.close()


def test_a_sqlite_url_may_say_its_commits_need_not_wait_for_the_disk(tmp_path: Path) -> None:
    plain = f"sqlite:///{tmp_path / 'a.sqlite'}"
    assert _synchronous_of(plain) == 2  # SQLite's default: FULL
    assert _synchronous_of(f"{plain}?synchronous=off") == 0
    assert _synchronous_of(f"{plain}?synchronous=NORMAL") == 1


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("synchronous=sometimes", "synchronous must be one of off, normal, full, extra"),
        ("journal=wal", "a sqlite URL takes only"),
    ],
)
def test_a_sqlite_url_with_a_bad_option_is_refused_naming_it(
    tmp_path: Path, query: str, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        connect(f"sqlite:///{tmp_path / 'a.sqlite'}?{query}")
