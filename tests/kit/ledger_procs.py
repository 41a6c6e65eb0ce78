"""The ledger service as a real OS process, for kill -9 tests.

    python tests/kit/ledger_procs.py --redis URL --namespace NS --db URL --baselines DIR
        [--crash-after ACCOUNT:FILL_ID]

It runs ``build_ledger_service`` on the Redis bus under the runner (consumer ``ledger-proc``,
so a restarted process takes back what the previous one left pending). With ``--crash-after``
it kills itself with SIGKILL right after that fill is stored and before its ack: the worst
moment to die.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kit.bus import fast_consumer_config
from quantrail.bus.delivery import Delivery
from quantrail.bus.factory import open_bus
from quantrail.config import Config, config_from_mapping
from quantrail.events.base import Event
from quantrail.events.orders import OrderFill
from quantrail.ledger.service import LedgerService
from quantrail.ledger.services import build_ledger_service
from quantrail.runtime.runner import ServiceRunner
from quantrail.runtime.service import Service

ACCOUNTS = ("HAMMER", "IBKR_GUN", "IBKR_PED")


class CrashAfter(LedgerService):
    """Dies by SIGKILL once ``account:fill_id`` is in the store, before the bus acks it."""

    crash_key = ""

    async def on_order_event(self, event: Event, delivery: Delivery) -> None:
        await super().on_order_event(event, delivery)
        if isinstance(event, OrderFill) and f"{event.account}:{event.fill_id}" == self.crash_key:
            os.kill(os.getpid(), signal.SIGKILL)


def worker_config(redis: str, namespace: str, db: str, baselines: Path) -> Config:
    consumer = {
        name: getattr(fast_consumer_config(), name)
        for name in ("batch_size", "block_ms", "claim_idle_ms", "claim_interval_ms", "backoff_ms")
    }
    return config_from_mapping(
        {
            "namespace": namespace,
            "redis": {"url": redis},
            "bus": {"transport": "redis", "consumer": consumer},
            "db": {"url": db},
            "runtime": {"heartbeat_s": 1},
            "risk": {
                "accounts": [
                    {
                        "name": name,
                        "equity": "1000000",
                        "baseline": str(baselines / f"befday_{name}.csv"),
                    }
                    for name in ACCOUNTS
                ]
            },
        }
    )


async def serve(config: Config, crash_after: str) -> int:
    service: Service
    if crash_after:
        CrashAfter.crash_key = crash_after
        service = CrashAfter.from_config(config)
    else:
        service = build_ledger_service(config)
    bus = open_bus(config)
    code = await ServiceRunner(bus, [service], config, instance="proc").run()
    await bus.close()
    return code


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--redis", required=True)
    parser.add_argument("--namespace", required=True)
    parser.add_argument("--db", required=True)
    parser.add_argument("--baselines", required=True, type=Path)
    parser.add_argument("--crash-after", default="")
    args = parser.parse_args()
    config = worker_config(args.redis, args.namespace, args.db, args.baselines)
    sys.exit(asyncio.run(serve(config, args.crash_after)))


if __name__ == "__main__":
    main()
