"""Prometheus metrics of one process: what its consumers did, and what its services report.

One :class:`ProcessMetrics` per process (its own registry, so tests may run several) serves
``/metrics`` on one port. The runner wraps every handler with :meth:`ProcessMetrics.wrap`
(events handled, acked, retried and dead-lettered by stream, group and kind; handler and
end-to-end latency) and lists its consumers (breaker state). A hosted service that is a
:class:`MetricsSource` (the ``health`` service: stream lengths, group lag and pending, heartbeat
ages, the accounts' figures) adds its own families at every scrape. Names: docs/operations.md.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Protocol, runtime_checkable

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    start_http_server,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from quantrail.bus.delivery import Delivery, Handler
from quantrail.bus.violation import is_rule_violation
from quantrail.events.base import Event
from quantrail.runtime.breaker import BreakerState

log = logging.getLogger("quantrail.metrics")
BREAKER_VALUE = {BreakerState.CLOSED: 0, BreakerState.HALF_OPEN: 1, BreakerState.OPEN: 2}
LATENCY_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
EVENT_LABELS = ("service", "stream", "group", "kind")


@runtime_checkable
class MetricsSource(Protocol):
    def metric_families(self) -> Iterable[Metric]: ...


class ProcessMetrics:
    """The process's registry, counters and histograms; ``serve`` starts ``/metrics``."""

    def __init__(self, max_deliveries: int, now_ns: Callable[[], int]) -> None:
        disable_created_metrics()  # type: ignore[no-untyped-call]  # no *_created series: they double every scrape for nothing
        self.registry = CollectorRegistry()
        self._max_deliveries = max_deliveries
        self._now_ns = now_ns
        self._consumers: Callable[[], Sequence[object]] = lambda: ()
        self._sources: list[MetricsSource] = []
        self._server: object | None = None
        self.port = 0
        self.handled = self._counter("events_handled", "events a handler handled")
        self.acked = self._counter("events_acked", "events handled and acked with the batch")
        self.retried = self._counter("events_retried", "handler failures that will be retried")
        self.dead_lettered = self._counter(
            "events_dead_lettered", "events a handler failed for the last time (dead letter)"
        )
        self.handler_latency = Histogram(
            "quantrail_handler_latency_seconds", "time in the handler (wall)",
            ("service", "stream", "kind"), buckets=LATENCY_BUCKETS, registry=self.registry,
        )  # fmt: skip
        self.end_to_end = Histogram(
            "quantrail_event_latency_seconds",
            "ts_event to handled, on the service clock (replayed time in a replay)",
            ("service", "stream", "kind"), buckets=LATENCY_BUCKETS, registry=self.registry,
        )  # fmt: skip
        self.registry.register(_Collected(self))

    def _counter(self, name: str, doc: str) -> Counter:
        return Counter(f"quantrail_{name}", doc, EVENT_LABELS, registry=self.registry)

    def watch(self, consumers: Callable[[], Sequence[object]], sources: Iterable[object]) -> None:
        """The runner's consumers (for breaker states) and its services (the sources)."""
        self._consumers = consumers
        self._sources = [s for s in sources if isinstance(s, MetricsSource)]

    def wrap(self, service: str, group: str, handler: Handler) -> Handler:
        async def measured(event: Event, delivery: Delivery) -> None:
            stream = delivery.stream.rsplit(":", 1)[-1]  # the logical name, without namespace
            labels = (service, stream, group, event.kind)
            started = time.perf_counter()
            try:
                await handler(event, delivery)
            except Exception as exc:
                last = is_rule_violation(exc) or delivery.deliveries >= self._max_deliveries
                (self.dead_lettered if last else self.retried).labels(*labels).inc()
                raise
            self.handler_latency.labels(service, stream, event.kind).observe(
                time.perf_counter() - started
            )
            self.end_to_end.labels(service, stream, event.kind).observe(
                max(0.0, (self._now_ns() - event.ts_event) / 1e9)
            )
            self.handled.labels(*labels).inc()
            self.acked.labels(*labels).inc()

        return measured

    def serve(self, port: int, addr: str = "127.0.0.1") -> int:
        """Start ``/metrics`` on ``port`` (0 is no server); returns the port."""
        if port:
            try:
                server, _thread = start_http_server(port, addr=addr, registry=self.registry)
            except OSError as exc:
                raise ValueError(
                    f"metrics-port: cannot serve on {addr}:{port} ({exc.strerror or exc}); "
                    "pick another --metrics-port, or 0 for none"
                ) from None
            self._server, self.port = server, port
            log.info("metrics on http://%s:%d/metrics", addr, port)
        return self.port

    def close(self) -> None:
        shutdown = getattr(self._server, "shutdown", None)
        if callable(shutdown):
            shutdown()
        self._server = None

    def collect_extra(self) -> Iterator[Metric]:
        breakers = GaugeMetricFamily(
            "quantrail_breaker_state", "circuit breaker: 0 closed, 1 half-open, 2 open",
            labels=("breaker",),
        )  # fmt: skip
        for consumer in self._consumers():
            breaker = getattr(consumer, "breaker", None)
            state = getattr(breaker, "state", None)
            if isinstance(state, BreakerState):
                breakers.add_metric((str(getattr(breaker, "name", "")),), BREAKER_VALUE[state])
        yield breakers
        for source in self._sources:
            try:
                yield from source.metric_families()
            except Exception:  # a scrape must never fail on one source
                log.exception("metrics source failed")


class _Collected(Collector):
    def __init__(self, metrics: ProcessMetrics) -> None:
        self._metrics = metrics

    def collect(self) -> Iterable[Metric]:
        return list(self._metrics.collect_extra())
