"""The health monitor's logic: what it knows, which thresholds are crossed, alert episodes.

Pure and synchronous: the ``health`` service (ops/health_service.py) feeds it heartbeats,
account events and stream figures, and publishes what :meth:`AlertEpisodes.update` returns.
An alert fires once when its figure crosses its threshold and clears once when it is back,
whatever the number of checks in between (an *episode*).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from quantrail.bus.ids import parse_id
from quantrail.bus.transport import GroupInfo, StreamInfo
from quantrail.events.base import Event
from quantrail.events.exposure import ExposureSnapshot
from quantrail.events.orders import OrderEvent
from quantrail.events.risk import (
    KillSwitchActivated,
    KillSwitchReset,
    RiskDailyStatusUpdated,
    RiskModeChanged,
)
from quantrail.events.system import AlertCleared, AlertSeverity, AlertTriggered, HealthHeartbeat
from quantrail.ops.health_config import HealthConfig
from quantrail.runtime.clock import WallSeconds, exact_seconds
from quantrail.vocab import Mode

SOURCE = "health"


@dataclass(frozen=True, slots=True)
class Finding:
    """A threshold crossed now."""

    severity: AlertSeverity
    message: str
    details: dict[str, object] = field(default_factory=dict)


# alert id -> what is wrong now (None: that figure is within its threshold)
Observations = dict[str, Finding | None]


@dataclass(slots=True)
class AccountFigures:
    mode: Mode = Mode.NORMAL
    gross_exposure_pct: float = 0.0
    daily_pnl_pct: float = 0.0
    kill_switch_active: bool = False
    positions: int = 0
    open_orders: set[str] = field(default_factory=set)


class AccountBook:
    """Per account: risk mode, gross %, daily P&L %, kill switch, open orders and positions."""

    def __init__(self) -> None:
        self.accounts: dict[str, AccountFigures] = {}

    def apply(self, event: Event) -> None:
        if not event.account:
            return
        figures = self.accounts.setdefault(event.account, AccountFigures())
        if isinstance(event, RiskModeChanged):
            figures.mode = event.mode
        elif isinstance(event, ExposureSnapshot):
            figures.gross_exposure_pct = event.gross_exposure_pct
        elif isinstance(event, RiskDailyStatusUpdated):
            figures.daily_pnl_pct = event.daily_pnl_percent
            figures.positions = event.open_positions
            figures.kill_switch_active = figures.kill_switch_active or event.kill_switch_active
        elif isinstance(event, KillSwitchActivated):
            figures.kill_switch_active = True
        elif isinstance(event, KillSwitchReset):
            figures.kill_switch_active = False
        elif isinstance(event, OrderEvent):
            if event.status.is_terminal:
                figures.open_orders.discard(event.order_id)
            else:
                figures.open_orders.add(event.order_id)

    def observations(self) -> Observations:
        found: Observations = {}
        for account, figures in sorted(self.accounts.items()):
            found[f"kill_switch:{account}"] = (
                Finding("CRITICAL", f"kill switch active on {account}", {"account": account})
                if figures.kill_switch_active
                else None
            )
            found[f"hard_derisk:{account}"] = (
                Finding("ERROR", f"{account} is in HARD_DERISK", {"account": account})
                if figures.mode is Mode.HARD_DERISK
                else None
            )
        return found


@dataclass(slots=True)
class _Beat:
    ts_ns: int
    status: str
    counters: dict[str, int]
    rates_from: dict[str, int]  # the counters at the start of the current rate window


class HeartbeatBook:
    """The latest heartbeat per service, and its consumers' counters for the rates."""

    def __init__(self) -> None:
        self.services: dict[str, _Beat] = {}

    def apply(self, beat: HealthHeartbeat) -> None:
        counters = _sum_counters(beat.metrics)
        known = self.services.get(beat.service)
        if known is not None and beat.ts_event < known.ts_ns:
            return  # an older instance's beat, read late
        rates_from = known.rates_from if known is not None else counters
        if any(counters.get(k, 0) < v for k, v in rates_from.items()):
            rates_from = {}  # the service restarted: its counters began again
        self.services[beat.service] = _Beat(beat.ts_event, beat.status, counters, rates_from)

    def age_s(self, service: str, now_ns: int, wall_s: WallSeconds = exact_seconds) -> float:
        """Since the service's last beat, counted by ``wall_s`` (the clock's ``wall_seconds``:
        wall seconds in a replay at a fixed speed, as ``heartbeat_missing_s`` means them)."""
        return max(0.0, wall_s(now_ns - self.services[service].ts_ns))

    def observations(
        self, config: HealthConfig, now_ns: int, wall_s: WallSeconds = exact_seconds
    ) -> Observations:
        found: Observations = {}
        for service, beat in sorted(self.services.items()):
            age = self.age_s(service, now_ns, wall_s)
            found[f"heartbeat_missing:{service}"] = (
                Finding("ERROR", f"no heartbeat from {service} for {age:.0f} s",
                        {"service": service, "age_s": round(age, 1)})
                if age > config.heartbeat_missing_s else None
            )  # fmt: skip
            found.update(self._rates(service, beat, config))
        return found

    def _rates(self, service: str, beat: _Beat, config: HealthConfig) -> Observations:
        delta = {k: v - beat.rates_from.get(k, 0) for k, v in beat.counters.items()}
        done = delta.get("handled", 0) + delta.get("dead_lettered", 0)
        if done < max(1, config.min_events):
            return {}  # too few entries yet to judge; the window grows
        beat.rates_from = dict(beat.counters)
        ack_pct = 100.0 * delta.get("handled", 0) / done
        retry_pct = 100.0 * delta.get("retried", 0) / done
        details = {"service": service, "handled": delta.get("handled", 0),
                   "retried": delta.get("retried", 0),
                   "dead_lettered": delta.get("dead_lettered", 0)}  # fmt: skip
        return {
            f"ack_rate:{service}": Finding(
                "WARNING", f"{service} acked {ack_pct:.2f} % (< {config.min_ack_rate_pct} %)",
                {**details, "ack_rate_pct": round(ack_pct, 2)},
            ) if ack_pct < config.min_ack_rate_pct else None,
            f"retry_rate:{service}": Finding(
                "WARNING", f"{service} retried {retry_pct:.2f} % (> {config.max_retry_rate_pct} %)",
                {**details, "retry_rate_pct": round(retry_pct, 2)},
            ) if retry_pct > config.max_retry_rate_pct else None,
        }  # fmt: skip


def _sum_counters(metrics: Mapping[str, object]) -> dict[str, int]:
    """The heartbeat's consumer counters (one dict per consumer) summed over its consumers."""
    total: dict[str, int] = {}
    for value in metrics.values():
        if isinstance(value, dict) and "handled" in value:
            for key in ("read", "handled", "retried", "dead_lettered", "duplicates"):
                count = value.get(key, 0)
                total[key] = total.get(key, 0) + (count if isinstance(count, int) else 0)
    return total


def merged_info(stream: str, shards: Sequence[StreamInfo]) -> StreamInfo:
    """The figures of a stream kept in several shard keys, as one stream (one shard: itself).

    Lengths, and each group's pending and lag, are summed over the shards; a group's lag is
    None only when no shard knows it (Redis cannot always tell), else the sum of the known
    ones. First and last ids are the smallest and largest (ids are per shard: a range, not an
    order). Consumers are listed once per shard they hold entries of."""
    if len(shards) == 1:
        return shards[0]
    groups: dict[str, list[GroupInfo]] = {}
    for info in shards:
        for group in info.groups:
            groups.setdefault(group.name, []).append(group)
    firsts = [i.first_id for i in shards if i.first_id is not None]
    lasts = [i.last_id for i in shards if i.last_id is not None]
    return StreamInfo(
        stream=stream,
        length=sum(info.length for info in shards),
        first_id=min(firsts, key=parse_id) if firsts else None,
        last_id=max(lasts, key=parse_id) if lasts else None,
        groups=[_merged_group(name, parts) for name, parts in sorted(groups.items())],
    )


def _merged_group(name: str, parts: Sequence[GroupInfo]) -> GroupInfo:
    lags = [part.lag for part in parts if part.lag is not None]
    return GroupInfo(
        name=name,
        pending=sum(part.pending for part in parts),
        last_delivered_id=max((part.last_delivered_id for part in parts), key=parse_id),
        lag=sum(lags) if lags else None,
        consumers=[consumer for part in parts for consumer in part.consumers],
    )


def stream_observations(
    infos: Iterable[tuple[str, StreamInfo]], config: HealthConfig
) -> Observations:
    """Stream length and each group's lag, by logical stream name."""
    found: Observations = {}
    for stream, info in infos:
        found[f"stream_length:{stream}"] = (
            Finding("WARNING", f"{stream} holds {info.length} entries",
                    {"stream": stream, "length": info.length,
                     "threshold": config.max_stream_length})
            if info.length > config.max_stream_length else None
        )  # fmt: skip
        for group in info.groups:
            lag = group.lag or 0
            found[f"consumer_lag:{stream}:{group.name}"] = (
                Finding("WARNING", f"group {group.name} is {lag} entries behind on {stream}",
                        {"stream": stream, "group": group.name, "lag": lag,
                         "pending": group.pending})
                if lag > config.max_lag else None
            )  # fmt: skip
    return found


class AlertEpisodes:
    """Which alerts are active; turns observations into one event per episode edge."""

    def __init__(self) -> None:
        self.active: dict[str, Finding] = {}

    def restore(self, events: Iterable[Event]) -> None:
        """Rebuild the active set from ``system.alert`` (a restart neither repeats nor loses).
        Only the monitor's own alerts have episodes; other services' alerts are one-off."""
        for event in events:
            if event.source != SOURCE:
                continue
            if isinstance(event, AlertTriggered):
                self.active[event.alert_id] = Finding(event.severity, event.message)
            elif isinstance(event, AlertCleared):
                self.active.pop(event.alert_id, None)

    def update(self, observations: Observations, now_ns: int) -> list[Event]:
        out: list[Event] = []
        for alert_id, finding in sorted(observations.items()):
            if finding is not None and alert_id not in self.active:
                self.active[alert_id] = finding
                out.append(AlertTriggered(
                    ts_event=now_ns, source=SOURCE, alert_id=alert_id, severity=finding.severity,
                    message=finding.message, details=dict(finding.details),
                    account=_account(finding),
                ))  # fmt: skip
            elif finding is None and alert_id in self.active:
                raised = self.active.pop(alert_id)
                out.append(AlertCleared(
                    ts_event=now_ns, source=SOURCE, alert_id=alert_id,
                    message=f"back to normal: {raised.message}",
                    account=_account(raised),
                ))  # fmt: skip
        return out


def _account(finding: Finding) -> str | None:
    account = finding.details.get("account")
    return account if isinstance(account, str) else None
