"""Dead-letter ids are usable as shown: in ``dlq list`` at any terminal width, and in the log.

``dlq list`` used to cut its ids in an 80-column terminal, and the consumer's log line named
the original entry id, which ``dlq retry`` refuses (it takes dead-letter ids).
"""

from __future__ import annotations

import asyncio
import logging
import re

import pytest
from typer.testing import CliRunner

from kit.bus import Ping, make_bus, new_namespace
from kit.poll import eventually
from quantrail.bus.delivery import Delivery
from quantrail.cli import app
from quantrail.events.base import Event

pytestmark = pytest.mark.redis
ID = re.compile(r"\b\d{13}-\d+\b")


async def failing(event: Event, delivery: Delivery) -> None:
    raise ValueError("a handler that always fails, with a long message " + "x" * 80)


async def dead_letter_two(redis_url: str, namespace: str) -> None:
    bus = make_bus("redis", redis_url, namespace)
    await bus.publish_batch([Ping(ts_event=1, seq=1), Ping(ts_event=2, seq=2)])
    consumer = bus.group_consumer(
        streams=["test.ping"], group="a-rather-long-group-name", consumer="c", handler=failing
    )
    task = asyncio.create_task(consumer.run())
    try:
        await eventually(bus.dead_letters, lambda letters: len(letters) == 2, within=10.0)
    finally:
        consumer.stop()
        await task
        await bus.close()


def cli(args: list[str], columns: int) -> tuple[int, str]:
    result = CliRunner(env={"COLUMNS": str(columns)}).invoke(app, args)
    return result.exit_code, result.output


@pytest.mark.parametrize("columns", [40, 80, 200])
async def test_dlq_list_shows_whole_ids_that_retry_accepts(redis_url: str, columns: int) -> None:
    namespace = new_namespace()
    await dead_letter_two(redis_url, namespace)
    where = ["--redis", redis_url, "-n", namespace]
    code, out = await asyncio.to_thread(cli, ["dlq", "list", *where], columns)
    assert code == 0, out
    bus = make_bus("redis", redis_url, namespace)
    real = sorted(letter.dlq_id for letter in await bus.dead_letters())
    await bus.close()
    assert sorted(set(ID.findall(out))) == real, out
    code, out = await asyncio.to_thread(cli, ["dlq", "retry", real[0], *where], columns)
    assert code == 0 and "retried 1" in out, out


async def test_the_log_names_the_dead_letter_id_that_retry_accepts(
    redis_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    namespace = new_namespace()
    with caplog.at_level(logging.ERROR, logger="quantrail"):
        logging.getLogger("quantrail").propagate = True
        try:
            await dead_letter_two(redis_url, namespace)
        finally:
            logging.getLogger("quantrail").propagate = False
    # A set: with other tests' handlers on the logger a record may be captured twice.
    lines = sorted({r.getMessage() for r in caplog.records if "dead-lettered" in r.getMessage()})
    assert len(lines) == 2, lines
    named = re.search(r"as dead letter (\d+-\d+)", lines[0])
    assert named is not None, lines[0]
    code, out = await asyncio.to_thread(
        cli, ["dlq", "retry", named.group(1), "--redis", redis_url, "-n", namespace], 200
    )
    assert code == 0 and "retried 1" in out, out
