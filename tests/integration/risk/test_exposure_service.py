"""The exposure service: baseline + fills + prices -> snapshots to the cent, hand-computed.

Account ACC1, equity 1,000,000. Baseline: PFA +2000 LT at 25.10, QBK -1000 MM_PURE at 20.00,
XOM +500 LT at 100.00. Groups: PFA PREFS, QBK BANKS, XOM ENERGY.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import msgspec

from kit.market_events import quote, trade_print
from kit.order_events import order_canceled, order_filled, order_partially_filled, order_working
from kit.session import ny_ns
from quantrail.config import AccountConfig
from quantrail.events.base import Event
from quantrail.events.exposure import ExposureSnapshot
from quantrail.risk.exposure_service import ExposureService
from quantrail.risk.rules import RiskRules
from quantrail.runtime.clock import NS_PER_SECOND
from quantrail.vocab import Bucket, Side

NOW = ny_ns("2026-11-20 10:00")
BASELINE = [("PFA", 2000, "LT", "25.10"), ("QBK", -1000, "MM_PURE", "20.00"),
            ("XOM", 500, "LT", "100.00")]  # fmt: skip
GROUPS = {"PFA": "PREFS", "QBK": "BANKS", "XOM": "ENERGY"}
D = Decimal


def at(offset_s: float = 0) -> dict[str, Any]:
    return {"ts_event": NOW + int(offset_s * NS_PER_SECOND)}


def tape(offset_s: float = 0) -> dict[str, Any]:
    """Market events: our receipt time and the venue's time, the same here."""
    ts = NOW + int(offset_s * NS_PER_SECOND)
    return {"ts_event": ts, "ts_exchange_ns": ts}


def service(account: AccountConfig, name: str | None = None) -> ExposureService:
    made = ExposureService([account], GROUPS, RiskRules().buckets, 15.0)
    if name:
        made.name = name
    return made


async def latest(rig: Any, account: str = "ACC1") -> ExposureSnapshot:
    return [s for s in await rig.events(ExposureSnapshot) if s.account == account][-1]


def market_and_fills() -> list[Event]:
    return [
        quote("PFA", "25.00", "25.04", **tape(1)),  # PFA marked at the mid 25.02
        trade_print("QBK", "19.90", 100, **tape(1)),  # a round lot: QBK's truth tick
        trade_print("XOM", "101.00", 200, **tape(1)),
        trade_print("XOM", "99.00", 10, **tape(2)),  # an odd lot later: the mark stays 101.00
        order_filled(qty=300, price="25.03", symbol="PFA", order_id="o-pfa", fill_id="f-1",
                     **at(3)),
        order_partially_filled(
            qty=500, last_qty=200, price="101.10", symbol="XOM", side=Side.SELL,
            order_id="o-xom", fill_id="f-2", **at(3),
        ),
        order_working(symbol="PFA", qty=400, limit_price=D("25.05"), order_id="o-pfa-2", **at(4)),
        order_working(symbol="QBK", side=Side.SELL, qty=1500, limit_price=D("19.95"),
                      bucket=Bucket.MM_PURE, order_id="o-qbk", **at(4)),
    ]  # fmt: skip


async def test_first_snapshot_marks_the_baseline_at_prior_close(
    rig: Callable[..., Any], account_with: Callable[..., AccountConfig]
) -> None:
    running = await rig([service(account_with(BASELINE))], NOW).start()
    first = await latest(running)
    # long 2000 x 25.10 + 500 x 100.00 = 100,200.00; short 1000 x 20.00 = 20,000.00
    assert (first.long_notional, first.short_notional) == (D("100200.00"), D("20000.00"))
    assert (first.gross_exposure_pct, first.net_exposure_pct) == (12.02, 8.02)
    assert (first.potential_gross_pct, first.open_orders_potential) == (12.02, D(0))
    assert (first.ts_event, first.prices_as_of_ns) == (NOW, ny_ns("2026-11-20 00:00"))
    assert (
        first.buckets["LT"].current == D("100200.00")
        and first.buckets["MM_PURE"].current_pct == 2.0
    )


async def test_fills_prices_and_open_orders_to_the_cent(
    rig: Callable[..., Any], account_with: Callable[..., AccountConfig]
) -> None:
    exposure = service(account_with(BASELINE))
    running = await rig([exposure], NOW).start()
    events = market_and_fills()
    await running.publish(*events[:4])  # prices alone move no snapshot: they wait for the timer
    await running.publish(*events[4:])
    duplicate = msgspec.structs.replace(events[4], event_id="redelivered", **at(5))
    await running.publish(duplicate)  # the same fill id again: applied once
    snap = await latest(running)
    # PFA 2300 x 25.02 = 57,546.00; XOM 300 x 101.00 = 30,300.00; QBK -1000 x 19.90 = 19,900.00
    assert exposure.book("ACC1").positions.qty("PFA") == 2300
    assert (snap.long_notional, snap.short_notional) == (D("87846.00"), D("19900.00"))
    assert (snap.gross_exposure_pct, snap.long_gross_pct, snap.short_gross_pct) == (
        10.7746, 8.7846, 1.99,
    )  # fmt: skip
    assert snap.net_exposure_pct == 6.7946  # 67,946.00
    # Open orders: BUY 400 PFA at max(25.05, 25.02) = 10,020.00 (adds to the long);
    # SELL 1500 QBK at max(19.95, 19.90) = 29,925.00 (adds to the short); the XOM sell of the
    # 300 left only reduces the 300 long: 0.
    assert (snap.open_orders_potential, snap.open_orders_potential_pct) == (D("39945.00"), 3.9945)
    assert snap.potential_gross_pct == 14.7691  # 107,746.00 + 39,945.00 = 147,691.00
    lt, mm = snap.buckets["LT"], snap.buckets["MM_PURE"]
    assert (lt.current, lt.current_pct, lt.potential, lt.potential_pct) == (
        D("87846.00"), 8.7846, D("97866.00"), 9.7866,
    )  # fmt: skip
    assert (lt.target, lt.target_pct, lt.max, lt.max_pct) == (D(800000), 80.0, D(900000), 90.0)
    assert (mm.current, mm.potential, mm.potential_pct, mm.max) == (
        D("19900.00"), D("49825.00"), 4.9825, D(300000),
    )  # fmt: skip
    groups = {g: (e.long_notional, e.short_notional, e.gross_pct)
              for g, e in snap.group_exposure.items()}  # fmt: skip
    assert groups == {
        "PREFS": (D("57546.00"), D(0), 5.7546),
        "BANKS": (D(0), D("19900.00"), 1.99),
        "ENERGY": (D("30300.00"), D(0), 3.03),
    }
    assert snap.prices_as_of_ns == NOW + 1 * NS_PER_SECOND  # the newest mark used (XOM, QBK)
    positions = await running.bus.get_state("positions:ACC1")
    assert positions == {"PFA": "2300", "QBK": "-1000", "XOM": "300"}
    state = await running.bus.get_state("exposure:ACC1")
    assert (state["long_notional"], state["LT.potential"], state["event_id"]) == (
        "87846.00", "97866.00", snap.event_id,
    )  # fmt: skip


async def test_a_duplicate_fill_changes_nothing_and_publishes_nothing(
    rig: Callable[..., Any], account_with: Callable[..., AccountConfig]
) -> None:
    exposure = service(account_with(BASELINE))
    running = await rig([exposure], NOW).start()
    fill = order_filled(qty=300, price="25.03", symbol="PFA", order_id="o-1", fill_id="f-1", **at())
    await running.publish(fill)
    count = len(await running.events(ExposureSnapshot))
    await running.publish(msgspec.structs.replace(fill, event_id="again", idempotency_key="k2"))
    assert exposure.book("ACC1").positions.qty("PFA") == 2300
    assert len(await running.events(ExposureSnapshot)) == count


async def test_open_orders_raise_potential_and_a_cancel_drops_it(
    rig: Callable[..., Any], account_with: Callable[..., AccountConfig]
) -> None:
    running = await rig([service(account_with(BASELINE))], NOW).start()
    buy = order_working(symbol="PFA", qty=1000, limit_price=D("25.20"), order_id="o-1", **at())
    await running.publish(buy)
    snap = await latest(running)
    # 1000 x max(25.20, 25.10) = 25,200.00 on top of 120,200.00
    assert (snap.open_orders_potential, snap.potential_gross_pct) == (D("25200.00"), 14.54)
    assert snap.gross_exposure_pct == 12.02 and snap.buckets["LT"].potential == D("125400.00")
    await running.publish(order_canceled(symbol="PFA", qty=1000, limit_price=D("25.20"),
                                         order_id="o-1", **at(1)))  # fmt: skip
    snap = await latest(running)
    assert (snap.open_orders_potential, snap.potential_gross_pct) == (D(0), 12.02)
    late = order_working(symbol="PFA", qty=1000, limit_price=D("25.20"), order_id="o-1", **at(2))
    await running.publish(late)  # a late event of a canceled order does not bring it back
    assert (await latest(running)).open_orders_potential == D(0)


async def test_changes_in_one_batch_make_one_snapshot(
    rig: Callable[..., Any], account_with: Callable[..., AccountConfig]
) -> None:
    running = await rig([service(account_with(BASELINE))], NOW).start()
    before = len(await running.events(ExposureSnapshot))
    fills = [order_filled(qty=100, price="25.10", symbol="PFA", order_id=f"o-{i}",
                          fill_id=f"f-{i}", **at()) for i in range(5)]  # fmt: skip
    await running.publish(*fills)
    snaps = await running.events(ExposureSnapshot)
    assert len(snaps) == before + 1
    assert snaps[-1].long_notional == D("112750.00")  # 2500 x 25.10 + 500 x 100.00


async def test_a_snapshot_every_interval_per_account(
    rig: Callable[..., Any], account_with: Callable[..., AccountConfig]
) -> None:
    accounts = [account_with(BASELINE), account_with([("XOM", -100, "LT", "100")], name="ACC2")]
    made = ExposureService(accounts, GROUPS, RiskRules().buckets, 15.0)
    running = await rig([made], NOW).start()
    await running.advance(30)
    snaps = await running.events(ExposureSnapshot)
    times = sorted((s.account, (s.ts_event - NOW) // NS_PER_SECOND) for s in snaps)
    assert times == [("ACC1", 0), ("ACC1", 15), ("ACC1", 30), ("ACC2", 0), ("ACC2", 15),
                     ("ACC2", 30)]  # fmt: skip
    assert {s.account: s.short_gross_pct for s in snaps} == {"ACC1": 2.0, "ACC2": 1.0}


async def test_a_restart_rebuilds_todays_book_and_ignores_earlier_days(
    rig: Callable[..., Any], account_with: Callable[..., AccountConfig]
) -> None:
    account = account_with(BASELINE)
    first = await rig([service(account)], NOW).start()
    yesterday = order_filled(qty=500, price="25", symbol="PFA", order_id="o-0", fill_id="f-0",
                             ts_event=ny_ns("2026-11-19 15:00"))  # fmt: skip
    today = order_filled(qty=100, price="25.10", symbol="PFA", order_id="o-1", fill_id="f-1",
                         **at())  # fmt: skip
    await first.publish(yesterday, today, trade_print("XOM", "102.00", 100, **tape()))
    await first.stop()
    again = service(account, name="exposure-2")
    second = await rig([again], bus=first.bus, clock=first.clock).start()
    assert again.book("ACC1").positions.qty("PFA") == 2100  # baseline 2000 + today's 100
    snap = await latest(second)
    assert snap.long_notional == D("103710.00")  # 2100 x 25.10 + 500 x 102.00 (replayed print)


async def test_a_symbol_opened_today_is_marked_at_our_fill_until_it_prints(
    rig: Callable[..., Any], account_with: Callable[..., AccountConfig]
) -> None:
    exposure = service(account_with([]))
    running = await rig([exposure], NOW).start()
    fill = order_filled(qty=200, price="12.34", symbol="NEW", order_id="o-1", fill_id="f-1",
                        bucket=Bucket.MM_PURE, **at())  # fmt: skip
    other = order_filled(qty=999, symbol="NEW", order_id="o-2", fill_id="f-2", account="ZZZ",
                         **at())  # fmt: skip
    await running.publish(fill, other)
    snap = await latest(running)
    assert (snap.long_notional, snap.buckets["MM_PURE"].current) == (D("2468.00"), D("2468.00"))
    assert snap.group_exposure["UNGROUPED"].long_notional == D("2468.00")
    await running.publish(trade_print("NEW", "12.00", 100, **tape(1)))
    await running.advance(15)
    assert (await latest(running)).long_notional == D("2400.00")


async def test_quotes_that_break_a_rule_are_dead_lettered_and_the_next_fill_counts(
    rig: Callable[..., Any], account_with: Callable[..., AccountConfig]
) -> None:
    """A quote with a negative price is refused by the market state: two of them go to the dead
    letters at once with the reason, never to the breaker, and the fill behind them is applied."""
    exposure = service(account_with(BASELINE))
    running = await rig([exposure], NOW).start()
    bad = [quote("PFA", "-1.00", "25.04", **tape(i)) for i in (1, 2)]
    good = order_filled(
        qty=300, price="25.03", symbol="PFA", order_id="o-3", fill_id="f-3", **at(3)
    )
    await running.publish(*bad, good)
    assert exposure.book("ACC1").positions.qty("PFA") == 2300
    letters = await running.bus.dead_letters()
    assert [letter.error_type for letter in letters] == ["RiskInputError"] * 2
    assert all(
        "bid: must be a finite Decimal >= 0, got Decimal('-1.00')" in x.error for x in letters
    )
    quotes = [c for c in running.runner.consumers if c.breaker and "market.quote" in c.breaker.name]
    assert quotes and all(c.breaker and c.breaker.times_opened == 0 for c in quotes)
    assert sum(c.stats.rule_violations for c in quotes) == 2
