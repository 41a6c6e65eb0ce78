"""The ledger service on the in-process bus: fills, duplicates, restarts, modes, exposure."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from kit import sql
from kit.bus import make_bus
from kit.ledger import (
    ACCOUNTS,
    DAY,
    HAND_MARKS,
    OPEN_NS,
    SECOND_NS,
    fill_event,
    hand_accounts,
    hand_fills,
    hand_snapshot,
    interleaved,
    running,
)
from kit.poll import eventually
from quantrail.config import AccountConfig, config_from_mapping
from quantrail.events.exposure import ExposureSnapshot
from quantrail.events.orders import OrderAccepted
from quantrail.events.risk import RiskModeChanged
from quantrail.ledger.booking import Booker
from quantrail.ledger.report import report_eod
from quantrail.ledger.service import LedgerService
from quantrail.ledger.services import build_ledger_service
from quantrail.ledger.store import LedgerStore
from quantrail.risk.baseline import BaselineFileError
from quantrail.vocab import Mode, OrderType, Side

NY = "America/New_York"


def expected_report(account: str) -> dict[str, object]:
    """The account's hand day booked straight into a store of its own."""
    with LedgerStore.open("sqlite:///:memory:") as reference:
        reference.save_snapshot(hand_snapshot(account))
        booker = Booker(reference, timezone=NY)
        for each in hand_fills(account):
            booker.book(each)
        return report_eod(reference, account, DAY, marks=HAND_MARKS[account]).to_dict()


def report_of(store_url: str, account: str) -> dict[str, object]:
    with LedgerStore.open(store_url) as store:
        return report_eod(store, account, DAY, marks=HAND_MARKS[account]).to_dict()


def count_fills(store_url: str) -> int:
    with LedgerStore.open(store_url) as store:
        return store.count_fills()


def all_hand_fills() -> list:
    return interleaved(*(hand_fills(account) for account in ACCOUNTS))


async def test_fills_of_three_accounts_are_booked_once_each(store_url: str, tmp_path: Path) -> None:
    bus = make_bus("memory", None)
    service = LedgerService(store_url, hand_accounts(tmp_path), timezone=NY)
    fills = all_hand_fills()
    async with running(bus, service):
        await bus.publish_batch([fill_event(each) for each in fills])
        # f2 sent again as a new, unkeyed event: the bus cannot tell, the ledger must.
        await bus.publish(fill_event(hand_fills("HAMMER")[1], keyed=False))
        await bus.publish(
            OrderAccepted(
                ts_event=OPEN_NS,
                account="HAMMER",
                order_id="o9",
                symbol="XYZ",
                side=Side.BUY,
                qty=100,
                order_type=OrderType.MARKET,
                bucket="LT",
            )
        )
        await eventually(lambda: service.counts["duplicates"], lambda n: n == 1, what="dup")

    assert service.counts == {
        "booked": 16,
        "corrections": 0,
        "duplicates": 1,
        "mode_changes": 0,
        "exposure_samples": 0,
    }
    assert count_fills(store_url) == len(fills) == 16
    for account in ACCOUNTS:  # the snapshot came from each account's configured file
        assert report_of(store_url, account) == expected_report(account)


async def test_a_restarted_service_reloads_the_day_and_books_nothing_twice(
    store_url: str, tmp_path: Path
) -> None:
    bus = make_bus("memory", None)
    accounts = hand_accounts(tmp_path)
    fills = all_hand_fills()
    first = LedgerService(store_url, accounts, timezone=NY)
    async with running(bus, first):
        await bus.publish_batch([fill_event(each) for each in fills[:7]])
        await eventually(lambda: first.counts["booked"], lambda n: n == 7, what="first half")

    second = LedgerService(store_url, accounts, timezone=NY)
    async with running(bus, second):
        # Everything again, unkeyed (a producer replaying its day), so the first seven reach
        # the ledger a second time; then the rest.
        await bus.publish_batch([fill_event(each, keyed=False) for each in fills])
        await eventually(
            lambda: second.counts["booked"] + second.counts["duplicates"],
            lambda n: n == len(fills),
            what="all handled",
        )

    assert (second.counts["booked"], second.counts["duplicates"]) == (9, 7)
    assert count_fills(store_url) == 16
    for account in ACCOUNTS:
        assert report_of(store_url, account) == expected_report(account)


async def test_mode_changes_are_stored_once_and_exposure_thinned(store_url: str) -> None:
    bus = make_bus("memory", None)
    service = LedgerService(store_url, timezone=NY, exposure_interval_s=60)
    change = RiskModeChanged(
        ts_event=OPEN_NS + 5 * SECOND_NS,
        account="HAMMER",
        previous_mode=Mode.NORMAL,
        mode=Mode.SOFT_DERISK,
        reason="gross 121.5% > soft 120%",
    )
    async with running(bus, service):
        await bus.publish(change)
        await bus.publish_raw("risk.mode", bus.codec.to_fields(change))  # a re-delivery
        await bus.publish_batch(
            [
                exposure(at_s, gross)
                for at_s, gross in ((0, 100.0), (20, 110.0), (59, 121.5), (61, 119.0))
            ]
        )
        await eventually(lambda: service.counts["exposure_samples"], lambda n: n == 4)
        await eventually(lambda: service.counts["mode_changes"], lambda n: n == 1)

    with LedgerStore.open(store_url) as store:
        [stored] = store.journal.mode_changes("HAMMER")
        samples = store.journal.exposure_samples("HAMMER")
    assert (stored.mode, stored.reason, stored.event_id) == (
        Mode.SOFT_DERISK,
        "gross 121.5% > soft 120%",
        change.event_id,
    )
    # One per minute, the latest of it: 59 s (121.5) for the first minute, 61 s for the next.
    assert [(s.ts_ns - OPEN_NS) // SECOND_NS for s in samples] == [59, 61]
    assert [s.gross_pct for s in samples] == [Decimal("121.5"), Decimal("119.0")]


def exposure(at_s: int, gross: float) -> ExposureSnapshot:
    return ExposureSnapshot(
        ts_event=OPEN_NS + at_s * SECOND_NS,
        account="HAMMER",
        equity=Decimal("1000000"),
        long_notional=Decimal("700000"),
        short_notional=Decimal("400000"),
        gross_exposure_pct=gross,
        long_gross_pct=70.0,
        short_gross_pct=40.0,
        net_exposure_pct=30.0,
        potential_gross_pct=gross,
        prices_as_of_ns=OPEN_NS,
    )


@pytest.mark.postgres
async def test_the_service_goes_on_after_postgres_drops_its_connection(
    pg_database_url: str, tmp_path: Path
) -> None:
    url = sql.create_schema(pg_database_url, sql.unique_name("s"))
    bus = make_bus("memory", None)
    service = LedgerService(url, hand_accounts(tmp_path), timezone=NY)
    fills = hand_fills("HAMMER")
    async with running(bus, service):
        await bus.publish(fill_event(fills[0]))
        await eventually(lambda: service.counts["booked"], lambda n: n == 1)
        assert sql.terminate_backends(pg_database_url) >= 1
        await bus.publish_batch([fill_event(each) for each in fills[1:]])
        await eventually(lambda: service.counts["booked"], lambda n: n == len(fills))

    assert report_of(url, "HAMMER") == expected_report("HAMMER")


async def test_a_broken_baseline_file_stops_the_start_naming_the_file(
    store_url: str, tmp_path: Path
) -> None:
    bad = tmp_path / "befday_HAMMER.csv"
    bad.write_text("symbol,qty,bucket,prior_close\nXYZ,ten,LT,25.00\n")
    account = AccountConfig(name="HAMMER", equity=Decimal("1000000"), baseline=str(bad))
    service = LedgerService(store_url, [account], timezone=NY)

    with pytest.raises(BaselineFileError, match=r"line 2, column 'qty'.*'ten'"):
        async with running(make_bus("memory", None), service):
            pass


def test_build_ledger_service_reads_the_config(tmp_path: Path) -> None:
    config = config_from_mapping(
        {
            "db": {"url": f"sqlite:///{tmp_path / 'l.sqlite'}"},
            "session": {"timezone": "America/New_York"},
            "risk": {"accounts": [{"name": "HAMMER", "equity": "1000000", "baseline": "b.csv"}]},
        }
    )

    service = build_ledger_service(config)

    assert isinstance(service, LedgerService)
    assert service.store_url == f"sqlite:///{tmp_path / 'l.sqlite'}"
    assert [(a.name, a.baseline) for a in service.accounts] == [("HAMMER", "b.csv")]
    assert [s.streams for s in service.subscriptions()] == [
        ["trades.order"],
        ["risk.mode"],
        ["exposure.snapshot"],
        ["market.quote"],
    ]
