"""A live day has its BefDay snapshot from the configured baseline, fills or not.

After ``quantrail up`` ran a day with no fills for an account, ``report eod`` for that day used
to stop with "no befday snapshot" although the config names the account's baseline file: the
ledger service took a snapshot only with the first fill. It now takes it when the day first
shows up (start-up, an exposure sample, a mode change), from the configured file.
"""

from __future__ import annotations

import time
from pathlib import Path

from kit.bus import make_bus
from kit.ledger import DAY, OPEN_NS, hand_accounts, running
from kit.poll import eventually
from quantrail.events.risk import RiskModeChanged
from quantrail.ledger.booking import session_day
from quantrail.ledger.report import report_eod
from quantrail.ledger.service import LedgerService
from quantrail.ledger.store import LedgerStore
from quantrail.vocab import Mode

NY = "America/New_York"


async def test_a_day_without_fills_reports_against_the_configured_baseline(
    store_url: str, tmp_path: Path
) -> None:
    bus = make_bus("memory", None)
    service = LedgerService(store_url, hand_accounts(tmp_path), timezone=NY)
    change = RiskModeChanged(
        ts_event=OPEN_NS, account="HAMMER", previous_mode=Mode.NORMAL,
        mode=Mode.SOFT_DERISK, reason="gross 121.5% > soft 120%",
    )  # fmt: skip
    async with running(bus, service):
        await bus.publish(change)
        await eventually(lambda: service.counts["mode_changes"], lambda n: n == 1)
    today = session_day(time.time_ns(), NY)
    with LedgerStore.open(store_url) as store:
        for day in (DAY, today):  # the mode change's day, and the day the service started
            snapshot = store.load_snapshot("HAMMER", day)
            assert snapshot is not None, day
            assert {p.symbol: p.qty for p in snapshot.positions} == {"ABC": -500, "XYZ": 1000}
        report = report_eod(store, "HAMMER", DAY, timezone=NY).to_dict()
    assert report["fill_count"] == 0 and report["positions_end"] == {"ABC": -500, "XYZ": 1000}
    assert [m["mode"] for m in report["mode_changes"]] == ["SOFT_DERISK"]
