"""Worker processes for fault tests: run as ``python tests/kit/procs.py MODE ...``.

They are separate OS processes so a test can kill -9 or SIGTERM them for real.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kit.bus import PING_STREAM, Ping, make_bus
from quantrail.bus.delivery import Delivery
from quantrail.bus.redis import RedisTransport
from quantrail.config import Config
from quantrail.events.base import Event
from quantrail.runtime.runner import ServiceRunner
from quantrail.runtime.service import Service, Subscription

# The effect and its idempotency mark in one atomic step, as a Redis-backed effect should be.
EFFECT_ONCE = """
if redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[2]) then
  redis.call('HINCRBY', KEYS[2], ARGV[1], 1)
  return 1
end
return 0
"""


async def crash_after(url: str, namespace: str, group: str, crash_seq: int) -> None:
    """Consume; after the effect of ``crash_seq`` (and before its ack) die by SIGKILL."""
    bus = make_bus("redis", url, namespace)
    assert isinstance(bus.transport, RedisTransport)
    client = bus.transport.client
    effects = bus.names.key("effects")

    async def handle(event: Event, delivery: Delivery) -> None:
        assert isinstance(event, Ping) and delivery.mark is not None
        await client.eval(EFFECT_ONCE, 2, delivery.mark, effects, event.seq, delivery.mark_ttl_s)
        if event.seq == crash_seq:
            os.kill(os.getpid(), signal.SIGKILL)

    consumer = bus.group_consumer(
        streams=[PING_STREAM], group=group, consumer="doomed", handler=handle
    )
    await consumer.run()


class LoadService(Service):
    """Records every handled entry id; takes a little time per event, like real work."""

    name = "load"

    def __init__(self, url: str, namespace: str) -> None:
        super().__init__()
        self._client = RedisTransport(url).client
        self._handled = f"{namespace}:handled"

    def subscriptions(self) -> list[Subscription]:
        return [Subscription(streams=[PING_STREAM], handler=self.handle)]

    async def handle(self, event: Event, delivery: Delivery) -> None:
        await asyncio.sleep(0.0005)  # simulated work inside the product, not a test wait
        await self._client.sadd(self._handled, delivery.entry_id)


async def serve(url: str, namespace: str) -> int:
    bus = make_bus("redis", url, namespace)
    runner = ServiceRunner(bus, [LoadService(url, namespace)], Config(), instance="proc")
    code = await runner.run()
    await bus.close()
    return code


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["crash-after", "serve"])
    parser.add_argument("--url", required=True)
    parser.add_argument("--namespace", required=True)
    parser.add_argument("--group", default="g")
    parser.add_argument("--crash-seq", type=int, default=-1)
    args = parser.parse_args()
    if args.mode == "crash-after":
        asyncio.run(crash_after(args.url, args.namespace, args.group, args.crash_seq))
        sys.exit(3)  # unreachable when the crash happens
    sys.exit(asyncio.run(serve(args.url, args.namespace)))


if __name__ == "__main__":
    main()
