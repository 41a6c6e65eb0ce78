"""The ledger's CLI says what really happened (real databases).

* ``ledger book`` of a file whose later row conflicts with a booked fill books nothing of the
  file (one transaction) and says so;
* ``report eod`` tells an unknown account from a day with no data.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from quantrail.cli import app
from quantrail.ledger.store import LedgerStore

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
BEFDAY = str(EXAMPLES / "befday_HAMMER.csv")
HEADER = "fill_id,account,ts,symbol,side,qty,price,fee,bucket\n"


@pytest.fixture
def config(tmp_path: Path) -> str:
    path = tmp_path / "quantrail.yaml"
    path.write_text("risk:\n  accounts:\n    - {name: HAMMER, equity: 1000000}\n")
    return str(path)


def cli(config: str, *args: str) -> tuple[int, str]:
    result = CliRunner(env={"COLUMNS": "300"}).invoke(app, [*args, "-c", config])
    return result.exit_code, " ".join(result.output.split())  # the console wraps long lines


def fill_row(fill_id: str, qty: int, time: str = "09:40:00") -> str:
    return f"{fill_id},HAMMER,2025-03-03T{time}-05:00,XYZ,BUY,{qty},25.10,0.35,LT\n"


def stored(store_url: str) -> int:
    with LedgerStore.open(store_url) as store:
        return store.count_fills()


def test_a_file_with_a_conflicting_later_row_books_nothing_and_says_so(
    store_url: str, config: str, tmp_path: Path
) -> None:
    # The day needs its baseline before any fill is booked (ledger book refuses otherwise).
    cli(config, "snapshot", "befday", "HAMMER", "--date", "2025-03-03", "--from", BEFDAY,
        "--db", store_url)  # fmt: skip
    first = tmp_path / "first.csv"
    first.write_text(HEADER + fill_row("f9", 100, "11:00:00"))
    code, out = cli(config, "ledger", "book", str(first), "--db", store_url)
    assert code == 0 and "booked 1 fills" in out, out

    second = tmp_path / "second.csv"  # two new rows, then f9 again with another quantity
    second.write_text(
        HEADER + fill_row("f1", 100) + fill_row("f2", 200, "10:00:00")
        + fill_row("f9", 999, "11:00:00")
    )  # fmt: skip
    code, out = cli(config, "ledger", "book", str(second), "--db", store_url)
    assert code == 2, out
    assert "line 4, column 'fill_id': nothing from this file was booked" in out
    assert "fill 'f9': already booked with different content" in out
    assert stored(store_url) == 1  # f1 and f2 were rolled back with the file


def test_report_eod_names_an_unknown_account_apart_from_a_day_with_no_data(
    store_url: str, config: str
) -> None:
    code, out = cli(config, "report", "eod", "NOBODY", "--date", "2025-03-03", "--db", store_url)
    assert code == 1
    assert "account 'NOBODY' is unknown to the ledger: no befday snapshot on any day" in out

    snap = ("snapshot", "befday", "HAMMER", "--date", "2025-03-03", "--from", BEFDAY)
    assert cli(config, *snap, "--db", store_url)[0] == 0
    code, out = cli(config, "report", "eod", "HAMMER", "--date", "2025-03-05", "--db", store_url)
    assert code == 1
    assert "account 'HAMMER': no data for 2025-03-05 (no befday snapshot that day;" in out
    assert "last before: 2025-03-03" in out and "unknown" not in out
