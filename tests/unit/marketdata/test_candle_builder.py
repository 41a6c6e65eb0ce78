"""The candle book (several timeframes, prints over quote mids) and the tick throttle."""

from __future__ import annotations

from decimal import Decimal

import pytest

from quantrail.marketdata.candle_builder import (
    CandleBook,
    PriceUpdate,
    TickThrottle,
    candle_event,
    tick_event,
)

S = 1_000_000_000
B = 1_700_000_040 * S  # a minute boundary (and a five-minute one is B + 60 s)
D = Decimal


def test_a_print_of_a_later_bucket_closes_the_candle_of_each_timeframe_it_ends() -> None:
    book = CandleBook(["1m", "5m"])
    assert book.on_trade("PFA", D("25.00"), 100, B + 1 * S) == []
    assert book.on_trade("PFA", D("25.10"), 200, B + 30 * S) == []
    closed = book.on_trade("PFA", D("25.05"), 100, B + 61 * S)
    five_start = B + 60 * S - 300 * S
    assert [(c.timeframe, c.candle.start_ns) for c in closed] == [("1m", B), ("5m", five_start)]
    candle = closed[0].candle
    assert (candle.open, candle.high, candle.low, candle.close, candle.volume) == (
        D("25.00"), D("25.10"), D("25.00"), D("25.10"), 300,
    )  # fmt: skip
    assert closed[0].key == f"candle:PFA:1m:{B}"
    # Inside the 5m bucket a later minute closes only the 1m candle.
    closed = book.on_trade("PFA", D("25.06"), 100, B + 121 * S)
    assert [(c.timeframe, c.candle.start_ns) for c in closed] == [("1m", B + 60 * S)]


def test_flush_closes_a_quiet_symbols_candle_once_its_bucket_has_ended() -> None:
    book = CandleBook(["1m"])
    book.on_trade("PFA", D("25.00"), 100, B + 1 * S)
    assert book.flush(B + 59 * S) == []
    closed = book.flush(B + 60 * S)
    assert [c.candle.start_ns for c in closed] == [B]
    assert book.flush(B + 120 * S) == []  # closed once
    # Data for the closed bucket is late: dropped and counted, never a second candle.
    assert book.on_trade("PFA", D("25.20"), 100, B + 50 * S) == []
    assert book.late == 1


def test_quote_mids_build_candles_until_the_symbol_prints() -> None:
    book = CandleBook(["1m"])
    closed, price = book.on_quote("QQ", D("24.99"), D("25.01"), B + 1 * S)
    assert closed == [] and price == PriceUpdate("QQ", D("25.00"), B + 1 * S)
    book.on_quote("QQ", D("25.09"), D("25.11"), B + 2 * S)
    # Crossed and one-sided quotes are no price.
    assert book.on_quote("QQ", D("25.20"), D("25.10"), B + 3 * S) == ([], None)
    assert book.on_quote("QQ", D("0"), D("25.10"), B + 4 * S) == ([], None)
    [minute] = book.flush(B + 60 * S)
    assert (minute.candle.open, minute.candle.high, minute.candle.close) == (
        D("25.00"), D("25.10"), D("25.10"),
    )  # fmt: skip
    assert minute.candle.volume == 0
    book.on_trade("QQ", D("25.30"), 100, B + 61 * S)
    assert book.has_prints("QQ")
    assert book.on_quote("QQ", D("26.00"), D("26.02"), B + 62 * S) == ([], None)
    [next_minute] = book.flush(B + 120 * S)
    assert next_minute.candle.close == D("25.30") and next_minute.candle.volume == 100


def test_candle_event_is_stamped_at_the_buckets_end_with_its_key() -> None:
    book = CandleBook(["1m"])
    book.on_trade("PFA", D("25.00"), 100, B + 1 * S)
    event = candle_event(book.flush(B + 60 * S)[0], "candles")
    assert (event.ts_event, event.start_ns, event.timeframe) == (B + 60 * S, B, "1m")
    assert event.idempotency_key == f"candle:PFA:1m:{B}"


def test_throttle_publishes_at_most_one_tick_per_window_and_never_loses_the_last() -> None:
    throttle = TickThrottle.per_second(10)  # one per 100 ms
    first = PriceUpdate("PFA", D("25.00"), B)
    assert throttle.offer(first, B) == first
    assert throttle.offer(PriceUpdate("PFA", D("25.01"), B + 10), B + 10) is None
    latest = PriceUpdate("PFA", D("25.02"), B + 20)
    assert throttle.offer(latest, B + 20) is None
    assert throttle.waiting == 1
    assert throttle.due(B + S // 10 - 1) == []  # the window is not over
    assert throttle.due(B + S // 10) == [latest]  # the latest wins
    assert throttle.due(B + S) == []
    # Another symbol has its own window.
    other = PriceUpdate("QQ", D("9.00"), B + 20)
    assert throttle.offer(other, B + 20) == other


def test_a_price_older_than_one_already_offered_is_not_the_last_price() -> None:
    throttle = TickThrottle.per_second(10)
    assert throttle.offer(PriceUpdate("PFA", D("25.00"), B + 50), B) is not None
    assert throttle.offer(PriceUpdate("PFA", D("24.00"), B + 10), B + S) is None  # late print
    assert throttle.waiting == 0
    assert throttle.due(B + 2 * S) == []


def test_throttle_rate_must_be_positive() -> None:
    with pytest.raises(ValueError, match="tick_max_per_s: must be > 0, got 0"):
        TickThrottle.per_second(0)


def test_tick_event_carries_the_prices_own_time() -> None:
    event = tick_event(PriceUpdate("PFA", D("25.02"), B + 7), "candles")
    assert (event.ts_event, event.price, event.symbol) == (B + 7, D("25.02"), "PFA")


def test_the_book_says_when_its_first_open_candle_ends() -> None:
    book = CandleBook(["1m", "5m"])
    assert book.next_end_ns() is None  # nothing open: no work until a price comes
    book.on_trade("PFA", D("25.00"), 100, B + 61 * S)
    assert book.next_end_ns() == B + 120 * S  # the 1m candle ends before the 5m one
    book.flush(B + 120 * S)
    assert book.next_end_ns() == B + 360 * S  # then the 5m candle's end
    book.flush(B + 360 * S)
    assert book.next_end_ns() is None


def test_the_throttle_says_when_its_first_waiting_price_may_go_out() -> None:
    throttle = TickThrottle.per_second(10)
    assert throttle.next_due_ns() is None
    throttle.offer(PriceUpdate("PFA", D("25.00"), B), B)  # sent at once: nothing waits
    assert throttle.next_due_ns() is None
    throttle.offer(PriceUpdate("PFA", D("25.01"), B + 30), B + 30)
    assert throttle.next_due_ns() == B + S // 10
    assert throttle.due(B + S // 10) != [] and throttle.next_due_ns() is None


def test_a_quote_mid_inside_every_open_candle_is_quiet_and_folds_as_one_by_one() -> None:
    one_by_one, folded = CandleBook(["1m", "5m"]), CandleBook(["1m", "5m"])
    for book in (one_by_one, folded):
        book.on_quote("ACME", D("10.00"), D("10.02"), B + S)
    assert folded.quiet_window("ACME") == (B + S, B + 60 * S)  # the 1-minute candle ends first
    assert folded.quiet_window("OTHER") is None  # no candle open: a quote would open one
    mids, ts = [D("10.03"), D("9.985"), D("10.01")], [B + 2 * S, B + 3 * S, B + 4 * S]
    for mid, at in zip(mids, ts, strict=True):
        one_by_one.on_quote("ACME", mid - D("0.005"), mid + D("0.005"), at)
    folded.fold_mids("ACME", mids, ts[-1])
    assert folded.flush(B + 300 * S) == one_by_one.flush(B + 300 * S)


def test_a_throttle_copy_moves_on_its_own_and_holds_what_would_wait() -> None:
    throttle = TickThrottle(100)
    assert throttle.offer(PriceUpdate("ACME", D("10"), 1_000), 1_000) is not None
    assert not throttle.holds("ACME", 1_100, 1_100)  # the window has passed: it would go out
    assert throttle.holds("ACME", 1_050, 1_050)
    assert not throttle.holds("ACME", 999, 1_050)  # older than the latest: not the last price
    twin = throttle.copy()
    twin.keep(PriceUpdate("ACME", D("10.01"), 1_050))
    assert twin.waits("ACME") and not throttle.waits("ACME")
    assert twin.due(1_100) == [PriceUpdate("ACME", D("10.01"), 1_050)]
    assert throttle.due(1_100) == []


@pytest.mark.parametrize("symbols", [("ACME",), ("ACME", "BETA", "CORE")])
def test_the_throttle_releases_and_times_the_same_with_one_symbol_waiting_or_many(
    symbols: tuple[str, ...],
) -> None:
    throttle = TickThrottle(100)
    for offset, symbol in enumerate(symbols):
        throttle.offer(PriceUpdate(symbol, D("10"), 1_000 + offset), 1_000 + offset)
        throttle.keep(PriceUpdate(symbol, D("10.01"), 1_050 + offset))
    assert throttle.next_due_ns() == 1_100  # the first symbol's window ends first
    assert throttle.due(1_099) == []
    released = throttle.due(1_100 + len(symbols))
    assert [u.symbol for u in released] == sorted(symbols)  # by symbol, each once
    assert throttle.next_due_ns() is None and throttle.due(5_000) == []
    assert throttle.sent_times == dict.fromkeys(symbols, 1_100 + len(symbols))
