"""The ``execution`` config section: which venue, and how the simulated one behaves.

Like every section it has defaults (an empty section is valid), refuses unknown keys, and its
validation errors start with ``fieldname: `` so the config loader can name the key path.
"""

from __future__ import annotations

import dataclasses
import math
from decimal import Decimal
from typing import Literal

import msgspec

from quantrail.vocab import Mode

NS_PER_MS = 1_000_000


@dataclasses.dataclass(frozen=True, slots=True)
class FillProbabilities:
    """The probabilistic fill model's chance of a full fill per step, by the order's risk mode."""

    hard: float = 1.0
    soft: float = 0.9
    other: float = 0.5

    def __post_init__(self) -> None:
        for name in ("hard", "soft", "other"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name}: must be a probability in [0, 1], got {value!r}")

    def for_mode(self, mode: Mode) -> float:
        if mode is Mode.HARD_DERISK:
            return self.hard
        return self.soft if mode is Mode.SOFT_DERISK else self.other


class ExecutionConfig(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """``fee_per_share`` and ``min_fee`` are dollars (write them as strings in YAML to keep
    them exact, e.g. ``"0.0035"``). ``latency_ms`` is the report latency of the simulated venue.
    ``fill_probability_*`` only matter for the ``probabilistic`` fill model."""

    venue: Literal["simulated", "ibkr"] = "simulated"
    fill_model: Literal["touch", "probabilistic"] = "touch"
    seed: int = 0
    latency_ms: float = 20.0
    fee_per_share: Decimal = Decimal("0.0035")
    min_fee: Decimal = Decimal("0.35")
    fill_probability_hard: float = 1.0
    fill_probability_soft: float = 0.9
    fill_probability_other: float = 0.5
    max_approval_age_s: float = 300.0
    """A strategy request must trade on a risk approval no older than this."""
    exposure_sources: list[str] = msgspec.field(default_factory=lambda: ["decision-engine"])
    """Services whose internal orders may add exposure without an approval (the decision
    engine, for LT band drift below the band); every other internal order must reduce."""

    def __post_init__(self) -> None:
        if not (math.isfinite(self.max_approval_age_s) and self.max_approval_age_s > 0):
            raise ValueError(f"max_approval_age_s: must be > 0, got {self.max_approval_age_s}")
        if not (math.isfinite(self.latency_ms) and self.latency_ms >= 0):
            raise ValueError(f"latency_ms: must be >= 0, got {self.latency_ms}")
        for name in ("fee_per_share", "min_fee"):
            value: Decimal = getattr(self, name)
            if not value.is_finite() or value < 0:
                raise ValueError(f"{name}: must be a finite amount >= 0, got {value}")
        for name in ("fill_probability_hard", "fill_probability_soft", "fill_probability_other"):
            probability: float = getattr(self, name)
            if not 0.0 <= probability <= 1.0:
                raise ValueError(f"{name}: must be a probability in [0, 1], got {probability}")

    @property
    def latency_ns(self) -> int:
        return round(self.latency_ms * NS_PER_MS)

    @property
    def probabilities(self) -> FillProbabilities:
        return FillProbabilities(
            hard=self.fill_probability_hard,
            soft=self.fill_probability_soft,
            other=self.fill_probability_other,
        )
