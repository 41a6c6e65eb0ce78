"""A user error is one line naming the problem, exit 2; a traceback only with ``--debug``."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from quantrail.cli import app


def run(*args: str) -> tuple[int, str, BaseException | None]:
    result = CliRunner(env={"COLUMNS": "200"}).invoke(app, list(args))
    return result.exit_code, result.output, result.exception


@pytest.fixture
def missing_baseline(tmp_path: Path) -> str:
    path = tmp_path / "q.yaml"
    path.write_text("risk:\n  accounts:\n    - {name: H, equity: 1000, baseline: nowhere.csv}\n")
    return str(path)


def test_up_with_a_missing_baseline_file_is_one_line(missing_baseline: str) -> None:
    code, out, _ = run("up", "-c", missing_baseline)
    assert code == 2, out
    lines = out.strip().splitlines()
    assert len(lines) == 1, out
    assert "nowhere.csv" in lines[0] and "baseline file not found" in lines[0]
    assert "Traceback" not in out and "│" not in out


def test_an_escaping_error_is_one_line_and_debug_shows_the_traceback(tmp_path: Path) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    code, out, _ = run("schema", "--out", str(blocked / "schemas"))
    assert code == 2, out
    assert out.startswith("error: ") and len(out.strip().splitlines()) == 1, out
    assert "a-file" in out and "Traceback" not in out
    code, _, exception = run("--debug", "schema", "--out", str(blocked / "schemas"))
    assert code != 0 and isinstance(exception, OSError)


def test_demo_with_too_few_symbols_names_the_option() -> None:
    code, out, _ = run("demo", "--symbols", "3")
    assert code == 2, out
    assert "--symbols" in out and "Traceback" not in out
    assert "n: must be" not in out
