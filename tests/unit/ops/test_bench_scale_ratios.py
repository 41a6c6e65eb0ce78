"""bench scale's ratios: every figure over 1 process on 1 Redis of the same run."""

from __future__ import annotations

from quantrail.ops.bench_scale import Phase, ratios


def phase(redis: str, processes: int, mode: str, per_s: float, p99_ms: float) -> Phase:
    return Phase(redis, processes, mode, 1000, per_s, 1.0, p99_ms, 10.0, 20.0, 5.0)


def test_rates_and_p99s_are_ratios_to_one_process_on_one_redis() -> None:
    phases = [
        phase("single", 1, "max", 2000, 900),
        phase("single", 1, "paced", 1000, 4.0),
        phase("cluster", 4, "max", 5000, 300),
        phase("cluster", 4, "paced", 1000, 6.0),
    ]
    assert ratios(phases) == {
        "single x1": {"events_per_s_ratio": 1.0, "p99_ratio": 1.0},
        "cluster x4": {"events_per_s_ratio": 2.5, "p99_ratio": 1.5},
    }
