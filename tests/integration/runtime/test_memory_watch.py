"""``MemoryWatch`` notices a Redis that forgot everything, once per loss, and nothing else."""

from __future__ import annotations

from kit.bus import make_bus
from kit.memloss import forget_namespace
from quantrail.bus.bus import EventBus
from quantrail.ops.redis_server import RedisServer
from quantrail.runtime.memory_watch import NS_PER_S, MemoryWatch

T = 1_000 * NS_PER_S


async def test_an_emptied_redis_is_noticed_once_and_only_when_due(redis_url: str) -> None:
    bus = make_bus("redis", redis_url)
    try:
        watch = MemoryWatch("ledger", "i1", every_s=0.5)
        await watch.arm(bus, T)
        assert not await watch.lost(bus, T + NS_PER_S)
        await forget_namespace(bus)
        assert not await watch.lost(bus, T + NS_PER_S + 1)  # not due yet: 0.5 s between looks
        assert await watch.lost(bus, T + 2 * NS_PER_S)
        assert not await watch.lost(bus, T + 3 * NS_PER_S)  # said once: the marker is back
        assert watch.losses == 1
    finally:
        await bus.close()


async def test_every_instance_notices_for_itself(bus: EventBus) -> None:
    one, two = MemoryWatch("execution", "a"), MemoryWatch("execution", "b")
    for watch in (one, two):
        await watch.arm(bus, T)
    await bus.set_state(one.state_name, {})  # a wipe, as each marker sees it
    await bus.set_state(two.state_name, {})
    assert await one.lost(bus, T + NS_PER_S)
    assert await two.lost(bus, T + NS_PER_S)


async def test_an_unreachable_redis_is_not_a_loss_and_an_aof_restart_keeps_the_marker() -> None:
    with RedisServer(persistent=True) as server:
        bus = make_bus("redis", server.url)
        try:
            watch = MemoryWatch("ledger", "i1")
            await watch.arm(bus, T)
            server.kill()
            assert not await watch.lost(bus, T + NS_PER_S)
            server.start()
            assert not await watch.lost(bus, T + 2 * NS_PER_S)
            assert watch.losses == 0
        finally:
            await bus.close()
