"""The ledger verbs through the command line (typer's CliRunner, in process, real databases)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kit.ledger import DAY
from quantrail.cli import app
from quantrail.ledger.store import LedgerStore

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
BEFDAY = str(EXAMPLES / "befday_HAMMER.csv")
FILLS = str(EXAMPLES / "fills_HAMMER.csv")
MARKS = str(EXAMPLES / "marks_HAMMER.csv")
D = ("--date", "2025-03-03")


@pytest.fixture
def config(tmp_path: Path) -> str:
    """A config of its own (not the repository's quantrail.yaml): three accounts, no files."""
    path = tmp_path / "quantrail.yaml"
    path.write_text(
        "risk:\n  accounts:\n"
        + "".join(
            f"    - {{name: {name}, equity: 1000000}}\n"
            for name in ("HAMMER", "IBKR_GUN", "IBKR_PED")
        )
    )
    return str(path)


def cli(config: str, *args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = CliRunner(env={"COLUMNS": "200", **(env or {})}).invoke(app, [*args, "-c", config])
    return result.exit_code, result.output


def test_befday_is_idempotent_and_force_replaces_with_an_audit_row(
    store_url: str, config: str, tmp_path: Path
) -> None:
    code, out = cli(config, "snapshot", "befday", "HAMMER", *D, "--from", BEFDAY, "--db", store_url)
    assert code == 0, out
    assert "befday HAMMER 2025-03-03: created from" in out and "ABC -500, XYZ 1000" in out

    other = tmp_path / "other.csv"
    other.write_text("symbol,qty,bucket,prior_close\nXYZ,400,LT,25.20\n")
    code, out = cli(
        config, "snapshot", "befday", "HAMMER", *D, "--from", str(other), "--db", store_url
    )
    assert code == 0, out
    assert "a snapshot exists already (2 positions: ABC -500, XYZ 1000); kept" in out
    with LedgerStore.open(store_url) as store:
        assert [p.qty for p in store.load_snapshot("HAMMER", DAY).positions] == [-500, 1000]
        assert store.journal.audit_records() == []

    code, out = cli(
        config,
        "snapshot",
        "befday",
        "HAMMER",
        *D,
        "--from",
        str(other),
        "--force",
        "--db",
        store_url,
    )
    assert code == 0, out
    assert "replaced from" in out and "audit befday.snapshot.replaced" in out
    with LedgerStore.open(store_url) as store:
        [audit] = store.journal.audit_records("HAMMER")
        held = [(p.symbol, p.qty) for p in store.load_snapshot("HAMMER", DAY).positions]
    assert held == [("XYZ", 400)]
    assert audit.action == "befday.snapshot.replaced"
    assert audit.detail["old_positions"] == [
        ["ABC", -500, "LT", "40.00"],
        ["XYZ", 1000, "LT", "25.00"],
    ]
    assert audit.detail["new_positions"] == [["XYZ", 400, "LT", "25.20"]]


def test_book_a_fill_file_then_report_the_hand_day(
    store_url: str, config: str, tmp_path: Path
) -> None:
    cli(config, "snapshot", "befday", "HAMMER", *D, "--from", BEFDAY, "--db", store_url)

    code, out = cli(config, "ledger", "book", FILLS, "--db", store_url)
    assert code == 0, out
    assert "booked 5 fills, 0 already booked (HAMMER 2025-03-03: 5)" in out
    code, out = cli(config, "ledger", "book", FILLS, "--db", store_url)  # replayed by hand again
    assert code == 0 and "booked 0 fills, 5 already booked" in out, out

    code, out = cli(config, "report", "eod", "HAMMER", *D, "--marks", MARKS, "--db", store_url)
    assert code == 0, out
    data = json.loads(out)
    # The worked example of docs/ledger.md: 80.00 intraday, 400.00 baseline, 5 x 0.35 fees,
    # 100.00 unrealized at XYZ 25.50 / ABC 39.00.
    assert (
        data["realized_intraday_pnl"],
        data["baseline_realized_pnl"],
        data["fees"],
        data["net_realized_pnl"],
        data["unrealized_pnl"],
    ) == ("80.00", "400.00", "1.75", "478.25", "100.00")
    assert data["by_class"]["LT_LONG_INCREASE"] == {
        "count": 2,
        "shares": 600,
        "notional": "19380.00",
        "fees": "0.48",
    }
    assert data["positions_end"] == {"ABC": 300, "DEF": 0, "XYZ": 500}

    html, csv_out = tmp_path / "eod.html", tmp_path / "eod.csv"
    code, out = cli(
        config,
        "report",
        "eod",
        "HAMMER",
        *D,
        "--format",
        "html",
        "--dual",
        "--out",
        str(html),
        "--db",
        store_url,
    )
    assert code == 0 and f"to {html}" in out, out
    assert html.read_text().count("<svg") == 2
    code, out = cli(
        config,
        "report",
        "eod",
        "HAMMER",
        *D,
        "--format",
        "csv",
        "--out",
        str(csv_out),
        "--db",
        store_url,
    )
    assert code == 0, out
    assert "summary,,net_realized_pnl,478.25" in csv_out.read_text().splitlines()


def test_the_database_url_comes_from_the_environment_without_db(
    store_url: str, config: str
) -> None:
    env = {"QUANTRAIL_DB_URL": store_url}
    assert cli(config, "snapshot", "befday", "HAMMER", *D, "--from", BEFDAY, env=env)[0] == 0
    assert cli(config, "ledger", "book", FILLS, env=env)[0] == 0

    with LedgerStore.open(store_url) as store:
        assert store.count_fills("HAMMER") == 5


def test_a_bad_fill_file_names_the_file_line_column_and_value(
    store_url: str, config: str, tmp_path: Path
) -> None:
    bad = tmp_path / "fills.csv"
    lines = (EXAMPLES / "fills_HAMMER.csv").read_text().splitlines()
    lines[3] = lines[3].replace(",10.00,", ",ten,")
    bad.write_text("\n".join(lines) + "\n")

    code, out = cli(config, "ledger", "book", str(bad), "--db", store_url)

    assert code == 2
    assert f"{bad}, line 4, column 'price'" in out.replace("\n", "")
    assert "(value: 'ten')" in out
    with LedgerStore.open(store_url) as store:
        assert store.count_fills() == 0  # the whole file is checked before booking anything


def test_befday_carries_the_ledgers_previous_day_forward(store_url: str, config: str) -> None:
    cli(config, "snapshot", "befday", "HAMMER", *D, "--from", BEFDAY, "--db", store_url)
    cli(config, "ledger", "book", FILLS, "--db", store_url)

    code, out = cli(
        config,
        "snapshot",
        "befday",
        "HAMMER",
        "--date",
        "2025-03-04",
        "--marks",
        MARKS,
        "--db",
        store_url,
    )

    assert code == 0, out
    assert "created from the ledger's 2025-03-03 close (2 positions: ABC 300, XYZ 500)" in out
    assert "ABC 39.00 (given), XYZ 25.50 (given)" in out


def test_errors_are_clear_and_exit_non_zero(store_url: str, config: str) -> None:
    code, out = cli(config, "report", "eod", "HAMMER", *D, "--db", store_url)
    assert code == 1 and "account 'HAMMER' is unknown to the ledger" in out

    code, out = cli(config, "snapshot", "befday", "HAMMER", *D, "--db", store_url)
    assert code == 1 and "no day before 2025-03-03 to carry forward" in out

    code, out = cli(config, "snapshot", "befday", "NOBODY", *D, "--from", BEFDAY, "--db", store_url)
    assert code == 2 and "'NOBODY' is not in risk.accounts" in out

    code, out = cli(config, "report", "eod", "HAMMER", "--date", "3/3/25", "--db", store_url)
    assert code == 2 and "--date: expected YYYY-MM-DD (value: '3/3/25')" in out

    cli(config, "snapshot", "befday", "HAMMER", *D, "--from", BEFDAY, "--db", store_url)
    code, out = cli(config, "report", "eod", "HAMMER", *D, "--format", "pdf", "--db", store_url)
    assert code == 2 and "--format: expected one of json, csv, html (value: 'pdf')" in out
