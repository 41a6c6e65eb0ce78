"""The risk kernel or the position sizer as a real OS process, for kill -9 tests.

    python tests/kit/kernel_procs.py {risk_kernel,sizer} --redis URL --namespace NS
        --instance NAME [--crash-after ID]

It runs ``build_risk_kernel_service`` / ``build_sizer_service`` on the Redis bus under the
runner (consumer ``<service>-<NAME>``: a process restarted with the same NAME takes back what
the previous one left pending; another NAME claims it once idle). The signing key comes from
the environment (``QUANTRAIL_SIGNING_KEY``), as in production. With ``--crash-after`` it kills
itself with SIGKILL right after publishing for that signal id (kernel) or evaluation id (sizer)
and before the bus acks it: the worst moment to die.

Consumer timings: claims after 2 s idle, batches of 10, so a live instance's batch is always
handled long before another instance may claim it (docs/risk_kernel.md, "Failover").
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
from kit.kernel import EQUITY
from quantrail.bus.delivery import Delivery
from quantrail.bus.factory import open_bus
from quantrail.config import Config, config_from_mapping
from quantrail.events.base import Event
from quantrail.events.risk import RiskEvaluationCompleted
from quantrail.events.signals import SignalIssued
from quantrail.risk.kernel_service import RiskKernelService, build_risk_kernel_service
from quantrail.runtime.runner import ServiceRunner
from quantrail.runtime.service import Service
from quantrail.strategy.sizer_service import SizerService, build_sizer_service

ACCOUNTS = ("ACC1", "ACC2")
CLAIM_IDLE_MS = 2_000


class CrashingKernel(RiskKernelService):
    crash_after = ""

    async def _on_signal(self, event: Event, delivery: Delivery) -> None:
        await super()._on_signal(event, delivery)
        if isinstance(event, SignalIssued) and event.signal_id == self.crash_after:
            os.kill(os.getpid(), signal.SIGKILL)


class CrashingSizer(SizerService):
    crash_after = ""

    async def _on_evaluation(self, event: Event, delivery: Delivery) -> None:
        await super()._on_evaluation(event, delivery)
        if isinstance(event, RiskEvaluationCompleted) and event.evaluation_id == self.crash_after:
            os.kill(os.getpid(), signal.SIGKILL)


def worker_config(redis: str, namespace: str) -> Config:
    consumer = fast_consumer_config(batch_size=10, claim_idle_ms=CLAIM_IDLE_MS)
    timings = ("batch_size", "block_ms", "claim_idle_ms", "claim_interval_ms", "backoff_ms")
    return config_from_mapping(
        {
            "namespace": namespace,
            "redis": {"url": redis},
            "bus": {
                "transport": "redis",
                "consumer": {name: getattr(consumer, name) for name in timings},
            },
            "runtime": {"heartbeat_s": 1},
            "risk": {"accounts": [{"name": name, "equity": str(EQUITY)} for name in ACCOUNTS]},
            "risk_kernel": {"max_data_age_s": 3600, "max_trades_per_day": 100_000},
        }
    )


def build(service: str, config: Config, crash_after: str) -> Service:
    CrashingKernel.crash_after = CrashingSizer.crash_after = crash_after
    if service == "risk_kernel":
        if crash_after:
            return CrashingKernel.from_config(config)
        return build_risk_kernel_service(config)
    return CrashingSizer.from_config(config) if crash_after else build_sizer_service(config)


async def serve(service: Service, config: Config, instance: str) -> int:
    bus = open_bus(config)
    code = await ServiceRunner(bus, [service], config, instance=instance).run()
    await bus.close()
    return code


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("service", choices=["risk_kernel", "sizer"])
    parser.add_argument("--redis", required=True)
    parser.add_argument("--namespace", required=True)
    parser.add_argument("--instance", required=True)
    parser.add_argument("--crash-after", default="")
    args = parser.parse_args()
    config = worker_config(args.redis, args.namespace)
    service = build(args.service, config, args.crash_after)
    sys.exit(asyncio.run(serve(service, config, args.instance)))


if __name__ == "__main__":
    main()
