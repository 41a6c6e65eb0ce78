"""DriftCycle: when the engine's band drift plans, from what, and what it remembers.

Book (ACC1, equity 1,000,000, LT target 80 %, band 5 -> 75..85; price offset 0.01):

    AAA  LT  long   6000  quote 99.98 / 100.02  mark 100.00 (mid)  notional 600,000
    BBB  LT  long   5600  quote 49.99 / 50.01   mark  50.00        notional 280,000
    CCC  LT  short -1000  quote 19.99 / 20.01   mark  20.00        notional  20,000
    MMA  MM  long   1000  quote 99.98 / 100.02  (not LT: never touched)

The LT figure comes from the snapshot, not from this book: the tests set it.
At 88 %: gap (8 - 5) % = 30,000. AAA sells 200 at 100.03 = 20,006; BBB 200 at 50.02 = 10,004.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import msgspec
import pytest

from kit.market_events import quote, session_clock
from kit.order_events import cancel_order, intent, order_canceled, order_filled, order_working
from kit.position_events import bucket_exposure, exposure_snapshot
from quantrail.events.base import Event
from quantrail.events.exposure import ExposureSnapshot
from quantrail.events.trades import CancelOrder, IntentCreated
from quantrail.risk.account_book import AccountBook, TrackedOrder
from quantrail.risk.baseline import BaselineRow
from quantrail.risk.derisk_episode import DeriskEpisode
from quantrail.risk.drift_cycle import DriftCycle, DriftStep
from quantrail.risk.market_state import MarketState
from quantrail.risk.planner import DeriskPlanner
from quantrail.risk.policy import (
    STALE_DATA,
    WITHIN_LIMITS,
    Decision,
)
from quantrail.risk.rules import RiskRules
from quantrail.runtime.clock import NS_PER_SECOND
from quantrail.strategy.band_drift import BandDriftConfig, intent_key
from quantrail.vocab import Bucket, Mode, OrderType, Phase, Side, TimeInForce

D = Decimal
S = NS_PER_SECOND
RULES = RiskRules()
T = 1_710_511_200 * S  # 2024-03-15 14:00 UTC, 10:00 New York
DAY = date(2024, 3, 15)
CONFIG = BandDriftConfig(enabled=True, price_offset=D("0.01"))
NORMAL = Decision(Mode.NORMAL, WITHIN_LIMITS, None, 6, "all limits within tolerance")
QUOTES = {"AAA": ("99.98", "100.02"), "BBB": ("49.99", "50.01"), "CCC": ("19.99", "20.01"),
          "MMA": ("99.98", "100.02")}  # fmt: skip


def book() -> AccountBook:
    return AccountBook(
        "ACC1",
        [
            BaselineRow("AAA", 6000, Bucket.LT, D("100")),
            BaselineRow("BBB", 5600, Bucket.LT, D("50")),
            BaselineRow("CCC", -1000, Bucket.LT, D("20")),
            BaselineRow("MMA", 1000, Bucket.MM_PURE, D("100")),
        ],
    )


def snapshot(lt_pct: float, at: int = T, **overrides: Any) -> ExposureSnapshot:
    lt = bucket_exposure(current_pct=lt_pct, potential_pct=lt_pct)
    mm = bucket_exposure(current_pct=10.0, potential_pct=10.0, target_pct=20.0, max_pct=30.0)
    gross = lt_pct + 10.0
    return exposure_snapshot(
        ts_event=at, gross_exposure_pct=gross, potential_gross_pct=gross,
        buckets={"LT": lt, "MM_PURE": mm}, **overrides,
    )  # fmt: skip


class Desk:
    """One account's engine-side state, as the engine keeps it, and a DriftCycle over it."""

    def __init__(self, config: BandDriftConfig = CONFIG, symbols: tuple[str, ...] = ()) -> None:
        self.book = book()
        self.market = MarketState()
        for symbol, (bid, ask) in QUOTES.items():
            if symbol not in symbols:
                self.market.apply(quote(symbol, bid, ask, ts_event=T))
        self.episode = DeriskEpisode("ACC1", DeriskPlanner.from_rules(RULES), 15 * S)
        self.drift = DriftCycle(config, ["ACC1"], RULES, self.market)

    def step(
        self,
        cause: Event | None,
        decision: Decision = NORMAL,
        now: int | None = None,
        phase: Phase = Phase.MID,
    ) -> DriftStep | None:
        """A decision caused by ``cause``, as the engine makes it: a snapshot is observed first."""
        if isinstance(cause, ExposureSnapshot):
            self.drift.observe(cause)
        at = now if now is not None else T
        return self.drift.step(
            decision=decision,
            session=session_clock(phase, session_date="2024-03-15", ts_event=at),
            book=self.book,
            episode=self.episode,
            now_ns=at,
            cause=cause,
        )

    def published(self, cause: Event | None, **kwargs: Any) -> tuple[IntentCreated, ...]:
        """Step, then record as the engine does once the intents are out."""
        step = self.step(cause, **kwargs)
        assert step is not None
        self.drift.record(step)
        return step.intents


def orders(intents: tuple[IntentCreated, ...]) -> list[tuple[str, Side, int, Decimal | None]]:
    return [(i.symbol, i.side, i.qty, i.limit_price) for i in intents]


def test_above_the_band_sells_lt_longs_at_the_ask_plus_offset_as_reduce_only_intents() -> None:
    desk = Desk()
    cause = snapshot(88.0)
    intents = desk.published(cause)
    assert orders(intents) == [
        ("AAA", Side.SELL, 200, D("100.03")),
        ("BBB", Side.SELL, 200, D("50.02")),
    ]
    aaa = intents[0]
    assert (aaa.mode, aaa.bucket, aaa.order_type, aaa.tif) == (
        Mode.NORMAL, Bucket.LT, OrderType.LIMIT, TimeInForce.DAY,
    )  # fmt: skip
    assert all(i.reduce_only and i.urgency == "LOW" for i in intents)
    assert (aaa.account, aaa.ts_event, aaa.causation_id) == ("ACC1", T, cause.event_id)
    key = intent_key("ACC1", DAY, cause.ts_event, "AAA")  # the cycle is the snapshot's time
    assert (aaa.idempotency_key, aaa.intent_id) == (f"lt_band_drift:{key}", key[:32])
    assert aaa.reason.startswith("LT_ABOVE_BAND: LT 88.0% (88.0% with working drift orders)")


def test_below_the_band_buys_existing_longs_at_the_bid_minus_offset_never_the_short() -> None:
    # 70 %: gap 50,000. AAA 200 at 99.97 = 19,994; BBB 200 at 49.98 = 9,996; CCC is a short.
    intents = Desk().published(snapshot(70.0))
    assert orders(intents) == [
        ("AAA", Side.BUY, 200, D("99.97")),
        ("BBB", Side.BUY, 200, D("49.98")),
    ]
    assert not any(i.reduce_only for i in intents)


@pytest.mark.parametrize("lt_pct", [80.0, 85.0, 75.0])
def test_inside_the_band_the_cycle_is_done_without_intents(lt_pct: float) -> None:
    desk = Desk()
    step = desk.step(snapshot(lt_pct))
    assert step is not None and step.intents == ()


@pytest.mark.parametrize(
    "decision",
    [
        Decision(Mode.THROTTLE_NEW_ORDERS, "BUCKET_POTENTIAL_ABOVE_MAX", None, 5, "LT"),
        Decision(Mode.THROTTLE_NEW_ORDERS, STALE_DATA, None, 1, "old", alert=True),
        Decision(Mode.SOFT_DERISK, "MID_ABOVE_DERISK_LEVEL", D(120), 4, "high"),
        Decision(Mode.HARD_DERISK, "ABOVE_HARD_CAP", D(125), 2, "higher", alert=True),
    ],
)
def test_only_a_normal_decision_plans(decision: Decision) -> None:
    desk = Desk()
    assert desk.step(snapshot(88.0), decision) is None
    assert len(desk.published(snapshot(88.0))) == 2  # the snapshot was not used up


@pytest.mark.parametrize("phase", [Phase.PRE, Phase.POST, Phase.CLOSED])
def test_a_phase_without_trading_plans_nothing(phase: Phase) -> None:
    assert Desk().step(snapshot(88.0), phase=phase) is None


def test_a_snapshot_is_planned_on_at_the_first_normal_decision_after_it() -> None:
    desk = Desk()
    first = snapshot(88.0)
    throttled = Decision(Mode.THROTTLE_NEW_ORDERS, "POTENTIAL_ABOVE_TOLERANCE", None, 5, "x")
    assert desk.step(first, throttled) is None  # it came while the account was throttled
    ticked = desk.published(session_clock(Phase.MID, ts_event=T))  # a tick turns it NORMAL
    assert [i.symbol for i in ticked] == ["AAA", "BBB"]
    assert ticked[0].causation_id == first.event_id  # caused by the snapshot, not the tick
    assert desk.step(None) is None  # the watchdog: that snapshot is planned on already


def test_a_snapshot_of_another_account_is_not_ours() -> None:
    desk = Desk()
    assert desk.step(snapshot(88.0, account="ACC2")) is None


def test_the_same_snapshot_again_plans_nothing_once_its_intents_are_out() -> None:
    desk = Desk()
    first = snapshot(88.0)
    assert len(desk.published(first)) == 2
    assert desk.step(first) is None  # redelivered
    same_time = msgspec.structs.replace(first, event_id="again", idempotency_key="again")
    assert desk.step(same_time) is None  # republished: same figures, same time


def test_a_snapshot_whose_publish_failed_plans_the_same_intents_again() -> None:
    desk = Desk()
    first = snapshot(88.0)
    lost = desk.step(first)  # not recorded: the publish failed
    again = desk.step(first)
    assert lost is not None and again is not None and lost.intents
    assert [i.idempotency_key for i in again.intents] == [i.idempotency_key for i in lost.intents]


def test_an_older_snapshot_delivered_after_a_newer_one_plans_nothing() -> None:
    desk = Desk()
    old, new = snapshot(88.0, at=T), snapshot(80.0, at=T + S)
    assert desk.published(new, now=T + S) == ()
    assert desk.step(old, now=T + 2 * S) is None


def test_working_drift_orders_count_toward_the_gap_and_block_their_symbols() -> None:
    desk = Desk()
    aaa, bbb = desk.published(snapshot(88.0))
    for sent in (aaa, bbb):
        desk.book.apply(order_working(symbol=sent.symbol, side=Side.SELL, qty=200,
                                      limit_price=sent.limit_price, intent_id=sent.intent_id,
                                      order_id=f"o-{sent.symbol}", ts_event=T))  # fmt: skip
    # 15 s later, still 88 %: with the two sells (30,010) it is 84.999 %: inside the band.
    later = desk.step(snapshot(88.0, at=T + 15 * S), now=T + 15 * S)
    assert later is not None and later.intents == ()
    # Still working after the interval: still nothing (no stacking on AAA and BBB either).
    later = desk.step(snapshot(88.0, at=T + 61 * S), now=T + 61 * S)
    assert later is not None and later.intents == ()
    # At 90 % the working sells cover 3 points of 5: CCC buys back 200 at 19.99 - 0.01.
    more = desk.step(snapshot(90.0, at=T + 62 * S), now=T + 62 * S)
    assert more is not None and orders(more.intents) == [("CCC", Side.BUY, 200, D("19.98"))]
    # Cancelled: the gap is open again, and the interval has passed.
    for symbol in ("AAA", "BBB"):
        desk.book.apply(order_canceled(symbol=symbol, order_id=f"o-{symbol}", ts_event=T))
    again = desk.step(snapshot(88.0, at=T + 63 * S), now=T + 63 * S)
    assert again is not None and [i.symbol for i in again.intents] == ["AAA", "BBB"]


def test_an_intent_without_an_order_counts_only_for_the_interval() -> None:
    desk = Desk()
    desk.published(snapshot(88.0))
    soon = desk.step(snapshot(88.0, at=T + 59 * S), now=T + 59 * S)
    assert soon is not None and soon.intents == ()  # on its way: counted
    late = desk.step(snapshot(88.0, at=T + 60 * S), now=T + 60 * S)  # never got an order
    assert late is not None and [i.symbol for i in late.intents] == ["AAA", "BBB"]


def test_a_live_derisk_order_or_an_active_episode_blocks_the_drift() -> None:
    desk = Desk()
    derisk = intent(side=Side.SELL, symbol="AAA", intent_id="d-1", mode=Mode.SOFT_DERISK, step=1,
                    idempotency_key="derisk:ACC1:2024-03-15:SOFT_DERISK:1:AAA")  # fmt: skip
    desk.episode.remember(derisk)
    assert desk.step(snapshot(88.0)) is not None  # no order seen yet: not counted
    desk.book.apply(order_working(symbol="AAA", side=Side.SELL, intent_id="d-1", order_id="o-d"))
    assert desk.step(snapshot(88.0, at=T + S), now=T + S) is None
    desk.book.apply(order_canceled(symbol="AAA", side=Side.SELL, intent_id="d-1", order_id="o-d"))
    desk.episode.active = True
    assert desk.step(snapshot(88.0, at=T + 2 * S), now=T + 2 * S) is None
    desk.episode.active = False
    step = desk.step(snapshot(88.0, at=T + 3 * S), now=T + 3 * S)
    assert step is not None and len(step.intents) == 2


def test_a_restarted_cycle_takes_back_its_intents_from_the_stream() -> None:
    first = Desk()
    cause = snapshot(88.0)
    sent = first.published(cause)
    restarted = Desk()
    for replayed in (*sent, intent(account="ACC1", intent_id="x", idempotency_key="other:1"),
                     intent(account="ACC9", idempotency_key=sent[0].idempotency_key)):  # fmt: skip
        restarted.drift.remember(replayed)
    assert restarted.step(cause, now=T + 5 * S) is None  # planned on before the restart
    newer = restarted.step(snapshot(88.0, at=T + 15 * S), now=T + 15 * S)
    assert newer is not None and newer.intents == ()  # its intents count and block their symbols


def test_a_symbol_without_a_two_sided_quote_is_left_out() -> None:
    desk = Desk(symbols=("AAA",))  # no AAA quote: BBB, then the CCC short is bought back
    # BBB 200 at 50.02 = 10,004; CCC 200 at 19.98 = 3,996: the cycle's candidates end there.
    assert [i.symbol for i in desk.published(snapshot(88.0))] == ["BBB", "CCC"]


def test_a_snapshot_without_an_lt_figure_is_done_without_intents() -> None:
    desk = Desk()
    cause = snapshot(88.0)
    bare = msgspec.structs.replace(cause, buckets={"MM_PURE": cause.buckets["MM_PURE"]})
    step = desk.step(bare)
    assert step is not None and step.intents == ()


# --- leaving NORMAL: the drift's orders that add exposure are cancelled --------------------------
THROTTLED = Decision(Mode.THROTTLE_NEW_ORDERS, "POTENTIAL_ABOVE_TOLERANCE", None, 5, "over")
LEAVING = [
    THROTTLED,
    Decision(Mode.THROTTLE_NEW_ORDERS, STALE_DATA, None, 1, "old", alert=True),
    Decision(Mode.SOFT_DERISK, "MID_ABOVE_DERISK_LEVEL", D(120), 4, "high"),
    Decision(Mode.HARD_DERISK, "ABOVE_HARD_CAP", D(125), 2, "higher", alert=True),
]


def working(desk: Desk, intents: tuple[IntentCreated, ...]) -> None:
    """Each intent's order ``o-<symbol>`` works at its limit."""
    for sent in intents:
        desk.book.apply(order_working(symbol=sent.symbol, side=sent.side, qty=sent.qty,
                                      limit_price=sent.limit_price, intent_id=sent.intent_id,
                                      order_id=f"o-{sent.symbol}", ts_event=T))  # fmt: skip


def cancels(step: DriftStep | None) -> list[tuple[str, str, str]]:
    assert step is not None and step.intents == () and step.cycle is None
    return [(c.order_id, c.idempotency_key, c.reason) for c in step.cancels]


@pytest.mark.parametrize("decision", LEAVING, ids=lambda d: f"{d.mode.value}-{d.reason}")
def test_leaving_normal_cancels_the_working_drift_buys(decision: Decision) -> None:
    desk = Desk()
    working(desk, desk.published(snapshot(70.0)))  # AAA and BBB buys: they add exposure
    cause = snapshot(70.0, at=T + S)
    step = desk.step(cause, decision, now=T + 2 * S)
    reason = f"lt band drift: mode {decision.mode.value} ({decision.reason})"
    assert cancels(step) == [
        ("o-AAA", "drift_cancel:ACC1:o-AAA", reason),
        ("o-BBB", "drift_cancel:ACC1:o-BBB", reason),
    ]
    assert step is not None and step.events == list(step.cancels)
    first = step.cancels[0]
    assert (first.account, first.ts_event, first.source) == ("ACC1", T + 2 * S, "decision-engine")
    assert (first.correlation_id, first.causation_id) == (cause.event_id, cause.event_id)


def test_a_cancel_is_sent_once_per_order_and_again_only_if_its_publish_failed() -> None:
    desk = Desk()
    working(desk, desk.published(snapshot(70.0)))
    lost = desk.step(None, THROTTLED, now=T + S)  # not recorded: the publish failed
    again = desk.step(None, THROTTLED, now=T + 2 * S)
    assert lost is not None and again is not None
    assert [c.idempotency_key for c in again.cancels] == [c.idempotency_key for c in lost.cancels]
    desk.drift.record(again)
    assert desk.step(snapshot(70.0, at=T + 3 * S), THROTTLED, now=T + 3 * S) is None
    assert desk.step(None, THROTTLED, now=T + 4 * S) is None  # still live, still not again


def test_reducing_drift_sells_above_the_band_keep_working() -> None:
    desk = Desk()
    sells = desk.published(snapshot(88.0))
    working(desk, sells)
    assert [i.side for i in sells] == [Side.SELL, Side.SELL]
    for decision in LEAVING:
        assert desk.step(snapshot(88.0, at=T + S), decision, now=T + S) is None


def test_a_sell_that_would_go_past_zero_adds_exposure_and_is_cancelled() -> None:
    desk = Desk()
    (aaa, _bbb) = desk.published(snapshot(88.0))
    working(desk, (aaa,))
    # Another order sells 5900 of the 6000 AAA: the drift's 200 would leave a 100 short.
    other = dict(order_id="other", intent_id="other", fill_id="f-other")
    desk.book.apply(order_filled(symbol="AAA", side=Side.SELL, qty=5900, price="100", **other))
    assert [c[0] for c in cancels(desk.step(None, THROTTLED, now=T + S))] == ["o-AAA"]


def test_a_normal_decision_or_an_order_no_longer_live_cancels_nothing() -> None:
    desk = Desk()
    working(desk, desk.published(snapshot(70.0)))
    later = desk.step(snapshot(70.0, at=T + S), now=T + S)  # NORMAL: the buys keep working
    assert later is not None and later.cancels == ()
    desk.book.apply(order_canceled(symbol="AAA", order_id="o-AAA", ts_event=T))
    desk.book.apply(order_filled(symbol="BBB", qty=200, price="49.98", order_id="o-BBB"))
    assert desk.step(None, THROTTLED, now=T + 2 * S) is None


def test_an_order_that_shows_up_after_the_mode_left_is_cancelled_at_the_next_decision() -> None:
    desk = Desk()
    sent = desk.published(snapshot(70.0))
    assert desk.step(None, THROTTLED, now=T + S) is None  # intents in flight: nothing to cancel
    working(desk, sent[:1])
    assert [c[0] for c in cancels(desk.step(None, THROTTLED, now=T + 2 * S))] == ["o-AAA"]


def test_orders_not_of_the_drift_are_never_cancelled_by_it() -> None:
    desk = Desk()
    desk.book.apply(order_working(symbol="AAA", side=Side.BUY, qty=200, intent_id="signal-1",
                                  order_id="o-signal"))  # fmt: skip
    assert desk.step(snapshot(70.0), THROTTLED) is None


def test_a_restarted_cycle_takes_back_its_cancels_from_the_stream() -> None:
    first = Desk()
    sent = first.published(snapshot(70.0))
    working(first, sent)
    step = first.step(None, THROTTLED, now=T + S)
    assert step is not None and len(step.cancels) == 2
    restarted = Desk()
    working(restarted, sent)
    foreign = (
        cancel_order("o-BBB", account="ACC1", idempotency_key="derisk-cancel:ACC1:o-BBB"),
        cancel_order("o-BBB", account="ACC9", idempotency_key="drift_cancel:ACC9:o-BBB"),
    )
    replayed: tuple[IntentCreated | CancelOrder, ...] = (*sent, step.cancels[0], *foreign)
    for event in replayed:
        if isinstance(event, IntentCreated):
            restarted.drift.remember(event)
        else:
            restarted.drift.remember_cancel(event)
    # o-AAA was cancelled before the restart; o-BBB's only cancels were not ours.
    assert [c[0] for c in cancels(restarted.step(None, THROTTLED, now=T + 2 * S))] == ["o-BBB"]


# --- the work of a decision follows what is working, not the day's history (issue 14) ------------
class CountingBook(AccountBook):
    """The real book, counting the per-intent lookups a decision makes."""

    def __init__(self) -> None:
        made = book()
        super().__init__(made.account, [])
        self.positions = made.positions
        self.lookups = 0

    def orders_of_intent(self, intent_id: str) -> list[TrackedOrder]:
        self.lookups += 1
        return super().orders_of_intent(intent_id)


def ended_history(desk: Desk, count: int) -> None:
    """``count`` drift intents and ``count`` de-risk intents of the day whose orders ended."""
    early = T - 3600 * S
    for n in range(count):
        drift = intent(symbol="AAA", side=Side.SELL, intent_id=f"old-{n}", ts_event=early,
                       idempotency_key=f"lt_band_drift:old-{n}")  # fmt: skip
        key = f"derisk:ACC1:2024-03-15:SOFT_DERISK:{n + 1}:AAA"
        derisk = intent(symbol="AAA", side=Side.SELL, intent_id=f"d-{n}", mode=Mode.SOFT_DERISK,
                        step=n + 1, ts_event=early, idempotency_key=key)  # fmt: skip
        desk.drift.remember(drift)
        desk.episode.remember(derisk)
        for made in (drift, derisk):
            oid = f"o-{made.intent_id}"
            lifecycle = {"order_id": oid, "intent_id": made.intent_id, "symbol": "AAA"}
            desk.book.apply(order_working(side=Side.SELL, ts_event=early, **lifecycle))
            desk.book.apply(order_canceled(side=Side.SELL, ts_event=early, **lifecycle))


def lookups_of_decisions(history: int) -> tuple[int, list[str], list[str]]:
    desk = Desk()
    counting = desk.book = CountingBook()
    ended_history(desk, history)
    desk.published(snapshot(88.0, at=T - 60 * S), now=T - 60 * S)  # in-flight bookkeeping
    counting.lookups = 0
    planned = desk.published(snapshot(70.0, at=T), now=T)
    working(desk, planned)
    throttled = desk.step(None, THROTTLED, now=T + S)
    assert throttled is not None
    return counting.lookups, [i.symbol for i in planned], [c.order_id for c in throttled.cancels]


def test_a_decision_walks_no_ended_drift_or_derisk_intent() -> None:
    fresh, busy = lookups_of_decisions(0), lookups_of_decisions(300)
    assert busy == fresh
    assert fresh[1] == ["AAA", "BBB"] and fresh[2] == ["o-AAA", "o-BBB"]
