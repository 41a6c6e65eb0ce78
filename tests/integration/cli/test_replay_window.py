"""``replay --since/--until`` select by event time; ``--from-id/--to-id`` by entry id.

A day published on a simulated clock (exchange times of 2026-11-20) to the private redis-server:
its entry ids are today's wall clock, unrelated to its event times.
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from decimal import Decimal

import pytest
from typer.testing import CliRunner

from kit.bus import make_bus, new_namespace
from quantrail.bus.deadletter import dead_letter_fields
from quantrail.bus.transport import Entry
from quantrail.cli import app
from quantrail.config import Config
from quantrail.events.base import Event
from quantrail.events.market import FeatureComputed, TradePrinted
from quantrail.marketdata.config import MarketDataConfig
from quantrail.marketdata.features_service import build_features_service
from quantrail.marketdata.service import MarketDataService
from quantrail.marketdata.synthetic import SymbolSpec, SyntheticMarket
from quantrail.ops.redis_server import RedisServer
from quantrail.runtime.clock import NS_PER_SECOND, SimulatedClock
from quantrail.runtime.simulation import Simulation

runner = CliRunner(env={"COLUMNS": "1000"})
S = NS_PER_SECOND
OPEN = "2026-11-20T09:30:00-05:00"
WINDOW = ("2026-11-20T09:36:00-05:00", "2026-11-20T09:41:30-05:00")


def ns(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp()) * S


def cli(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


async def publish_day(redis_url: str, namespace: str) -> dict[str, list[Event]]:
    """Fifteen minutes of two symbols' market data and features, on a simulated clock."""
    symbols = [SymbolSpec(f"QW{i}-PA", "G", Decimal("25.00"), Decimal("0.01"), 900_000)
               for i in range(2)]  # fmt: skip
    market = SyntheticMarket(symbols, 3, ns(OPEN), S)
    config = Config(marketdata=MarketDataConfig(features_min_interval_s=10.0))
    services = [
        MarketDataService(market.events_until(ns(OPEN) + 900 * S)),
        build_features_service(config),
    ]
    bus = make_bus("redis", redis_url, namespace)
    sim = await Simulation(bus, SimulatedClock(ns(OPEN)), services, config).start()
    try:
        await sim.advance(901, step=10.0)
        return {
            "market.trade": await sim.stream_events("market.trade"),
            "market.feature": await sim.stream_events("market.feature"),
        }
    finally:
        await sim.stop()
        await bus.close()


@pytest.fixture(scope="module")
def day(redis_server: RedisServer) -> tuple[str, str, dict[str, list[Event]]]:
    url, namespace = redis_server.url, new_namespace()
    return url, namespace, asyncio.run(publish_day(url, namespace))


def replayed_bodies(out: str) -> list[dict[str, object]]:
    """The events of a ``replay --json`` (one JSON object a line)."""
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def test_since_until_return_exactly_the_trades_of_the_window(
    day: tuple[str, str, dict[str, list[Event]]],
) -> None:
    url, namespace, events = day
    since, until = ns(WINDOW[0]), ns(WINDOW[1])
    trades = [e for e in events["market.trade"] if isinstance(e, TradePrinted)]
    inside = [e for e in trades if since <= e.ts_event < until]
    assert 10 < len(inside) < len(trades) - 10
    code, out = cli("replay", "market.trade", "--since", WINDOW[0], "--until", WINDOW[1],
                    "--json", "--redis", url, "-n", namespace)  # fmt: skip
    assert code == 0, out
    assert f"replayed {len(inside)} events" in out
    got = [(b["symbol"], b["ts_exchange_ns"], b["price"], b["size"]) for b in replayed_bodies(out)]
    assert got == [(e.symbol, e.ts_exchange_ns, str(e.price), e.size) for e in inside]


def test_since_until_return_exactly_the_features_of_the_window(
    day: tuple[str, str, dict[str, list[Event]]],
) -> None:
    url, namespace, events = day
    since, until = ns(WINDOW[0]), ns(WINDOW[1])
    features = [e for e in events["market.feature"] if isinstance(e, FeatureComputed)]
    inside = [e for e in features if since <= e.ts_event < until]
    assert inside and len(inside) < len(features)
    code, out = cli("replay", "market.feature", "--since", str(since), "--until", WINDOW[1],
                    "--redis", url, "-n", namespace)  # fmt: skip
    assert code == 0 and f"replayed {len(inside)} events" in out, out
    names = [line for line in out.splitlines() if "market.feature.computed" in line]
    assert len(names) == len(inside)
    code, out = cli("tail", "market.feature", "--from-start", "--limit", "2",
                    "--redis", url, "-n", namespace)  # fmt: skip
    assert code == 0 and "name=TRUTH_TICK" in out and "name=GRPAN" in out, out


def test_from_id_to_id_bound_entry_ids_and_since_refuses_an_entry_id(
    day: tuple[str, str, dict[str, list[Event]]],
) -> None:
    url, namespace, _events = day
    entries = asyncio.run(_entries(url, namespace, "market.trade"))
    first, last = entries[5].entry_id, entries[9].entry_id
    code, out = cli("replay", "market.trade", "--from-id", first, "--to-id", last,
                    "--redis", url, "-n", namespace)  # fmt: skip
    assert code == 0 and "replayed 5 events" in out, out
    code, out = cli("replay", "market.trade", "--since", first, "--redis", url, "-n", namespace)
    assert code == 2 and "is a stream entry id" in out and "--from-id" in out
    code, out = cli("replay", "market.trade", "--from-id", "nonsense", "--redis", url)
    assert code == 2 and "--from-id" in out and "nonsense" in out
    code, out = cli("replay", "market.trade", "--since", WINDOW[1], "--until", WINDOW[0],
                    "--redis", url, "-n", namespace)  # fmt: skip
    assert code == 2 and "--until: must be after --since" in out


async def _entries(url: str, namespace: str, stream: str) -> list[Entry]:
    bus = make_bus("redis", url, namespace)
    try:
        return await bus.iter_range(stream)
    finally:
        await bus.close()


def test_dlq_list_selects_by_when_the_failed_event_happened(redis_url: str) -> None:
    namespace = new_namespace()

    async def seed() -> None:
        bus = make_bus("redis", redis_url, namespace)
        for minute, alert in ((5, "early"), (7, "inside"), (15, "late")):
            original = {b"kind": b"system.alert.triggered", b"key": alert.encode(),
                        b"ts_event": str(ns(OPEN) + minute * 60 * S).encode(),
                        b"payload": b"{}"}  # fmt: skip
            fields = dead_letter_fields(
                Entry(bus.names.key("system.alert"), "1-0", original), stream="system.alert",
                group="g", consumer="c", error=ValueError(alert), deliveries=3, ts_ns=1,
            )  # fmt: skip
            await bus.transport.add([(bus.names.key("system.deadletter"), fields)], {})
        await bus.close()

    asyncio.run(seed())
    code, out = cli("dlq", "list", "--since", WINDOW[0], "--until", WINDOW[1],
                    "--redis", redis_url, "-n", namespace)  # fmt: skip
    assert code == 0, out
    assert "ValueError: inside" in out and "early" not in out and "late" not in out
    code, out = cli("dlq", "list", "--redis", redis_url, "-n", namespace)
    assert out.count("ValueError:") == 3
