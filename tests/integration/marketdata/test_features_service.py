"""The features service: a market file through the services, features equal to the calculators'."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from itertools import pairwise
from pathlib import Path

import pytest

from kit.bus import make_bus
from kit.features import CalculatorReference
from kit.marketdata import T0_NS
from quantrail.bus.bus import EventBus
from quantrail.config import Config
from quantrail.events.market import FeatureComputed, TradePrinted
from quantrail.marketdata.config import MarketDataConfig
from quantrail.marketdata.features import GRPAN, TRUTH_TICK
from quantrail.marketdata.features_service import (
    FeaturesService,
    build_features_service,
    settings_from,
)
from quantrail.marketdata.grpan import GrpanValue
from quantrail.marketdata.replay import read_market_file, write_market_file
from quantrail.marketdata.service import MarketDataService
from quantrail.marketdata.synthetic import SymbolSpec, SyntheticMarket
from quantrail.marketdata.types import Print
from quantrail.ops.services import build_services
from quantrail.runtime.clock import NS_PER_SECOND, SimulatedClock
from quantrail.runtime.simulation import Simulation

S = NS_PER_SECOND
MINUTES = 8
CONFIG = Config(marketdata=MarketDataConfig(features_min_interval_s=5.0, grpan_window=10))


def busy_symbols() -> list[SymbolSpec]:
    """Three symbols trading enough to move their features every few seconds."""
    return [
        SymbolSpec(f"QF{i}-PA", "G", Decimal("25.00") + i, Decimal("0.01"), 3_000_000)
        for i in range(3)
    ]


@pytest.fixture(scope="module")
def market_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("features") / "day.csv"
    market = SyntheticMarket(busy_symbols(), 11, T0_NS, S)
    write_market_file(path, market.events_until(T0_NS + MINUTES * 60 * S))
    return path


def file_prints(path: Path) -> list[Print]:
    return [item for item in read_market_file(path) if isinstance(item, Print)]


@pytest.fixture
async def sims() -> AsyncIterator[list[Simulation]]:
    started: list[Simulation] = []
    yield started
    for sim in started:
        await sim.stop()


async def run_day(
    bus: EventBus, path: Path, sims: list[Simulation], *, stop_after_s: int | None = None
) -> Simulation:
    """Market data from the file and the features service on a simulated clock through the day.

    With ``stop_after_s`` the features service stops that far into the day and a new one (a
    restart) takes the rest of the day."""
    clock = SimulatedClock(T0_NS)
    market = MarketDataService(iter(read_market_file(path)), tick_s=1.0)
    sim = await Simulation(bus, clock, [market, build_features_service(CONFIG)], CONFIG).start()
    sims.append(sim)
    end = T0_NS + (MINUTES * 60 + 1) * S
    if stop_after_s is not None:
        await sim.advance_to(T0_NS + stop_after_s * S, step=5.0)
        await sim.stop()
        await lose_last_features(bus, 4)
        sim = await Simulation(bus, clock, [market, FeaturesService(settings_from(CONFIG))],
                               CONFIG).start()  # fmt: skip
        sims.append(sim)
    await sim.advance_to(end, step=5.0)
    return sim


async def lose_last_features(bus: EventBus, count: int) -> None:
    """As if the service died after reading prints but before publishing their features."""
    entries = await bus.iter_range("market.feature")
    key = bus.names.key("market.feature")
    assert await bus.transport.delete(key, [e.entry_id for e in entries[-count:]]) == count


async def test_published_features_equal_the_calculators_on_the_same_prints(
    bus: EventBus, market_file: Path, sims: list[Simulation]
) -> None:
    sim = await run_day(bus, market_file, sims)
    features = await sim.events(FeatureComputed)
    reference = CalculatorReference(file_prints(market_file), settings_from(CONFIG))
    assert {f.name for f in features} == {TRUTH_TICK, GRPAN}
    assert len({f.symbol for f in features}) == 3 and len(features) > 100
    for feature in features:
        value = reference.at(feature.symbol, feature.ts_event)[feature.name]
        assert feature.value == value.price, feature
        if isinstance(value, GrpanValue):
            assert Decimal(feature.details["concentration"]) == value.concentration
            assert round(Decimal(feature.concentration or 0), 4) == value.concentration
            assert feature.window == value.ticks_used
            assert feature.details["band_volume"] == value.band_volume
        else:
            assert (feature.details["size"], feature.details["venue"]) == (value.size, value.venue)
    by_symbol: dict[str, list[int]] = {}
    for feature in features:
        by_symbol.setdefault(feature.symbol, []).append(feature.ts_event)
    for times in by_symbol.values():
        moments = sorted(set(times))
        assert all(b - a >= 5 * S for a, b in pairwise(moments))


async def test_a_replayed_day_and_a_restart_yield_the_same_features(
    redis_url: str, market_file: Path, sims: list[Simulation]
) -> None:
    runs: list[list[FeatureComputed]] = []
    for transport, stop_after_s in (("memory", None), ("redis", None), ("redis", 200)):
        bus = make_bus(transport, redis_url)
        try:
            sim = await run_day(bus, market_file, sims, stop_after_s=stop_after_s)
            runs.append(await sim.events(FeatureComputed))
        finally:
            for sim in sims:
                await sim.stop()
            sims.clear()
            await bus.close()
    first, again, restarted = runs
    assert first == again  # ids and keys included, on either transport
    # the restarted service published the 4 features lost with the "crash", and nothing twice
    assert [f.idempotency_key for f in restarted] == [f.idempotency_key for f in first]
    assert restarted == first


def test_quantrail_service_features_builds_the_features_service() -> None:
    clock = SimulatedClock(1_795_194_000 * S)  # 2026-11-20T12:00:00-05:00, a trading day
    built = build_services(CONFIG, make_bus("memory", None), clock, ["features"])
    assert [type(service) for service in built] == [FeaturesService]
    assert built[0].name == "features"


async def test_a_bad_print_is_skipped_and_the_rest_still_computes(
    bus: EventBus, sims: list[Simulation]
) -> None:
    service = build_features_service(CONFIG)
    sim = await Simulation(bus, SimulatedClock(T0_NS), [service], CONFIG).start()
    sims.append(sim)
    bad = TradePrinted(ts_event=T0_NS, symbol="PFA", price=Decimal("-1"), size=100)
    good = TradePrinted(ts_event=T0_NS + S, symbol="PFA", price=Decimal("25.10"), size=200)
    await sim.publish(bad, good)
    features = await sim.events(FeatureComputed)
    assert [(f.name, f.value) for f in features] == [
        (TRUTH_TICK, Decimal("25.10")),
        (GRPAN, Decimal("25.10")),
    ]
    assert service.health()["bad_prints"] == 1
