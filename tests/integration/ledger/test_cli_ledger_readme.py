"""The README's ledger example runs as written, and a day is never booked against no baseline.

``ledger book`` for a day without a BefDay snapshot stops naming the account, the day and the
command that takes it, unless the config names the account's baseline file: then it takes the
snapshot from that file and says so.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kit.ledger import DAY
from quantrail.cli import app
from quantrail.ledger.store import LedgerStore

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = ROOT / "examples"
FILLS = str(EXAMPLES / "fills_HAMMER.csv")


def cli(*args: str) -> tuple[int, str]:
    result = CliRunner(env={"COLUMNS": "200"}).invoke(app, list(args))
    return result.exit_code, result.output


def config_file(tmp_path: Path, baseline: str | None) -> str:
    path = tmp_path / "q.yaml"
    extra = f", baseline: {baseline}" if baseline else ""
    path.write_text(f"risk:\n  accounts:\n    - {{name: HAMMER, equity: 1000000{extra}}}\n")
    return str(path)


def test_booking_a_day_without_a_snapshot_stops_and_books_nothing(
    store_url: str, tmp_path: Path
) -> None:
    code, out = cli("ledger", "book", FILLS, "--db", store_url, "-c", config_file(tmp_path, None))
    assert code == 2, out
    assert "no befday snapshot for HAMMER on 2025-03-03" in out
    assert "quantrail snapshot befday HAMMER --date 2025-03-03 --from" in out
    with LedgerStore.open(store_url) as store:
        assert store.load_snapshot("HAMMER", DAY) is None
        assert store.count_fills("HAMMER") == 0


def test_booking_takes_the_configured_baseline_and_says_so(store_url: str, tmp_path: Path) -> None:
    baseline = str(EXAMPLES / "befday_HAMMER.csv")
    config = config_file(tmp_path, baseline)
    code, out = cli("ledger", "book", FILLS, "--db", store_url, "-c", config)
    assert code == 0, out
    assert f"befday HAMMER 2025-03-03: taken from {baseline} (risk.accounts baseline)" in out
    code, out = cli("report", "eod", "HAMMER", "--date", "2025-03-03", "--db", store_url,
                    "-c", config)  # fmt: skip
    assert code == 0, out
    assert json.loads(out)["baseline_realized_pnl"] == "400.00"


def readme_ledger_commands() -> list[list[str]]:
    """The commands of the README's ledger example (the block after 'The ledger by hand')."""
    text = (ROOT / "README.md").read_text()
    block = re.search(r"The ledger by hand.*?```bash\n(.*?)```", text, re.S)
    assert block is not None, "README: no 'The ledger by hand' example"
    lines = [line.split("#")[0].strip() for line in block.group(1).splitlines()]
    return [shlex.split(line)[1:] for line in lines if line.startswith("quantrail ")]


def test_the_readme_ledger_example_runs_as_written_from_a_fresh_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copytree(EXAMPLES, tmp_path / "examples")
    shutil.copy(ROOT / "quantrail.yaml", tmp_path / "quantrail.yaml")  # a copy of the repository
    monkeypatch.chdir(tmp_path)
    for var in ("QUANTRAIL_DB_URL", "QUANTRAIL_REDIS_URL", "QUANTRAIL_TRANSPORT"):
        monkeypatch.delenv(var, raising=False)
    outputs = []
    commands = readme_ledger_commands()
    assert [c[:2] for c in commands][:3] == [["snapshot", "befday"], ["ledger", "book"],
                                              ["report", "eod"]]  # fmt: skip
    for command in commands:
        code, out = cli(*command)
        assert code == 0, f"{command}: {out}"
        outputs.append(out)
    report = json.loads(outputs[2])
    assert (report["baseline_realized_pnl"], report["realized_intraday_pnl"]) == ("400.00", "80.00")
