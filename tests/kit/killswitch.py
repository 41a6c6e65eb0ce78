"""Builders for the kill switch tests: a config, the losing day computed by hand, a rig.

The losing day (``LOSS_*``): ACC1 starts with equity 100,000 and 1,000 ACME from the baseline
at a prior close of 50.00.

* buy 1,000 @ 49.00, fee 5.00: 2,000 held at an average (1,000 x 50 + 1,000 x 49) / 2,000
  = 49.50;
* sell 500 @ 48.00, fee 2.50: realized (48.00 - 49.50) x 500 = -750.00; 1,500 left at 49.50;
* a print at 46.00: unrealized (46.00 - 49.50) x 1,500 = -5,250.00.

Daily P&L = -750.00 - 5,250.00 - 7.50 = -6,007.50, i.e. -6.0075 % of 100,000: past -5 %.
Before the print the mark is the prior close: -750 + (50 - 49.50) x 1,500 - 7.50 = -7.50.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from kit.event_base import ACCOUNT, T0
from kit.market_events import trade_print
from kit.order_events import order_filled
from kit.running import Running
from quantrail.config import Config, config_from_mapping
from quantrail.events import OrderFilled, TradePrinted
from quantrail.risk.kill_switch_service import KillSwitchService
from quantrail.runtime.service import Service
from quantrail.vocab import Side

D = Decimal
EQUITY = "100000"
BASELINE = "symbol,qty,bucket,prior_close\nACME,1000,LT,50.00\n"
LOSS_PNL = D("-6007.50")
LOSS_PCT = D("-6.0075")
BEFORE_PRINT_PNL = D("-7.50")


def killswitch_config(
    tmp_path: Path, db_url: str, *, flatten: bool = False, **extra: Any
) -> Config:
    baseline = tmp_path / "acc1_baseline.csv"
    baseline.write_text(BASELINE)
    account = {"name": ACCOUNT, "equity": EQUITY, "baseline": str(baseline)}
    return config_from_mapping(
        {
            "db": {"url": db_url},
            "risk": {"accounts": [account]},
            "risk_kernel": {"daily_loss_limit_pct": -5.0},
            "kill_switch": {"flatten": flatten, "status_interval_s": 1.0},
            **extra,
        }
    )


def losing_fills(ts: int = T0) -> list[OrderFilled]:
    """The two fills of the losing day (distinct orders and fill ids)."""
    return [
        order_filled(
            qty=1000, price="49.00", fees="5.00", order_id="ks-buy", fill_id="ks-f1",
            side=Side.BUY, symbol="ACME", ts_event=ts,
        ),
        order_filled(
            qty=500, price="48.00", fees="2.50", order_id="ks-sell", fill_id="ks-f2",
            side=Side.SELL, symbol="ACME", ts_event=ts + 1_000,
        ),
    ]  # fmt: skip


def the_drop(ts: int = T0 + 2_000) -> TradePrinted:
    """The print that takes the day past the limit."""
    return trade_print(symbol="ACME", price="46.00", size=100, ts_event=ts, ts_exchange_ns=ts)


class Rig(Running):
    """The kill switch service (after any others a test adds) under a runner."""

    async def start(self, *extra: Service) -> KillSwitchService:
        killswitch = KillSwitchService(self.config)
        await self.run([*extra, killswitch])
        return killswitch


def write_cli_config(tmp_path: Path, db_url: str) -> Path:
    """A quantrail.yaml for the CLI verbs: the account and the database of ``killswitch_config``."""
    baseline = tmp_path / "acc1_baseline.csv"
    baseline.write_text(BASELINE)
    path = tmp_path / "quantrail.yaml"
    path.write_text(
        f"db:\n  url: {db_url!r}\n"
        f"risk:\n  accounts:\n    - name: {ACCOUNT}\n      equity: '{EQUITY}'\n"
        f"      baseline: {str(baseline)!r}\n"
    )
    return path


def activations(events: list[Any]) -> list[Any]:
    return [e for e in events if e.kind == "risk.kill_switch.activated"]
