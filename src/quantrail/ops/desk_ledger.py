"""The day's P&L of an account from the ledger's SQL, for the desk view (read only).

The dual ledger's figures: intraday realized (positions opened today), baseline realized
(reductions of the BefDay positions), unrealized at the latest marks the desk has seen, fees.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from decimal import Decimal
from zoneinfo import ZoneInfo

from quantrail.ops.desk_feed import LedgerReader
from quantrail.ops.desk_view import LedgerPnl
from quantrail.session.calendar import local_date

log = logging.getLogger(__name__)


def ledger_reader(
    db_url: str, timezone: str, now_ns: Callable[[], int] = time.time_ns
) -> LedgerReader:
    """A reader of today's (exchange-local, at ``now_ns()``) figures in the ledger at ``db_url``."""
    zone = ZoneInfo(timezone)
    warned: set[str] = set()

    def read(account: str, marks: Mapping[str, Decimal]) -> tuple[LedgerPnl | None, str]:
        from quantrail.ledger.report import build_report
        from quantrail.ledger.store import LedgerStore, StoreError

        day = local_date(now_ns(), zone)
        try:
            with LedgerStore.open(db_url, migrate=False) as store:
                books = store.load_day(account, day)
        except StoreError as exc:
            return None, f"ledger: {exc}"
        except Exception as exc:  # the desk stays up whatever the ledger's database does
            if str(exc) not in warned:  # once per distinct error, not every few seconds
                warned.add(str(exc))
                log.warning("desk: cannot read the ledger for %s: %s", account, exc)
            return None, f"ledger unavailable: {str(exc)[:120]}"
        report = build_report(books, marks, timezone=timezone)
        figures = LedgerPnl(
            realized_intraday=report.realized_intraday,
            baseline_realized=report.baseline_realized,
            unrealized=report.unrealized,
            fees=report.fees,
        )
        return figures, ""

    return read
