"""The execution service on the IB venue: intents become IB orders, fills reach the ledger once,
and a restart between ``placeOrder`` and IB's answer sends no second order."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest

from kit.bus import make_bus, new_namespace
from kit.ledger import running
from kit.market_events import quote
from kit.order_events import intent, replace_order
from kit.poll import eventually
from quantrail.bus.bus import EventBus
from quantrail.config import Config, config_from_mapping
from quantrail.execution.order import order_id_for_intent
from quantrail.execution.registry import registry_for
from quantrail.execution.services import build_execution_service
from quantrail.ibkr.ibsim import IbGatewaySimulator
from quantrail.ledger.service import LedgerService
from quantrail.ledger.store import LedgerStore
from quantrail.runtime.clock import WallClock
from quantrail.vocab import OrderStatus, OrderType, Side

ACCOUNT, IB_ACCOUNT = "HAMMER", "DU0000001"


@pytest.fixture
def bus(three_way_bus: EventBus) -> EventBus:
    """Memory, a single Redis and the Redis Cluster (the IB id high-water mark and the
    registry in their slots there)."""
    return three_way_bus


@pytest.fixture
async def ibsim() -> AsyncIterator[IbGatewaySimulator]:
    simulator = await IbGatewaySimulator().start()
    yield simulator
    await simulator.stop()


def _config(port: int, db_url: str = "sqlite:///:memory:") -> Config:
    return config_from_mapping({
        "execution": {"venue": "ibkr"},
        "ibkr": {"port": port, "accounts": {ACCOUNT: IB_ACCOUNT}, "reconnect_backoff_s": [0.1]},
        "risk": {"accounts": [{"name": ACCOUNT, "equity": "1000000"}]},
        "db": {"url": db_url},
        "liquidity": {"min_interval_s": 0},  # a replace right after its order is no spam here
    })  # fmt: skip


def _market_intent(intent_id: str, qty: int = 100) -> object:
    return intent(
        side=Side.BUY, qty=qty, intent_id=intent_id, symbol="AAPL", account=ACCOUNT,
        order_type=OrderType.MARKET, limit_price=None,
    )  # fmt: skip


def _aapl_quote() -> object:
    """The touch execution sizes against (the LiquidityGuard's displayed-size cap)."""
    return quote(symbol="AAPL", bid="99.00", ask="99.02", bid_size=5000, ask_size=5000)


def _placed(ibsim: IbGatewaySimulator) -> list[list[str]]:
    return [fields for _at, fields in ibsim.received if fields[0] == "3"]


async def test_an_intent_ends_as_an_ib_order_and_one_fill_in_the_ledger_with_ibs_commission(
    ibsim: IbGatewaySimulator, bus: EventBus, tmp_path: Path
) -> None:
    db_url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    config = _config(ibsim.port, db_url)
    execution = build_execution_service(config, bus, WallClock())
    async with running(bus, LedgerService(db_url, config.risk.accounts)), running(bus, execution):
        await bus.publish(_aapl_quote())  # type: ignore[arg-type]
        await eventually(lambda: "AAPL" in execution.pretrade.quotes, what="the quote seen")  # type: ignore[attr-defined]
        await bus.publish(_market_intent("int-ib-1", qty=300))  # type: ignore[arg-type]
        our_id = order_id_for_intent("int-ib-1")
        await eventually(lambda: ibsim.book.executions, what="an execution at IB")
        with LedgerStore.open(db_url) as store:
            await eventually(lambda: store.count_fills(ACCOUNT) == 1, what="the fill booked")
    placed = _placed(ibsim)
    assert len(placed) == 1 and placed[0][26] == our_id  # orderRef is our order id
    execution_at_ib = ibsim.book.executions[0]
    with LedgerStore.open(db_url) as store:
        day = next(iter(store.snapshot_days(ACCOUNT)))
        fills = store.load_fills(ACCOUNT, day)
    assert [(f.fill_id, f.qty, f.fee) for f in fills] == [
        (execution_at_ib.exec_id, 300, Decimal("1.50"))  # IB's commission report as the fee
    ]


def _start_execution(config_path: Path, redis_url: str, namespace: str) -> subprocess.Popen[bytes]:
    # Its log goes to a file beside the config (a pipe nobody reads could fill and stop it).
    with (config_path.parent / "execution.log").open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "quantrail.cli", "service", "execution", "-c", str(config_path),
             "--redis", redis_url, "--instance", "x"],
            stdout=subprocess.DEVNULL, stderr=log,
            env={**os.environ, "QUANTRAIL_NAMESPACE": namespace},
        )  # fmt: skip


@pytest.mark.slow
async def test_kill_9_after_place_order_went_out_sends_no_second_order_after_restart(
    ibsim: IbGatewaySimulator, redis_url: str, tmp_path: Path
) -> None:
    namespace = new_namespace()
    config_path = tmp_path / "quantrail.yaml"
    config_path.write_text(
        "execution: {venue: ibkr}\n"
        f"ibkr: {{port: {ibsim.port}, accounts: {{{ACCOUNT}: {IB_ACCOUNT}}}, "
        "reconnect_backoff_s: [0.2]}\n"
        f"risk: {{accounts: [{{name: {ACCOUNT}, equity: '1000000'}}]}}\n"
    )
    bus = make_bus("redis", redis_url, namespace)
    ibsim.faults.silent = True  # IB takes the order and says nothing
    process = _start_execution(config_path, redis_url, namespace)
    try:
        await eventually(lambda: bus.read_range("system.health"), within=30, what="started")
        await bus.publish(_aapl_quote())  # type: ignore[arg-type]
        await bus.publish(_market_intent("int-crash"))  # type: ignore[arg-type]
        await eventually(lambda: ibsim.book.orders, within=30, what="the order at IB")
        os.kill(process.pid, signal.SIGKILL)
        await asyncio.to_thread(process.wait, 30)
        ibsim.faults.silent = False
        process = _start_execution(config_path, redis_url, namespace)
        our_id = order_id_for_intent("int-crash")
        registry = registry_for(bus)

        async def status() -> OrderStatus | None:
            order = await registry.get(our_id)
            return None if order is None else order.status

        await eventually(status, lambda s: s is OrderStatus.WORKING, within=30, what="adopted")
        await ibsim.set_quote("AAPL", Decimal("99.00"), Decimal("99.02"))  # now it fills
        await eventually(status, lambda s: s is OrderStatus.FILLED, within=30, what="filled")
        assert len(_placed(ibsim)) == 1
        assert len(ibsim.book.orders) == 1
    finally:
        if process.poll() is None:
            process.terminate()
            await asyncio.to_thread(process.wait, 30)
        await bus.close()


def _start_up(config: Path, redis_url: str, namespace: str, cwd: Path) -> subprocess.Popen[bytes]:
    # Its log goes to a file, not a pipe nobody reads while it runs: a full pipe would stop
    # the process at its next log line.
    with (cwd / "up.log").open("wb") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "quantrail.cli", "up", "-c", str(config), "--redis", redis_url,
             "--market", "ibkr", "--instance", "dry"],
            stdout=subprocess.DEVNULL, stderr=log,
            env={**os.environ, "QUANTRAIL_NAMESPACE": namespace}, cwd=cwd,
        )  # fmt: skip


@pytest.mark.slow
async def test_quantrail_up_runs_a_dry_run_against_the_simulator(
    ibsim: IbGatewaySimulator, redis_url: str, tmp_path: Path
) -> None:
    """Every service in one process, IB market data and the IB venue: quotes from the gateway
    reach the bus, and an order goes out and fills there."""
    namespace = new_namespace()
    config_path = tmp_path / "quantrail.yaml"
    config_path.write_text(
        "execution: {venue: ibkr}\n"
        f"ibkr: {{port: {ibsim.port}, accounts: {{{ACCOUNT}: {IB_ACCOUNT}}}, "
        "contracts: {AAPL: {}}}\n"
        f"risk: {{accounts: [{{name: {ACCOUNT}, equity: '1000000'}}]}}\n"
        f"db: {{url: 'sqlite:///{tmp_path / 'ledger.sqlite'}'}}\n"
    )
    process = _start_up(config_path, redis_url, namespace, tmp_path)
    bus = make_bus("redis", redis_url, namespace)
    try:
        await eventually(lambda: bus.read_range("market.quote"), within=60, what="IB quotes")
        await ibsim.set_quote("AAPL", Decimal("99.00"), Decimal("99.02"))  # a fresh touch
        await eventually(
            lambda: bus.read_range("market.quote"), lambda q: len(q) >= 2, within=30,
            what="the new quote",
        )  # fmt: skip
        await bus.publish(_market_intent("int-dry"))  # type: ignore[arg-type]
        await eventually(lambda: ibsim.book.executions, within=30, what="a fill at IB")
        assert ibsim.book.executions[0].order_ref == order_id_for_intent("int-dry")
    finally:
        process.terminate()
        code = await asyncio.to_thread(process.wait, 30)
        await bus.close()
    assert code == 0, (tmp_path / "up.log").read_text()


@pytest.mark.parametrize("refused", [False, True])
async def test_a_replace_modifies_at_ib_or_falls_back_to_cancel_then_new(
    ibsim: IbGatewaySimulator, bus: EventBus, refused: bool
) -> None:
    ibsim.faults.hold_fills = True
    ibsim.faults.refuse_modify = 201 if refused else None
    config = _config(ibsim.port)
    execution = build_execution_service(config, bus, WallClock())
    async with running(bus, execution):
        await bus.publish(_aapl_quote())  # type: ignore[arg-type]
        await eventually(lambda: "AAPL" in execution.pretrade.quotes)  # type: ignore[attr-defined]
        limit = intent(
            side=Side.BUY, qty=500, intent_id="int-mod", symbol="AAPL", account=ACCOUNT,
            limit_price=Decimal("90.00"),
        )  # fmt: skip
        await bus.publish(limit)
        old_id = order_id_for_intent("int-mod")
        registry = registry_for(bus)

        async def status(order_id: str) -> OrderStatus | None:
            order = await registry.get(order_id)
            return None if order is None else order.status

        await eventually(lambda: status(old_id), lambda s: s is OrderStatus.WORKING)
        await bus.publish(replace_order(order_id=old_id, qty=300, limit_price="90.50"))
        await eventually(lambda: status(old_id), lambda s: s is OrderStatus.CANCELED)
        old = await registry.get(old_id)
        assert old is not None and old.replaced_by_order_id
        new_id = old.replaced_by_order_id
        await eventually(lambda: status(new_id), lambda s: s is OrderStatus.WORKING)
    placed = [fields[1] for fields in _placed(ibsim)]
    if refused:  # canceled at IB, the successor placed as a new IB order
        assert len(set(placed)) == 2
        assert [f for _at, f in ibsim.received if f[0] == "4"]
    else:  # one IB order, modified in place to 300 at 90.50
        assert len(set(placed)) == 1 and len(placed) == 2
        sim_order = ibsim.book.orders[int(placed[0])]
        assert (sim_order.request.total_quantity, sim_order.request.lmt_price) == (
            300, Decimal("90.50"),
        )  # fmt: skip
