"""The transport benchmark: its verdict logic by hand, and one tiny smoke run on a real Redis.

No assertion here is about speed: speed is measured by the benchmark itself, never in tests.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from rich.console import Console

from quantrail.ops.bench_report import (
    BenchReport,
    Latency,
    LatencyPair,
    Sustained,
    Throughput,
    ThroughputRound,
    lag_growing,
    percentile,
    total,
)
from quantrail.ops.bench_transport import BenchOptions, run_transport_bench


def _latency(rate: int, p99_ms: float) -> Latency:
    return Latency(rate, float(rate), 100, 100, 0.5, p99_ms, p99_ms + 1, 20.0)


def _sustained(sent_per_s: float, lag_samples: tuple[int, ...]) -> Sustained:
    sent = round(sent_per_s * 10)
    return Sustained(
        offered_per_s=20_000,
        seconds=10.0,
        sent=sent,
        sent_per_s=sent_per_s,
        received=sent,
        achieved_per_s=sent_per_s,
        consumer_cpu_us_per_event=30.0,
        max_lag=max(lag_samples),
        final_lag=lag_samples[-1],
        lag_samples=lag_samples,
    )


def _report(consume_per_s: int = 40_000, p99_at_10k: float = 6.0) -> BenchReport:
    """Raw 100,000/s (1 s), publish 95,000/s, consume as given, p99 1.5 ms and as given (one
    latency round each)."""
    pairs = (
        LatencyPair(1_000, ((_latency(1_000, 1.5), _latency(1_000, 0.5)),)),
        LatencyPair(10_000, ((_latency(10_000, p99_at_10k), _latency(10_000, 1.0)),)),
    )
    steady = _sustained(sent_per_s=19_900.0, lag_samples=(500, 900, 400, 600, 300, 300))
    return BenchReport(
        environment={"cpus": 2},
        raw_xadd=Throughput(100_000, 1.0, 0.5),
        raw_xadd_sync=Throughput(200_000, 1.0, 0.5),
        publish=Throughput(95_000, 1.0, 0.6),
        consume=Throughput(consume_per_s, 1.0, 0.8),
        consume_no_idempotency=Throughput(80_000, 1.0, 0.4),
        latency=pairs,
        sustained=steady,
    )


def test_targets_compare_each_figure_with_its_goal() -> None:
    verdicts = {t.name: t for t in _report().targets()}

    assert verdicts["publish >= 90% of raw XADD"].passed  # 95,000 / 100,000 = 0.95
    assert verdicts["publish >= 90% of raw XADD"].measured == "0.95 x raw"
    assert not verdicts["consume+ack >= 90% of raw XADD"].passed  # 0.40
    assert verdicts["p99 at 1,000/s"].passed  # 1.5 ms < 2 ms
    assert not verdicts["p99 at 10,000/s"].passed  # 6 ms >= 5 ms
    assert not verdicts["p99 at 10,000/s against the bare pair"].passed  # 6.0 x bare
    assert verdicts["sustained 20,000/s"].passed


def test_a_consume_rate_of_exactly_the_target_passes() -> None:
    verdicts = {t.name: t.passed for t in _report(consume_per_s=90_000).targets()}

    assert verdicts["consume+ack >= 90% of raw XADD"]


def test_a_p99_of_exactly_one_and_a_half_times_the_bare_pair_passes() -> None:
    verdicts = {t.name: t for t in _report(p99_at_10k=1.5).targets()}

    assert verdicts["p99 at 10,000/s against the bare pair"].passed
    assert verdicts["p99 at 10,000/s against the bare pair"].measured == (
        "1.50 x bare, median of 1 round"
    )


def test_throughput_ratios_are_medians_of_the_rounds_own_ratios() -> None:
    def round_of(raw: int, publish: int) -> ThroughputRound:
        same = Throughput(raw, 1.0, 0.5)
        return ThroughputRound(same, Throughput(publish, 1.0, 0.5), same, same)

    # The middle round's baseline ran while another program held a core.
    rounds = (round_of(100_000, 95_000), round_of(40_000, 90_000), round_of(90_000, 81_000))
    report = replace(
        _report(),
        raw_xadd=total([r.raw_xadd for r in rounds]),
        publish=total([r.publish for r in rounds]),
        throughput_rounds=rounds,
    )

    assert report.ratio(report.publish) == pytest.approx(0.95)  # of 0.95, 2.25, 0.90
    assert report.publish.count == 266_000 and report.publish.seconds == 3.0
    assert report.to_dict()["throughput_rounds"][1]["publish"]["ratio_to_raw"] == 2.25


def test_latency_figures_and_ratios_are_medians_of_the_rounds() -> None:
    # Round 2 caught another program's burst on the quantrail side, round 3 on the bare side.
    rounds = (
        (_latency(10_000, 2.0), _latency(10_000, 1.6)),  # 1.25
        (_latency(10_000, 40.0), _latency(10_000, 2.0)),  # 20.0
        (_latency(10_000, 2.4), _latency(10_000, 30.0)),  # 0.08
        (_latency(10_000, 2.2), _latency(10_000, 1.6)),  # 1.375
        (_latency(10_000, 1.8), _latency(10_000, 1.5)),  # 1.2
    )
    pair = LatencyPair(10_000, rounds)

    assert pair.quantrail.p99_ms == 2.2  # the median of 2.0, 40, 2.4, 2.2, 1.8
    assert pair.bare.p99_ms == 1.6
    assert pair.ratio("p99_ms") == pytest.approx(1.25)
    assert pair.quantrail.sent == 500  # counts are summed over the rounds
    verdicts = {t.name: t.passed for t in replace(_report(), latency=(pair,)).targets()}
    assert verdicts["p99 at 10,000/s against the bare pair"]


def test_sustained_misses_when_the_producer_could_not_offer_the_rate() -> None:
    report = _report()
    short = _sustained(sent_per_s=15_000.0, lag_samples=(0, 0, 0))
    verdicts = {t.name: t.passed for t in replace(report, sustained=short).targets()}

    assert not verdicts["sustained 20,000/s"]  # 15,000/s sent is under 95% of 20,000/s


def test_to_dict_carries_rates_ratios_and_verdicts() -> None:
    data = _report().to_dict()

    assert data["throughput"]["raw_xadd"]["per_s"] == 100_000
    assert data["throughput"]["publish"]["ratio_to_raw"] == pytest.approx(0.95)
    assert data["throughput"]["raw_xadd_sync"]["ratio_to_raw"] == pytest.approx(2.0)
    assert data["throughput"]["consume"]["cpu_us_per_event"] == pytest.approx(20.0)  # 0.8 s/40k
    assert data["latency"][1]["ratio_to_bare"]["p99_ms"] == pytest.approx(6.0)  # 6.0 / 1.0
    assert data["latency"][1]["rounds"][0]["quantrail"]["p99_ms"] == 6.0
    assert data["sustained"]["growing"] is False
    assert [t["passed"] for t in data["targets"]] == [True, False, True, False, False, True]
    assert json.loads(json.dumps(data)) == data


def test_render_prints_every_figure_and_pass_or_miss() -> None:
    console = Console(record=True, width=200)

    _report().render(console)

    text = console.export_text()
    assert "100,000/s" in text and "95,000/s" in text
    assert "6.00 ms" in text and "1.00 ms" in text
    assert "3.50" in text  # max latency 7.00 ms against 2.00 ms bare
    assert "PASS" in text and "MISS" in text


@pytest.mark.parametrize(
    ("samples", "growing"),
    [
        ((0, 0, 0, 5_000, 6_000, 7_000), True),  # last third 6,500 > 2 x 0 and > 1,000
        ((0, 0, 0, 5_000, 9_000, 0), False),  # a burst the consumer recovered from
        ((100, 200, 300, 2_000, 1_200, 1_500), True),  # 1,350 > 2 x 150, never under 1,000
        ((800, 900, 1_000, 900, 800, 1_000), False),  # 900 vs 850: flat
        ((5_000,) * 6, False),  # high but not growing
        ((10, 20, 30, 400, 500, 600), False),  # 550 grew but stays under 1,000 entries
        ((0, 9_000), False),  # too few samples to judge
    ],
)
def test_lag_grows_only_when_the_last_third_doubles_and_stays_over_1000(
    samples: tuple[int, ...], growing: bool
) -> None:
    assert lag_growing(samples) is growing


def test_percentile_is_nearest_rank() -> None:
    values = list(range(1, 101))

    assert percentile(values, 0.5) == 50
    assert percentile(values, 0.99) == 99
    assert percentile(values, 1.0) == 100
    assert percentile([7], 0.99) == 7
    with pytest.raises(ValueError, match="no values"):
        percentile([], 0.5)


def test_options_default_and_quick_sizes() -> None:
    full, quick = BenchOptions(), BenchOptions(quick=True)

    assert (full.count, full.latency_seconds, full.sustained_seconds) == (100_000, 1.5, 10.0)
    assert (quick.count, quick.latency_seconds, quick.sustained_seconds) == (20_000, 1.0, 4.0)
    assert (full.latency_rounds, quick.latency_rounds) == (9, 5)
    assert BenchOptions(quick=True, entries=500).count == 500
    assert BenchOptions(quick=True, rounds=7).latency_rounds == 7


@pytest.mark.parametrize(
    ("field", "value"),
    [("entries", 0), ("latency_s", -1.0), ("sustained_s", 0.0), ("rounds", 0)],
)
def test_options_reject_bad_sizes_naming_field_and_value(field: str, value: float) -> None:
    with pytest.raises(ValueError, match=rf"{field}: .*\(value: {value!r}\)"):
        BenchOptions(**{field: value})  # type: ignore[arg-type]


@pytest.mark.redis
def test_smoke_run_reports_every_figure_and_writes_json(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    seen: list[str] = []

    report = run_transport_bench(
        BenchOptions(
            entries=500,
            latency_s=0.3,
            sustained_s=0.3,
            json_path=out,
            progress=seen.append,
            rounds=2,
        )
    )

    assert report.raw_xadd_sync.count == 500
    throughput = (report.raw_xadd, report.publish, report.consume, report.consume_no_idempotency)
    for figure in (report.raw_xadd_sync, *throughput):
        assert figure.per_s > 0 and figure.cpu_us_per_event > 0
    assert [figure.count for figure in throughput] == [1_000] * 4  # 2 rounds of 500
    assert len(report.throughput_rounds) == 2
    assert [pair.rate for pair in report.latency] == [1_000, 10_000]
    for pair in report.latency:
        assert len(pair.rounds) == 2
        for side in (side for sides in pair.rounds for side in sides):
            assert side.sent == side.received == round(pair.rate * 0.3)
            assert side.achieved_per_s > 0
            assert 0 < side.p50_ms <= side.p99_ms <= side.max_ms
    sustained = report.sustained
    assert sustained.sent == sustained.received == 6_000  # 20,000/s for 0.3 s
    assert sustained.sent_per_s > 0 and sustained.achieved_per_s > 0
    assert sustained.lag_samples and sustained.max_lag >= sustained.final_lag >= 0
    assert report.environment["payload_bytes"] > 250
    assert len(seen) == 5  # one progress line per phase
    written = json.loads(out.read_text())
    assert written == json.loads(json.dumps(report.to_dict()))
    assert len(written["targets"]) == 6
