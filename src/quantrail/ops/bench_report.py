"""The transport benchmark's figures, their verdicts against the targets, and their output.

Pure data and arithmetic: every figure here was measured by ``bench_transport`` and is shown
next to its baseline from the same run, as a ratio, in a rich table or as one JSON object.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from rich.console import Console
from rich.table import Table

P99_TARGET_MS = {1_000: 2.0, 10_000: 5.0}
THROUGHPUT_TARGET = 0.9  # of the raw baseline (issue 11; was 0.5)
P99_RATIO_TARGET = {10_000: 1.5}  # quantrail's p99 over the bare pair's, median of the rounds


@dataclass(frozen=True, slots=True)
class Throughput:
    count: int
    seconds: float
    cpu_s: float  # CPU time of this process over the phase

    @property
    def per_s(self) -> float:
        return div_or_zero(self.count, self.seconds)

    @property
    def cpu_us_per_event(self) -> float:
        return div_or_zero(self.cpu_s * 1e6, self.count)


@dataclass(frozen=True, slots=True)
class ThroughputRound:
    """One round of the throughput phases, measured back to back on an emptied server."""

    raw_xadd: Throughput
    publish: Throughput
    consume: Throughput
    consume_no_idempotency: Throughput

    def ratio(self, name: str) -> float:
        return div_or_zero(getattr(self, name).per_s, self.raw_xadd.per_s)


def total(figures: Sequence[Throughput]) -> Throughput:
    """Several rounds of one figure as one: counts, seconds and CPU summed."""
    return Throughput(
        sum(f.count for f in figures),
        sum(f.seconds for f in figures),
        sum(f.cpu_s for f in figures),
    )


@dataclass(frozen=True, slots=True)
class Latency:
    """End to end: the consumer's clock at handling minus the producer's stamp at send."""

    offered_per_s: int
    achieved_per_s: float  # received / (last receipt - producer start)
    sent: int
    received: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    consumer_cpu_us_per_event: float


@dataclass(frozen=True, slots=True)
class LatencyPair:
    """One rate, measured in rounds: in each round the quantrail pair and the bare pair ran
    back to back (which one first alternates), so both see the machine's load of the moment.

    ``quantrail`` and ``bare`` hold each figure's median over the rounds (counts summed); the
    ratios are medians of the rounds' own ratios, so one round another program preempted
    moves neither the figure nor the verdict."""

    rate: int
    rounds: tuple[tuple[Latency, Latency], ...]  # (quantrail, bare) per round

    @property
    def quantrail(self) -> Latency:
        return median_latency([q for q, _ in self.rounds])

    @property
    def bare(self) -> Latency:
        return median_latency([b for _, b in self.rounds])

    def ratio(self, name: str) -> float:
        """The median over the rounds of quantrail's ``name`` (``p99_ms``...) over bare's."""
        ratios = [div_or_zero(getattr(q, name), getattr(b, name)) for q, b in self.rounds]
        return statistics.median(ratios) if ratios else 0.0


@dataclass(frozen=True, slots=True)
class Sustained:
    offered_per_s: int
    seconds: float
    sent: int
    sent_per_s: float  # what the producer really offered
    received: int
    achieved_per_s: float
    consumer_cpu_us_per_event: float  # x rate / 1e6 = the share of a core it needs
    max_lag: int
    final_lag: int  # the moment the producer stopped
    lag_samples: tuple[int, ...]

    @property
    def growing(self) -> bool:
        return lag_growing(self.lag_samples)


@dataclass(frozen=True, slots=True)
class Target:
    name: str
    measured: str
    goal: str
    passed: bool


@dataclass(frozen=True, slots=True)
class BenchReport:
    environment: dict[str, Any]
    raw_xadd: Throughput
    raw_xadd_sync: Throughput  # reference only: quantrail runs on the asyncio client
    publish: Throughput
    consume: Throughput
    consume_no_idempotency: Throughput
    latency: tuple[LatencyPair, ...]
    sustained: Sustained
    # The throughput figures above are these rounds' totals; ratios are the rounds' median.
    throughput_rounds: tuple[ThroughputRound, ...] = ()

    def ratio(self, figure: Throughput) -> float:
        """``figure`` over raw XADD: the median of the rounds' ratios for a figure measured
        in rounds (each round's own baseline), else over the totals."""
        names = ("publish", "consume", "consume_no_idempotency")
        name = next((n for n in names if getattr(self, n) is figure), None)
        if name is not None and self.throughput_rounds:
            return float(statistics.median(r.ratio(name) for r in self.throughput_rounds))
        return div_or_zero(figure.per_s, self.raw_xadd.per_s)

    def targets(self) -> list[Target]:
        found = [
            _ratio_target("publish", self.ratio(self.publish)),
            _ratio_target("consume+ack", self.ratio(self.consume)),
        ]
        for pair in (p for p in self.latency if p.rate in P99_TARGET_MS):
            limit, p99 = P99_TARGET_MS[pair.rate], pair.quantrail.p99_ms
            found.append(
                Target(f"p99 at {pair.rate:,}/s", f"{p99:.2f} ms", f"< {limit:g} ms", p99 < limit)
            )
        for pair in (p for p in self.latency if p.rate in P99_RATIO_TARGET):
            limit, ratio = P99_RATIO_TARGET[pair.rate], pair.ratio("p99_ms")
            found.append(
                Target(
                    f"p99 at {pair.rate:,}/s against the bare pair",
                    f"{ratio:.2f} x bare, median of {_rounds(len(pair.rounds))}",
                    f"<= {limit:g} x bare",
                    ratio <= limit,
                )
            )
        s = self.sustained
        steady = not s.growing and s.sent_per_s >= 0.95 * s.offered_per_s and s.received == s.sent
        measured = f"{s.achieved_per_s:,.0f}/s, lag max {s.max_lag:,}, final {s.final_lag:,}"
        found.append(Target(f"sustained {s.offered_per_s:,}/s", measured, "no growing lag", steady))
        return found

    def to_dict(self) -> dict[str, Any]:
        def rate(figure: Throughput) -> dict[str, Any]:
            return {
                **asdict(figure),
                "per_s": figure.per_s,
                "ratio_to_raw": self.ratio(figure),
                "cpu_us_per_event": figure.cpu_us_per_event,
            }

        names = ("raw_xadd", "raw_xadd_sync", "publish", "consume", "consume_no_idempotency")
        rounds = [
            {
                name: {**asdict(getattr(r, name)), "ratio_to_raw": r.ratio(name)}
                for name in names[:1] + names[2:]
            }
            for r in self.throughput_rounds
        ]
        return {
            "environment": self.environment,
            "throughput": {name: rate(getattr(self, name)) for name in names},
            "throughput_rounds": rounds,
            "latency": [_latency_dict(p) for p in self.latency],
            "sustained": {
                **asdict(self.sustained),
                "growing": self.sustained.growing,
                "lag_samples": list(self.sustained.lag_samples),
            },
            "targets": [asdict(target) for target in self.targets()],
        }

    def _rows(self) -> list[tuple[str, ...]]:
        """Throughput against raw XADD; latency against the bare pair (CPU: quantrail | bare)."""
        raw = self.raw_xadd
        rows: list[tuple[str, ...]] = [
            ("raw XADD, pipelines of 500", "", _rate(raw.per_s), "1.00", _cpu(raw))
        ]
        for label, fig in (
            ("raw XADD, sync client (reference)", self.raw_xadd_sync),
            ("publish_batch (500)", self.publish),
            ("consume+ack", self.consume),
            ("consume+ack, idempotent=False", self.consume_no_idempotency),
        ):
            ratio = f"{self.ratio(fig):.2f}"
            rows.append((label, _rate(fig.per_s), _rate(raw.per_s), ratio, _cpu(fig)))
        for name, label in (("publish", "publish"), ("consume", "consume+ack")):
            each = " ".join(f"{r.ratio(name):.2f}" for r in self.throughput_rounds)
            if each:
                rows.append((f"  {label} ratio per round", each, "", "", ""))
        for pair in self.latency:
            q, b = pair.quantrail, pair.bare
            for name in ("p50_ms", "p99_ms", "max_ms"):
                qv, bv = getattr(q, name), getattr(b, name)
                label = f"{pair.rate:,}/s latency {name[:-3]}"
                rows.append((label, f"{qv:.2f} ms", f"{bv:.2f} ms", f"{pair.ratio(name):.2f}", ""))
            each = " ".join(f"{div_or_zero(q.p99_ms, b.p99_ms):.2f}" for q, b in pair.rounds)
            rows.append((f"  p99 ratio per round ({len(pair.rounds)})", each, "", "", ""))
            cpu = f"{q.consumer_cpu_us_per_event:.1f} | {b.consumer_cpu_us_per_event:.1f}"
            achieved = _rate(q.achieved_per_s), _rate(b.achieved_per_s)
            rows.append((f"{pair.rate:,}/s achieved", *achieved, "", cpu))
        s = self.sustained
        label = f"{s.offered_per_s:,}/s for {s.seconds:g} s"
        cpu = f"{s.consumer_cpu_us_per_event:.1f}"
        rows.append((label, _rate(s.achieved_per_s), "sent " + _rate(s.sent_per_s), "", cpu))
        growth = "growing" if s.growing else "steady"
        rows.append(("  lag max | final", f"{s.max_lag:,}", f"{s.final_lag:,}", growth))
        return rows

    def render(self, console: Console) -> None:
        title = "quantrail bench transport: one run, one private redis-server"
        table = Table(
            title=title,
            caption="rates: all rounds together; ratios: the median of the rounds' ratios",
        )
        for column in ("figure", "quantrail", "baseline", "ratio", "CPU µs/event"):
            table.add_column(column, justify="left" if column == "figure" else "right")
        for row in self._rows():
            table.add_row(*row)
        console.print(table)
        verdicts = Table(title="targets")
        for column in ("target", "measured", "goal", "result"):
            verdicts.add_column(column)
        for t in self.targets():
            verdicts.add_row(
                t.name, t.measured, t.goal, "[green]PASS[/green]" if t.passed else "[red]MISS[/red]"
            )
        console.print(verdicts)
        console.print(", ".join(f"{k}={v}" for k, v in self.environment.items()))


def _rounds(count: int) -> str:
    return f"{count} round" if count == 1 else f"{count} rounds"


def _rate(per_s: float) -> str:
    return f"{per_s:,.0f}/s"


def _cpu(figure: Throughput) -> str:
    return f"{figure.cpu_us_per_event:.1f}"


def _ratio_target(name: str, ratio: float) -> Target:
    return Target(
        f"{name} >= {THROUGHPUT_TARGET:.0%} of raw XADD",
        f"{ratio:.2f} x raw",
        f">= {THROUGHPUT_TARGET:.2f} x raw",
        ratio >= THROUGHPUT_TARGET,
    )


def _latency_dict(pair: LatencyPair) -> dict[str, Any]:
    names = ("p50_ms", "p99_ms", "max_ms")
    return {
        "rate": pair.rate,
        "quantrail": asdict(pair.quantrail),
        "bare": asdict(pair.bare),
        "ratio_to_bare": {name: pair.ratio(name) for name in names},
        "rounds": [{"quantrail": asdict(q), "bare": asdict(b)} for q, b in pair.rounds],
    }


def median_latency(rounds: Sequence[Latency]) -> Latency:
    """Each figure's median over ``rounds`` of one side; sent and received summed."""
    if not rounds:
        raise ValueError("median_latency: no rounds (empty sample)")

    def mid(name: str) -> float:
        return float(statistics.median(getattr(found, name) for found in rounds))

    return Latency(
        offered_per_s=rounds[0].offered_per_s,
        achieved_per_s=mid("achieved_per_s"),
        sent=sum(found.sent for found in rounds),
        received=sum(found.received for found in rounds),
        p50_ms=mid("p50_ms"),
        p99_ms=mid("p99_ms"),
        max_ms=mid("max_ms"),
        consumer_cpu_us_per_event=mid("consumer_cpu_us_per_event"),
    )


def div_or_zero(a: float, b: float) -> float:
    """``a / b``, or 0 where nothing was measured: an empty phase shows 0 rather than crash."""
    return a / b if b else 0.0


def lag_growing(samples: Sequence[int]) -> bool:
    """The consumer is falling behind, not just absorbing a burst.

    Growing: the last third's mean lag is over twice the first third's and over 1,000 entries,
    and the lag never came back under 1,000 in the last third (a burst it recovers from dips).
    """
    if len(samples) < 3:
        return False
    third = len(samples) // 3
    first, last = samples[:third], samples[-third:]
    last_mean = sum(last) / third
    return last_mean > 2 * sum(first) / third and last_mean > 1_000 and min(last) > 1_000


def percentile(sorted_values: Sequence[int], q: float) -> int:
    """Nearest-rank percentile (``q`` in 0..1) of ascending values."""
    if not sorted_values:
        raise ValueError("percentile: no values (empty sample)")
    return sorted_values[max(1, math.ceil(q * len(sorted_values))) - 1]
