"""The ``health`` service: the thresholds of seed 003 as alert events, and the process-wide
figures of ``/metrics`` (stream length, group lag and pending, heartbeat age, accounts).

It reads heartbeats (``system.health``) and the account streams, and every
``health.check_interval_s`` looks at every known stream; each crossed threshold becomes one
``system.alert.triggered`` per episode and one ``system.alert.cleared`` when it is over
(ops/health.py). On start it rebuilds the active alerts from ``system.alert``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

from prometheus_client.core import GaugeMetricFamily, Metric

from quantrail.bus.delivery import Delivery
from quantrail.bus.transport import StreamInfo
from quantrail.config import Config
from quantrail.events.base import Event, stream_of_kind
from quantrail.events.catalog import ALL_EVENTS
from quantrail.events.streams import DEADLETTER, HEALTH
from quantrail.events.system import HealthHeartbeat
from quantrail.ops.health import (
    AccountBook,
    AlertEpisodes,
    HeartbeatBook,
    Observations,
    merged_info,
    stream_observations,
)
from quantrail.ops.health_config import HealthConfig
from quantrail.runtime.clock import WallSeconds, exact_seconds
from quantrail.runtime.service import Service, Subscription, Timer
from quantrail.vocab import Mode

log = logging.getLogger("quantrail.health")
ALERT_STREAM = "system.alert"
ACCOUNT_STREAMS = (
    "risk.mode", "exposure.snapshot", "risk.daily_status", "risk.kill_switch", "trades.order",
)  # fmt: skip
MODE_VALUE = {Mode.NORMAL: 0, Mode.THROTTLE_NEW_ORDERS: 1, Mode.SOFT_DERISK: 2,
              Mode.HARD_DERISK: 3}  # fmt: skip


def known_streams() -> list[str]:
    """Every stream an event of the catalog goes to, and the dead letters."""
    kinds = {stream_of_kind(e.__struct_config__.tag) for e in ALL_EVENTS}  # type: ignore[arg-type]
    return sorted(kinds | {DEADLETTER})


class HealthService(Service):
    name = "health"

    def __init__(self, config: HealthConfig) -> None:
        super().__init__()
        self._config = config
        self.accounts = AccountBook()
        self.beats = HeartbeatBook()
        self.episodes = AlertEpisodes()
        self._streams: list[tuple[str, StreamInfo]] = []
        self._families: list[Metric] = []  # built on the loop, read by the scrape thread

    def subscriptions(self) -> Sequence[Subscription]:
        return [
            Subscription([HEALTH], self._on_heartbeat, name="heartbeats"),
            Subscription(ACCOUNT_STREAMS, self._on_account_event, name="accounts"),
        ]

    def timers(self) -> Sequence[Timer]:
        return [Timer(self._config.check_interval_s, self.check, "check")]

    async def on_start(self) -> None:
        self.episodes.restore(await self.ctx.bus.read_events(ALERT_STREAM))
        if self.episodes.active:
            log.info("%d alerts active at start", len(self.episodes.active))

    async def _on_heartbeat(self, event: Event, _delivery: Delivery) -> None:
        if isinstance(event, HealthHeartbeat):
            self.beats.apply(event)

    async def _on_account_event(self, event: Event, _delivery: Delivery) -> None:
        self.accounts.apply(event)

    async def check(self) -> int:
        """Look at every figure once; publish the alert edges; returns how many."""
        now = self.ctx.now_ns()
        self._streams = await self._stream_infos()
        observations: Observations = {}
        observations.update(stream_observations(self._streams, self._config))
        wall_s = self.ctx.wall_seconds  # heartbeat ages in wall seconds in a replay at speed
        observations.update(self.beats.observations(self._config, now, wall_s))
        observations.update(self.accounts.observations())
        edges = self.episodes.update(observations, now)
        if edges:
            await self.ctx.publish_batch(edges)
        self._families = self.families_at(now, wall_s)
        return len(edges)

    async def _stream_infos(self) -> list[tuple[str, StreamInfo]]:
        """One figure per logical stream: a sharded one (``bus.shards`` > 1) summed over every
        shard, so its length and lag are the stream's, whatever shard holds the entries."""
        bus = self.ctx.bus
        infos = []
        for stream in known_streams():
            shards = [await bus.transport.info(bus.names.key(s)) for s in bus.shard_streams(stream)]
            info = merged_info(bus.names.key(stream), shards)
            if info.length or info.groups:
                infos.append((stream, info))
        return infos

    def metric_families(self) -> Iterable[Metric]:
        return self._families

    def families_at(self, now_ns: int, wall_s: WallSeconds = exact_seconds) -> list[Metric]:
        length = GaugeMetricFamily(
            "quantrail_stream_length_entries", "entries in the stream", labels=("stream",)
        )
        lag = GaugeMetricFamily(
            "quantrail_consumer_group_lag_entries", "entries the group has not read yet",
            labels=("stream", "group"),
        )  # fmt: skip
        pending = GaugeMetricFamily(
            "quantrail_consumer_group_pending_entries", "entries read but not acked",
            labels=("stream", "group"),
        )  # fmt: skip
        for stream, info in self._streams:
            length.add_metric((stream,), info.length)
            for group in info.groups:
                lag.add_metric((stream, group.name), group.lag or 0)
                pending.add_metric((stream, group.name), group.pending)
        age = GaugeMetricFamily(
            "quantrail_heartbeat_age_seconds", "since the service's last heartbeat",
            labels=("service",),
        )  # fmt: skip
        for service in sorted(self.beats.services):
            age.add_metric((service,), self.beats.age_s(service, now_ns, wall_s))
        active = GaugeMetricFamily(
            "quantrail_alerts_active", "alerts the health monitor holds active"
        )
        active.add_metric((), len(self.episodes.active))
        return [length, lag, pending, age, active, *self._account_families()]

    def _account_families(self) -> list[Metric]:
        def gauge(name: str, doc: str) -> GaugeMetricFamily:
            return GaugeMetricFamily(f"quantrail_account_{name}", doc, labels=("account",))

        mode = gauge("risk_mode", "0 NORMAL, 1 THROTTLE_NEW_ORDERS, 2 SOFT_DERISK, 3 HARD_DERISK")
        gross = gauge("gross_exposure_percent", "gross exposure, % of equity")
        pnl = gauge("daily_pnl_percent", "daily P&L, % of start-of-day equity")
        kill = gauge("kill_switch_active", "1 while the kill switch is active")
        orders = gauge("open_orders", "orders not in a terminal state")
        positions = gauge("positions", "open positions")
        for account, figures in sorted(self.accounts.accounts.items()):
            mode.add_metric((account,), MODE_VALUE[figures.mode])
            gross.add_metric((account,), figures.gross_exposure_pct)
            pnl.add_metric((account,), figures.daily_pnl_pct)
            kill.add_metric((account,), 1 if figures.kill_switch_active else 0)
            orders.add_metric((account,), len(figures.open_orders))
            positions.add_metric((account,), figures.positions)
        return [mode, gross, pnl, kill, orders, positions]


def build_health_service(config: Config) -> Service:
    return HealthService(config.health)
