"""The shipped scenarios pass; a wrong expectation fails with a diff; a bad file is refused."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console

from quantrail.scenario.command import run_paths
from quantrail.scenario.format import load_scenario, scenario_files
from quantrail.scenario.runner import run_scenario

SCENARIOS = Path(__file__).resolve().parents[3] / "scenarios"
SHIPPED = scenario_files([SCENARIOS])


def console() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, width=200, color_system=None), out


def test_the_seeds_five_and_the_table_rows_are_shipped() -> None:
    names = {p.name for p in SHIPPED}
    assert {p.name for p in (SCENARIOS / "seeds").iterdir()} <= names
    assert len([n for n in names if n[0] in "abcde" and "_" in n]) >= 5
    assert any("stale" in n for n in names) and any("holiday" in n for n in names)
    assert any("early_close" in n for n in names)


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
async def test_shipped_scenario_passes_on_the_memory_bus(path: Path) -> None:
    result = await run_scenario(load_scenario(path), str(path))
    assert result.passed, "\n".join(result.diff)


async def test_seed_b_passes_on_redis_too(redis_url: str) -> None:
    path = SCENARIOS / "seeds" / "b_late_115_soft_derisk.yaml"
    result = await run_scenario(load_scenario(path), str(path), redis_url=redis_url)
    assert result.passed, "\n".join(result.diff)
    assert len(result.seen.intents) == 2


async def test_a_wrong_expectation_fails_with_a_diff(tmp_path: Path) -> None:
    wrong = tmp_path / "wrong.yaml"
    text = (SCENARIOS / "seeds" / "c_close_110_hard_derisk.yaml").read_text()
    wrong.write_text(text.replace("qty: 1600, price: 24.99", "qty: 1700, price: 24.99")
                     .replace("mode: HARD_DERISK", "mode: SOFT_DERISK"))  # fmt: skip
    out_console, out = console()
    code = await run_paths([wrong], out_console)
    text_out = out.getvalue()
    assert code == 1
    assert "FAIL" in text_out
    assert "mode: expected SOFT_DERISK, seen HARD_DERISK" in text_out
    assert "intent missing: SELL 1700 PFA @ 24.99 (seen for PFA: SELL 1600 PFA @ 24.99)" in text_out
    assert "0 passed, 1 failed" in text_out


async def test_all_passing_exits_0(tmp_path: Path) -> None:
    out_console, out = console()
    assert await run_paths([SCENARIOS / "seeds"], out_console) == 0
    assert "5 passed, 0 failed" in out.getvalue()


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("name: x\naccount: A\nequity: 1\nexpect: {mode: NORMAL}\n", "'at'"),
        ("name: x\nat: '2026-11-20T12:00:00-05:00'\naccount: A\nequity: 1\n"
         "expect: {mode: CALM}\n", "'expect.mode'"),
        ("name: x\nat: '2026-11-20T12:00:00-05:00'\naccount: A\nequity: 1\n"
         "expect: {mode: NORMAL}\nfoo: 1\n", "'foo'"),
        ("name: x\nat: '2026-11-20T12:00:00-05:00'\naccount: A\nequity: 1\n"
         "positions: [{symbol: P, qty: ten, bucket: LT, price: 1}]\nexpect: {mode: NORMAL}\n",
         "'positions.0.qty'"),
    ],
)  # fmt: skip
async def test_an_invalid_file_exits_2_naming_file_and_key(
    tmp_path: Path, text: str, named: str
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(text)
    out_console, out = console()
    assert await run_paths([bad], out_console) == 2
    assert named in out.getvalue() and "bad.yaml" in out.getvalue()
