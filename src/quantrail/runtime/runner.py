"""The runner: hosts any set of services in one asyncio process.

It starts a consumer per subscription, the services' timers and a heartbeat per service, and on
SIGINT/SIGTERM stops reading, lets every consumer finish and ack the batch in hand, calls the
services' ``on_stop`` and returns 0. Nothing handled is left un-acked.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from quantrail.bus.broadcast import BroadcastConsumer
from quantrail.bus.bus import EventBus
from quantrail.bus.consumer import GroupConsumer
from quantrail.config import Config
from quantrail.runtime.breaker import CircuitBreaker
from quantrail.runtime.clock import Clock, WallClock
from quantrail.runtime.heartbeat import build_heartbeat
from quantrail.runtime.logs import current_service
from quantrail.runtime.service import Service, ServiceContext, Subscription, Timer

if TYPE_CHECKING:
    from quantrail.ops.metrics import ProcessMetrics

log = logging.getLogger("quantrail.runtime")


@dataclass(slots=True)
class _Hosted:
    service: Service
    consumers: list[GroupConsumer | BroadcastConsumer] = field(default_factory=list)
    consumer_tasks: list[asyncio.Task[None]] = field(default_factory=list)
    timer_tasks: list[asyncio.Task[None]] = field(default_factory=list)
    crashed: list[str] = field(default_factory=list)
    starting: bool = False  # on_start was called: on_stop cleans up after it, even a failed one


class ServiceRunner:
    def __init__(
        self,
        bus: EventBus,
        services: Sequence[Service],
        config: Config,
        *,
        clock: Clock | None = None,
        instance: str | None = None,
        heartbeats: bool = True,
        metrics: ProcessMetrics | None = None,
    ) -> None:
        names = [s.name for s in services]
        if len(set(names)) != len(names):
            raise ValueError(f"service names must be unique, got {names}")
        self.bus = bus
        self.config = config
        self.clock: Clock = clock or WallClock()
        self.instance = instance or socket.gethostname()
        self._hosted = [_Hosted(service) for service in services]
        self._heartbeats = heartbeats
        self.metrics = metrics  # measures every handler; serves /metrics when given a port
        if metrics is not None:
            metrics.watch(lambda: self.consumers, services)
        self._stop = asyncio.Event()
        self._started_ns = 0
        self.started = asyncio.Event()

    def request_stop(self) -> None:
        self._stop.set()

    @property
    def consumers(self) -> list[GroupConsumer | BroadcastConsumer]:
        return [c for hosted in self._hosted for c in hosted.consumers]

    async def run(self, install_signals: bool = True) -> int:
        """Run until stopped (signal or :meth:`request_stop`); returns the exit code."""
        if install_signals:
            self._install_signal_handlers()
        self._started_ns = self.clock.now_ns()
        try:
            for hosted in self._hosted:
                await self._start(hosted)
            self.started.set()
            await self._stop.wait()
        finally:
            await self._shutdown()
        crashed = [name for hosted in self._hosted for name in hosted.crashed]
        return 1 if crashed else 0

    def _install_signal_handlers(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, self._on_signal, sig)

    def _on_signal(self, sig: signal.Signals) -> None:
        log.info("received %s: stopping after the batches in hand", sig.name)
        self.request_stop()

    async def _start(self, hosted: _Hosted) -> None:
        service = hosted.service
        token = current_service.set(service.name)
        try:
            service.bind(
                ServiceContext(
                    bus=self.bus,
                    clock=self.clock,
                    config=self.config,
                    service=service.name,
                    instance=self.instance,
                )
            )
            hosted.starting = True
            await service.on_start()
            for subscription in service.subscriptions():
                consumer = self._consumer_for(service, subscription)
                hosted.consumers.append(consumer)
                hosted.consumer_tasks.append(
                    asyncio.create_task(self._run_consumer(hosted, consumer))
                )
            for timer in service.timers():
                hosted.timer_tasks.append(asyncio.create_task(self._run_timer(hosted, timer)))
            if self._heartbeats:
                hosted.timer_tasks.append(asyncio.create_task(self._heartbeat_loop(hosted)))
            log.info("started with %d consumers", len(hosted.consumers))
        finally:
            current_service.reset(token)

    def _consumer_for(
        self, service: Service, subscription: Subscription
    ) -> GroupConsumer | BroadcastConsumer:
        breaker_config = self.config.runtime.breaker
        breaker = CircuitBreaker(
            f"{service.name}.{subscription.name}",
            breaker_config.failures,
            breaker_config.reset_s,
            lambda: self.clock.now_ns() / 1e9,
        )
        consumer_name = f"{service.name}-{self.instance}"
        group = "broadcast" if subscription.broadcast else subscription.group or service.name
        handler = subscription.handler
        if self.metrics is not None:
            handler = self.metrics.wrap(service.name, group, handler)
        if subscription.broadcast:
            return self.bus.broadcast_consumer(
                streams=subscription.streams,
                consumer=consumer_name,
                handler=handler,
                start=subscription.start or "$",
                breaker=breaker,
            )
        if subscription.start is not None and not isinstance(subscription.start, str):
            # A group starts once for all its instances: one id, not one reader's positions.
            raise TypeError(
                f"{service.name}.{subscription.name}: start of a group must be one id,"
                f" got {subscription.start!r}"
            )
        return self.bus.group_consumer(
            streams=subscription.streams,
            group=group,
            consumer=consumer_name,
            handler=handler,
            breaker=breaker,
            start_id=subscription.start or "0",
            idempotent=subscription.idempotent,
        )

    async def _run_consumer(
        self, hosted: _Hosted, consumer: GroupConsumer | BroadcastConsumer
    ) -> None:
        current_service.set(hosted.service.name)
        try:
            await consumer.run()
        except asyncio.CancelledError:
            raise
        except Exception:
            hosted.crashed.append(consumer.name)
            log.exception("consumer %s crashed", consumer.name)

    async def _run_timer(self, hosted: _Hosted, timer: Timer) -> None:
        current_service.set(hosted.service.name)
        while not self._stop.is_set():
            await self.clock.sleep(timer.interval_s)
            if self._stop.is_set():
                return
            try:
                await timer.callback()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("timer %s failed", timer.name)

    async def _heartbeat_loop(self, hosted: _Hosted) -> None:
        current_service.set(hosted.service.name)
        while not self._stop.is_set():
            await self._publish_heartbeat(hosted)
            await self.clock.sleep(self.config.runtime.heartbeat_s)

    async def _publish_heartbeat(self, hosted: _Hosted) -> None:
        heartbeat = build_heartbeat(
            service=hosted.service.name,
            instance=self.instance,
            consumers=hosted.consumers,
            crashed=hosted.crashed,
            started_ns=self._started_ns,
            now_ns=self.clock.now_ns(),
            extra=hosted.service.health(),
        )
        try:
            await self.bus.publish(heartbeat)
        except Exception as exc:  # a heartbeat must never take the service down
            log.warning("heartbeat not published: %s", exc)

    async def _shutdown(self) -> None:
        grace = self.config.runtime.shutdown_grace_s
        for hosted in self._hosted:
            for consumer in hosted.consumers:
                consumer.stop()
        tasks = [t for h in self._hosted for t in h.consumer_tasks]
        if tasks:
            _done, pending = await asyncio.wait(tasks, timeout=grace)
            for task in pending:
                log.error("consumer did not stop within %.1fs; cancelling", grace)
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        for hosted in self._hosted:
            for task in hosted.timer_tasks:
                task.cancel()
            await asyncio.gather(*hosted.timer_tasks, return_exceptions=True)
        for hosted in reversed(self._hosted):
            if not hosted.starting:
                continue  # never started (an earlier service's start failed): nothing to stop
            token = current_service.set(hosted.service.name)
            try:
                await hosted.service.on_stop()
            except Exception:
                log.exception("on_stop failed")
            finally:
                current_service.reset(token)
        log.info("stopped")
