"""Risk rules: the limits the policy table and the de-risk planner read, loaded from YAML.

The shipped default is ``quantrail/data/risk_rules.yaml`` (written for a risk manager to read).
Percentages are exact ``Decimal`` percent of equity (``130`` means 130 %), never floats, so a
boundary such as "exactly 130 % is not above the cap" holds to the last digit.
An unknown key or a bad value raises ``RiskRulesError`` naming the key path and the value.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import msgspec
import yaml

from quantrail.settings import SettingsError, convert_settings
from quantrail.vocab import Bucket, Phase

DEFAULT_RULES_RESOURCE = ("data", "risk_rules.yaml")


class RiskRulesError(SettingsError):
    """Rules that cannot be used: names the key path and the value."""

    label = "risk rules key"


class _Rule(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    pass


def _check_pct(name: str, value: Decimal) -> None:
    if not value.is_finite() or value <= 0:
        raise ValueError(f"{name}: must be a finite percentage > 0")


class PhaseRule(_Rule, frozen=True):
    """What one session phase tolerates.

    ``trading: false`` marks a phase without trading (PRE, POST, CLOSED): no de-risk row fires
    there, only the staleness and tolerance rows.
    """

    tolerance_pct: Decimal
    allow_derisk: bool = False
    derisk_level_pct: Decimal | None = None
    trading: bool = True

    def __post_init__(self) -> None:
        _check_pct("tolerance_pct", self.tolerance_pct)
        if self.derisk_level_pct is not None:
            _check_pct("derisk_level_pct", self.derisk_level_pct)
        if self.allow_derisk and self.derisk_level_pct is None:
            raise ValueError("derisk_level_pct: required when allow_derisk is true")
        if self.allow_derisk and not self.trading:
            raise ValueError("allow_derisk: cannot be true in a phase without trading")


class BucketLimit(_Rule, frozen=True):
    target_pct: Decimal
    max_pct: Decimal

    def __post_init__(self) -> None:
        _check_pct("target_pct", self.target_pct)
        _check_pct("max_pct", self.max_pct)
        if self.target_pct > self.max_pct:
            raise ValueError("target_pct: must not exceed max_pct")


class DeriskStepRule(_Rule, frozen=True):
    """How big one de-risk step's slice of a position is."""

    fraction: Decimal = Decimal("0.10")
    round_lot: int = 100
    min_lots: int = 1

    def __post_init__(self) -> None:
        if not self.fraction.is_finite() or not Decimal(0) < self.fraction <= 1:
            raise ValueError("fraction: must be > 0 and <= 1")
        if self.round_lot < 1:
            raise ValueError("round_lot: must be >= 1")
        if self.min_lots < 1:
            raise ValueError("min_lots: must be >= 1")


def _default_phases() -> dict[Phase, PhaseRule]:
    no_trading_overnight = PhaseRule(tolerance_pct=Decimal(100), trading=False)
    return {
        Phase.CLOSED: no_trading_overnight,
        Phase.PRE: PhaseRule(tolerance_pct=Decimal(125), trading=False),
        Phase.OPEN: PhaseRule(tolerance_pct=Decimal(125)),
        Phase.EARLY: PhaseRule(tolerance_pct=Decimal(125)),
        Phase.MID: PhaseRule(
            tolerance_pct=Decimal(120), allow_derisk=True, derisk_level_pct=Decimal(120)
        ),
        Phase.LATE: PhaseRule(
            tolerance_pct=Decimal(115), allow_derisk=True, derisk_level_pct=Decimal(100)
        ),
        Phase.CLOSE: PhaseRule(
            tolerance_pct=Decimal(100), allow_derisk=True, derisk_level_pct=Decimal(100)
        ),
        Phase.POST: no_trading_overnight,
    }


def _default_buckets() -> dict[Bucket, BucketLimit]:
    return {
        Bucket.LT: BucketLimit(target_pct=Decimal(80), max_pct=Decimal(90)),
        Bucket.MM_PURE: BucketLimit(target_pct=Decimal(20), max_pct=Decimal(30)),
    }


class RiskRules(_Rule, frozen=True):
    """The whole rule set; the defaults equal the shipped ``risk_rules.yaml``."""

    hard_cap_pct: Decimal = Decimal(130)
    hard_cap_target_pct: Decimal = Decimal(125)
    close_limit_pct: Decimal = Decimal(100)
    phases: dict[Phase, PhaseRule] = msgspec.field(default_factory=_default_phases)
    buckets: dict[Bucket, BucketLimit] = msgspec.field(default_factory=_default_buckets)
    stale_after_s: float = 60.0
    session_stale_after_s: float = 5.0
    derisk_step: DeriskStepRule = DeriskStepRule()
    soft_price_offset: Decimal = Decimal("0.01")

    def __post_init__(self) -> None:
        for name in ("hard_cap_pct", "hard_cap_target_pct", "close_limit_pct"):
            _check_pct(name, getattr(self, name))
        if self.hard_cap_target_pct > self.hard_cap_pct:
            raise ValueError("hard_cap_target_pct: must not exceed hard_cap_pct")
        missing_phases = [p.value for p in Phase if p not in self.phases]
        if missing_phases:
            raise ValueError(f"phases: every phase needs a rule, missing {missing_phases}")
        missing_buckets = [b.value for b in Bucket if b not in self.buckets]
        if missing_buckets:
            raise ValueError(f"buckets: every bucket needs limits, missing {missing_buckets}")
        for name in ("stale_after_s", "session_stale_after_s"):
            seconds = getattr(self, name)
            if not seconds > 0 or seconds == float("inf"):
                raise ValueError(f"{name}: must be a finite number of seconds > 0")
        if not self.soft_price_offset.is_finite() or self.soft_price_offset < 0:
            raise ValueError("soft_price_offset: must be >= 0")

    def phase(self, phase: Phase) -> PhaseRule:
        return self.phases[phase]


def load_risk_rules(path: str | Path | None = None) -> RiskRules:
    """Load and validate rules from ``path``, or the shipped default file when ``None``."""
    if path is None:
        resource = resources.files("quantrail").joinpath(*DEFAULT_RULES_RESOURCE)
        source, text = str(resource), resource.read_text(encoding="utf-8")
    else:
        source, text = str(path), _read_text(Path(path))
    return risk_rules_from_mapping(_parse_yaml(text, source), source)


def risk_rules_from_mapping(raw: Mapping[str, Any], source: str = "") -> RiskRules:
    return convert_settings(raw, RiskRules, RiskRulesError, source)


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RiskRulesError("<file>", "risk rules file not found", str(path)) from None


def _parse_yaml(text: str, source: str) -> Mapping[str, Any]:
    try:
        loaded = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RiskRulesError("<file>", f"not valid YAML: {exc}", source) from None
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise RiskRulesError("<root>", "the rules must be a mapping", type(loaded).__name__)
    return loaded
