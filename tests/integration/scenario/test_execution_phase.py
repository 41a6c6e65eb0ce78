"""The execution phase: duplicate intents, a redelivered decision and an execution restart, on
both transports; a broken invariant fails a scenario; a bad ``inject`` item exits 2."""

from __future__ import annotations

import io
from collections import Counter
from pathlib import Path

import pytest
from rich.console import Console

from quantrail.scenario.command import run_paths
from quantrail.scenario.format import load_scenario
from quantrail.scenario.runner import ScenarioResult, run_scenario

TABLE = Path(__file__).resolve().parents[3] / "scenarios" / "table"
NEW = ["duplicate_intent_same_id_one_order", "duplicate_decision_redelivered",
       "restart_execution_mid_order"]  # fmt: skip
SEED_C = TABLE.parent / "seeds" / "c_close_110_hard_derisk.yaml"


async def run(stem: str, request: pytest.FixtureRequest, transport: str) -> ScenarioResult:
    url = request.getfixturevalue("redis_url") if transport == "redis" else None
    path = TABLE / f"{stem}.yaml"
    result = await run_scenario(load_scenario(path), str(path), redis_url=url)
    assert result.passed, "\n".join(result.diff)
    assert result.seen.execution is not None
    return result


def console() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, width=200, color_system=None), out


@pytest.mark.parametrize("transport", ["memory", "redis"])
@pytest.mark.parametrize("stem", NEW)
async def test_each_new_scenario_passes(
    stem: str, transport: str, request: pytest.FixtureRequest
) -> None:
    result = await run(stem, request, transport)
    execution = result.seen.execution
    assert execution is not None
    assert len(execution.orders) == len(result.seen.distinct_intents) == len(execution.intent_ids)


@pytest.mark.parametrize("transport", ["memory", "redis"])
async def test_an_intent_injected_twice_is_one_intent_with_one_order(
    transport: str, request: pytest.FixtureRequest
) -> None:
    result = await run(NEW[0], request, transport)
    execution = result.seen.execution
    assert execution is not None
    assert Counter(i.intent_id for i in result.seen.intents)["desk-pfc-1"] == 2
    assert [o.qty for o in execution.orders if o.intent_id == "desk-pfc-1"] == [200]


@pytest.mark.parametrize("transport", ["memory", "redis"])
async def test_a_redelivered_decision_plans_nothing_new(
    transport: str, request: pytest.FixtureRequest
) -> None:
    result = await run(NEW[1], request, transport)
    assert len(result.seen.intents) == 2  # not even a repeat of the same ids


@pytest.mark.parametrize("transport", ["memory", "redis"])
async def test_a_restart_mid_order_keeps_one_order_and_distinct_fills(
    transport: str, request: pytest.FixtureRequest
) -> None:
    result = await run(NEW[2], request, transport)
    execution = result.seen.execution
    assert execution is not None and execution.restarts == 1
    pfa = next(i.intent_id for i in result.seen.intents if i.symbol == "PFA")
    (order,) = [o for o in execution.orders if o.intent_id == pfa]
    fills = [f for f in execution.fills if f.order_id == order.order_id]
    # one round lot against a 60-share bid: 60 before the restart, 40 after it
    assert (order.qty, [f.qty for f in fills]) == (100, [60, 40])
    assert len({f.fill_id for f in fills}) == 2


async def test_a_scenario_breaking_an_invariant_fails_with_its_diff_lines(tmp_path: Path) -> None:
    fills = "".join(
        f"  - kind: trades.order.filled\n    payload: {{account: OTHER, order_id: ghost-1, "
        f"symbol: PFZ, side: BUY, qty: 100, order_type: MARKET, bucket: LT, fill_id: ghost-F1, "
        f"last_qty: 100, last_price: 25.00, cum_qty: 100, leaves_qty: 0, avg_price: 25.00, "
        f"idempotency_key: ghost-{n}}}\n"
        for n in (1, 2)
    )
    broken = tmp_path / "broken.yaml"
    broken.write_text(SEED_C.read_text().replace("expect:", f"inject:\n{fills}expect:"))
    out_console, out = console()
    assert await run_paths([broken], out_console) == 1
    text = out.getvalue()
    assert "fill duplicated: fill id ghost-F1 appears 2 times" in text
    assert "overfill: order ghost-1 filled 200 of qty 100" in text
    assert "0 passed, 1 failed" in text


async def test_an_unknown_inject_kind_exits_2_naming_the_key(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    text = SEED_C.read_text().replace("expect:", "inject:\n  - {kind: rewind}\nexpect:")
    bad.write_text(text)
    out_console, out = console()
    assert await run_paths([bad], out_console) == 2
    assert "'inject.0.kind'" in out.getvalue() and "'rewind'" in out.getvalue()
    assert "bad.yaml" in out.getvalue()
