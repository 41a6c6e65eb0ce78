"""Dead letters cannot eat Redis's memory: a 16 MiB garbage entry leaves a capped dead letter.

On the real redis-server: two groups each dead-letter a 16 MiB entry that does not decode; each
dead letter keeps at most ``max_original_bytes`` of the original and names its length and
SHA-256; ``quantrail dlq list`` shows the bytes the stream holds; a cut letter is not retried.
"""

from __future__ import annotations

import asyncio
import hashlib
import os

import pytest
from typer.testing import CliRunner

from kit.bus import TEST_CODEC, EffectLog, fast_consumer_config, new_namespace
from kit.poll import eventually
from quantrail.bus.bus import EventBus
from quantrail.bus.deadletter import DeadLetter
from quantrail.bus.redis import RedisTransport
from quantrail.cli import app
from quantrail.config import BusConfig, DeadLetterConfig
from quantrail.events.streams import StreamNames

pytestmark = pytest.mark.redis
SIXTEEN_MIB = 16 * 1024 * 1024
CAP = 64 * 1024
runner = CliRunner(env={"COLUMNS": "250"})


def capped_bus(redis_url: str) -> EventBus:
    config = BusConfig(
        consumer=fast_consumer_config(), deadletter=DeadLetterConfig(max_original_bytes=CAP)
    )
    names = StreamNames(new_namespace())
    return EventBus(RedisTransport(redis_url), config=config, names=names, codec=TEST_CODEC)


async def test_a_16_mib_garbage_entry_leaves_a_capped_dead_letter_per_group(
    redis_url: str,
) -> None:
    bus = capped_bus(redis_url)
    garbage = os.urandom(SIXTEEN_MIB)
    await bus.publish_raw("test.garbage", {b"kind": b"test.ping", b"payload": garbage})
    consumers = [
        bus.group_consumer(
            streams=["test.garbage"], group=group, consumer="c", handler=EffectLog().handle
        )
        for group in ("g1", "g2")
    ]
    tasks = [asyncio.create_task(c.run()) for c in consumers]
    try:
        letters = await eventually(bus.dead_letters, lambda d: len(d) == 2, within=10.0)
    finally:
        for consumer in consumers:
            consumer.stop()
        await asyncio.gather(*tasks)
    sha = hashlib.sha256(garbage).hexdigest()
    for letter in letters:
        kept = sum(len(value) for value in letter.original.values())
        assert kept <= CAP
        assert letter.original[b"payload"] == garbage[: CAP - len(b"test.ping")]
        assert letter.cut[b"payload"].length == SIXTEEN_MIB
        assert letter.cut[b"payload"].sha256 == sha
        assert letter.size_bytes < CAP + 8 * 1024  # the failure's own fields are small
        assert letter.error_type == "EventDecodeError" and len(letter.error) < 5000
    assert {letter.group for letter in letters} == {"g1", "g2"}
    count, held = await bus.dead_letter_bytes()
    assert count == 2 and held == sum(letter.size_bytes for letter in letters)
    await cli_shows_bytes_and_refuses_retry(redis_url, bus, letters, held)
    await bus.close()


async def cli_shows_bytes_and_refuses_retry(
    redis_url: str, bus: EventBus, letters: list[DeadLetter], held: int
) -> None:
    ns = bus.names.namespace
    listed = await asyncio.to_thread(
        runner.invoke, app, ["dlq", "list", "--redis", redis_url, "-n", ns]
    )
    assert listed.exit_code == 0, listed.output
    assert f"the stream holds 2 dead letters, {held:,} bytes" in listed.output
    assert f"payload cut from {SIXTEEN_MIB:,} B, sha256" in listed.output
    retried = await asyncio.to_thread(
        runner.invoke, app, ["dlq", "retry", letters[0].dlq_id, "--redis", redis_url, "-n", ns]
    )
    assert retried.exit_code == 2
    assert "nothing retried: 1 of the chosen dead letters keep only part" in retried.output
    assert len(await bus.dead_letters()) == 2  # nothing was removed
