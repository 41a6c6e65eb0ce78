from decimal import Decimal

import pytest

from kit.marketdata import T0_NS
from quantrail.marketdata.synthetic import (
    OFF_EXCHANGE_VENUES,
    TRADING_DAY_S,
    SymbolSpec,
    SyntheticMarket,
    default_universe,
)
from quantrail.marketdata.types import MarketEvent, Print, Quote

S = 1_000_000_000
HOUR_NS = 3_600 * S


def one_hour(seed: int, symbols: int = 12) -> list[MarketEvent]:
    market = SyntheticMarket(default_universe(symbols, groups=6), seed=seed, start_ns=T0_NS)
    return list(market.events_until(T0_NS + HOUR_NS))


@pytest.fixture(scope="module")
def hour() -> list[MarketEvent]:
    return one_hour(seed=42)


def test_same_seed_gives_identical_sequence(hour: list[MarketEvent]) -> None:
    assert one_hour(seed=42) == hour


def test_different_seed_gives_a_different_sequence(hour: list[MarketEvent]) -> None:
    assert one_hour(seed=43) != hour


def test_events_are_in_time_order_within_the_range(hour: list[MarketEvent]) -> None:
    times = [event.ts_ns for event in hour]
    assert times == sorted(times)
    assert times[0] >= T0_NS and times[-1] < T0_NS + HOUR_NS


def test_quotes_have_bid_below_ask_and_displayed_sizes_in_round_lots(
    hour: list[MarketEvent],
) -> None:
    quotes = [e for e in hour if isinstance(e, Quote)]
    assert quotes
    assert all(Decimal(0) < q.bid < q.ask for q in quotes)
    assert all(q.bid_size > 0 and q.ask_size > 0 for q in quotes)
    assert all(q.bid_size % 100 == 0 and q.ask_size % 100 == 0 for q in quotes)
    assert all(Decimal("0.01") <= q.spread <= Decimal("0.05") for q in quotes)


def test_prints_are_positive_and_mix_odd_and_round_lots(hour: list[MarketEvent]) -> None:
    prints = [e for e in hour if isinstance(e, Print)]
    assert all(p.price > 0 and p.size > 0 for p in prints)
    sizes = {p.size for p in prints}
    assert any(size < 100 for size in sizes)
    assert any(size % 100 == 0 for size in sizes)
    assert any(size > 100 and size % 100 != 0 for size in sizes)


def test_prints_trade_within_the_quote_in_force(hour: list[MarketEvent]) -> None:
    in_force: dict[str, Quote] = {}
    prints = 0
    for event in hour:
        if isinstance(event, Quote):
            in_force[event.symbol] = event
            continue
        quote = in_force[event.symbol]  # every symbol quotes before it prints
        assert quote.bid <= event.price <= quote.ask
        prints += 1
    assert prints > 0


def test_excludable_off_exchange_venue_and_half_cent_prints_occur(
    hour: list[MarketEvent],
) -> None:
    prints = [e for e in hour if isinstance(e, Print)]
    assert any(p.venue in OFF_EXCHANGE_VENUES for p in prints)
    assert any(p.venue not in OFF_EXCHANGE_VENUES for p in prints)
    assert any(p.price.as_tuple().exponent == -3 for p in prints)


def test_every_symbol_quotes_at_the_first_step(hour: list[MarketEvent]) -> None:
    first_step = {e.symbol for e in hour if isinstance(e, Quote) and e.ts_ns < T0_NS + S}
    assert first_step == {spec.symbol for spec in default_universe(12, groups=6)}


def test_chunked_calls_equal_one_call(hour: list[MarketEvent]) -> None:
    market = SyntheticMarket(default_universe(12, groups=6), seed=42, start_ns=T0_NS)
    chunked: list[MarketEvent] = []
    for end in (T0_NS + 7 * S + S // 3, T0_NS + 1_000 * S, T0_NS + HOUR_NS):
        chunked.extend(market.events_until(end))
    assert chunked == hour


def test_abandoned_iterator_loses_nothing(hour: list[MarketEvent]) -> None:
    market = SyntheticMarket(default_universe(12, groups=6), seed=42, start_ns=T0_NS)
    head = []
    for event in market.events_until(T0_NS + HOUR_NS):
        head.append(event)
        if len(head) == 5:
            break
    assert head + list(market.events_until(T0_NS + HOUR_NS)) == hour


def test_a_symbol_path_does_not_depend_on_the_rest_of_the_universe() -> None:
    universe = default_universe(12, groups=6)
    alone = SyntheticMarket(universe[:1], seed=5, start_ns=T0_NS)
    among = SyntheticMarket(universe, seed=5, start_ns=T0_NS)
    symbol = universe[0].symbol
    mine = [e for e in among.events_until(T0_NS + 600 * S) if e.symbol == symbol]
    assert list(alone.events_until(T0_NS + 600 * S)) == mine


def test_daily_volume_is_near_average_daily_volume() -> None:
    universe = default_universe(6, groups=6)
    market = SyntheticMarket(universe, seed=1, start_ns=T0_NS, step_ns=10 * S)
    volume = sum(
        e.size for e in market.events_until(T0_NS + TRADING_DAY_S * S) if isinstance(e, Print)
    )
    expected = sum(spec.adv for spec in universe)
    assert 0.6 * expected < volume < 1.4 * expected


def test_default_universe_is_readable_and_spread_over_groups() -> None:
    universe = default_universe()
    assert len(universe) == 36
    assert len({spec.symbol for spec in universe}) == 36
    assert universe[0].symbol == "QBK-PA" and universe[6].symbol == "QBK-PB"
    groups = {spec.group for spec in universe}
    assert len(groups) == 6
    assert all(sum(s.group == g for s in universe) == 6 for g in groups)
    assert all(Decimal(20) <= s.start_price < Decimal(30) for s in universe)
    assert universe[1].start_price == Decimal("23.89")


def test_default_universe_limits_name_the_argument() -> None:
    with pytest.raises(ValueError, match="groups: at most 8, got 9"):
        default_universe(36, groups=9)
    with pytest.raises(ValueError, match="n: must be >= 6, got 3"):
        default_universe(3, groups=6)


def test_bad_specs_and_arguments_name_field_and_value() -> None:
    with pytest.raises(ValueError, match="start_price: must be a Decimal >= 1"):
        SymbolSpec("PFA", "BANKS", Decimal("0.5"), Decimal("0.01"), 1_000)
    with pytest.raises(ValueError, match="adv: must be an int >= 0, got -1"):
        SymbolSpec("PFA", "BANKS", Decimal(25), Decimal("0.01"), -1)
    spec = SymbolSpec("PFA", "BANKS", Decimal(25), Decimal("0.01"), 1_000)
    with pytest.raises(ValueError, match=r"symbols: each symbol once, got duplicates \['PFA'\]"):
        SyntheticMarket([spec, spec], seed=1, start_ns=T0_NS)
    with pytest.raises(ValueError, match="step_ns: must be >= 2, got 0"):
        SyntheticMarket([spec], seed=1, start_ns=T0_NS, step_ns=0)
