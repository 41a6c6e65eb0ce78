"""The policy decision table: a pure function from exposure, session phase and ages to a mode.

Rows are evaluated first row first; the first that matches wins (see ``docs/risk.md``):

  1. stale inputs                          -> THROTTLE_NEW_ORDERS  STALE_DATA (alert)
  2. gross > hard cap (trading phases)     -> HARD_DERISK to the hard-cap target  ABOVE_HARD_CAP
  3. CLOSE and gross > close limit         -> HARD_DERISK to the close limit  CLOSE_ABOVE_LIMIT
  4. phase allows de-risk, gross > level   -> SOFT_DERISK to the level  <PHASE>_ABOVE_DERISK_LEVEL
  5. potential > phase tolerance           -> THROTTLE_NEW_ORDERS  POTENTIAL_ABOVE_TOLERANCE
     a bucket's potential > its max        -> THROTTLE_NEW_ORDERS  BUCKET_POTENTIAL_ABOVE_MAX
  6. otherwise                             -> NORMAL  WITHIN_LIMITS

Comparisons are strict ``>`` on exact ``Decimal`` percentages. Rows 2-4 never fire in a phase
without trading (PRE, POST, CLOSED by default): nothing can be sold there, so only rows 1, 5, 6
apply and a book above its limits is throttled until the market opens.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from quantrail.risk.exposure import ExposureFigures
from quantrail.risk.positions import RiskInputError
from quantrail.risk.rules import RiskRules
from quantrail.vocab import Bucket, Mode, Phase

STALE_DATA = "STALE_DATA"
ABOVE_HARD_CAP = "ABOVE_HARD_CAP"
CLOSE_ABOVE_LIMIT = "CLOSE_ABOVE_LIMIT"
POTENTIAL_ABOVE_TOLERANCE = "POTENTIAL_ABOVE_TOLERANCE"
BUCKET_POTENTIAL_ABOVE_MAX = "BUCKET_POTENTIAL_ABOVE_MAX"
WITHIN_LIMITS = "WITHIN_LIMITS"


def above_derisk_level(phase: Phase) -> str:
    """Row 4's reason code, e.g. ``LATE_ABOVE_DERISK_LEVEL``."""
    return f"{phase.value}_ABOVE_DERISK_LEVEL"


class PolicyInputError(RiskInputError):
    """Policy inputs that cannot be decided on: names the field and the value."""


@dataclass(frozen=True, slots=True)
class BucketLoad:
    """A bucket's potential exposure and its max, both percent of equity."""

    potential_pct: Decimal
    max_pct: Decimal


@dataclass(frozen=True, slots=True)
class PolicyInputs:
    """What one decision sees.

    Ages are seconds since the exposure snapshot / session clock was made (``math.inf`` when
    none has arrived yet). A negative age (data from the future) is refused: it means a clock
    problem, and the caller must not treat such data as fresh.
    """

    phase: Phase
    gross_pct: Decimal
    potential_gross_pct: Decimal
    buckets: Mapping[Bucket, BucketLoad]
    exposure_age_s: float
    session_age_s: float

    def __post_init__(self) -> None:
        if not isinstance(self.phase, Phase):
            raise PolicyInputError(f"phase must be a Phase, got {self.phase!r}")
        _require_pct("gross_pct", self.gross_pct)
        _require_pct("potential_gross_pct", self.potential_gross_pct)
        if self.potential_gross_pct < self.gross_pct:
            raise PolicyInputError(
                f"potential_gross_pct must be >= gross_pct ({self.gross_pct}), "
                f"got {self.potential_gross_pct!r}"
            )
        for bucket, load in self.buckets.items():
            _require_pct(f"buckets[{bucket}].potential_pct", load.potential_pct)
            _require_pct(f"buckets[{bucket}].max_pct", load.max_pct)
        _require_age("exposure_age_s", self.exposure_age_s)
        _require_age("session_age_s", self.session_age_s)

    @classmethod
    def from_exposure(
        cls, figures: ExposureFigures, phase: Phase, exposure_age_s: float, session_age_s: float
    ) -> PolicyInputs:
        buckets = {
            bucket: BucketLoad(potential_pct=b.potential_pct, max_pct=b.max_pct)
            for bucket, b in figures.buckets.items()
        }
        return cls(
            phase=phase,
            gross_pct=figures.gross_exposure_pct,
            potential_gross_pct=figures.potential_gross_pct,
            buckets=buckets,
            exposure_age_s=exposure_age_s,
            session_age_s=session_age_s,
        )

    def summary(self) -> dict[str, str]:
        """The inputs as strings, for the mode-change event and the audit trail."""
        seen = {
            "phase": self.phase.value,
            "gross_pct": str(self.gross_pct),
            "potential_gross_pct": str(self.potential_gross_pct),
            "exposure_age_s": repr(self.exposure_age_s),
            "session_age_s": repr(self.session_age_s),
        }
        for bucket in _ordered(self.buckets):
            load = self.buckets[bucket]
            seen[f"{bucket.value}.potential_pct"] = str(load.potential_pct)
            seen[f"{bucket.value}.max_pct"] = str(load.max_pct)
        return seen


@dataclass(frozen=True, slots=True)
class Decision:
    """The table's answer. ``target_gross_pct`` is set for the de-risk modes only."""

    mode: Mode
    reason: str
    target_gross_pct: Decimal | None
    row: int
    detail: str
    alert: bool = False


def decide(inputs: PolicyInputs, rules: RiskRules) -> Decision:
    """The first matching row of the policy table (pure)."""
    phase_rule = rules.phase(inputs.phase)
    stale = _stale(inputs, rules)
    if stale:
        return Decision(Mode.THROTTLE_NEW_ORDERS, STALE_DATA, None, 1, stale, alert=True)
    gross = inputs.gross_pct
    if phase_rule.trading:
        if gross > rules.hard_cap_pct:
            detail = f"gross {gross}% > hard cap {rules.hard_cap_pct}%"
            return Decision(
                Mode.HARD_DERISK, ABOVE_HARD_CAP, rules.hard_cap_target_pct, 2, detail, True
            )
        if inputs.phase is Phase.CLOSE and gross > rules.close_limit_pct:
            detail = f"gross {gross}% > close limit {rules.close_limit_pct}%"
            return Decision(Mode.HARD_DERISK, CLOSE_ABOVE_LIMIT, rules.close_limit_pct, 3, detail)
        level = phase_rule.derisk_level_pct
        if phase_rule.allow_derisk and level is not None and gross > level:
            detail = f"gross {gross}% > {inputs.phase.value} de-risk level {level}%"
            return Decision(Mode.SOFT_DERISK, above_derisk_level(inputs.phase), level, 4, detail)
    return _throttle_or_normal(inputs, phase_rule.tolerance_pct)


def _throttle_or_normal(inputs: PolicyInputs, tolerance: Decimal) -> Decision:
    if inputs.potential_gross_pct > tolerance:
        detail = (
            f"potential gross {inputs.potential_gross_pct}% > "
            f"{inputs.phase.value} tolerance {tolerance}%"
        )
        return Decision(Mode.THROTTLE_NEW_ORDERS, POTENTIAL_ABOVE_TOLERANCE, None, 5, detail)
    for bucket in _ordered(inputs.buckets):
        load = inputs.buckets[bucket]
        if load.potential_pct > load.max_pct:
            detail = f"{bucket.value} potential {load.potential_pct}% > max {load.max_pct}%"
            return Decision(Mode.THROTTLE_NEW_ORDERS, BUCKET_POTENTIAL_ABOVE_MAX, None, 5, detail)
    return Decision(Mode.NORMAL, WITHIN_LIMITS, None, 6, "all limits within tolerance")


def _stale(inputs: PolicyInputs, rules: RiskRules) -> str:
    """Why the inputs are stale, or ``""`` when both are fresh enough."""
    if inputs.exposure_age_s > rules.stale_after_s:
        return f"exposure is {inputs.exposure_age_s}s old (> {rules.stale_after_s}s)"
    if inputs.session_age_s > rules.session_stale_after_s:
        return f"session is {inputs.session_age_s}s old (> {rules.session_stale_after_s}s)"
    return ""


def _ordered(buckets: Mapping[Bucket, object]) -> list[Bucket]:
    return sorted(buckets, key=list(Bucket).index)


def _require_pct(field: str, value: object) -> None:
    if not isinstance(value, Decimal) or not value.is_finite() or value < 0:
        raise PolicyInputError(f"{field} must be a finite Decimal >= 0, got {value!r}")


def _require_age(field: str, value: object) -> None:
    """Seconds >= 0; ``math.inf`` is allowed and means "never received" (so: stale)."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or math.isnan(value)
        or value < 0
    ):
        raise PolicyInputError(f"{field} must be a number of seconds >= 0, got {value!r}")
