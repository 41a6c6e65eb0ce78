"""Risk: positions, exposure, the policy decision table, the de-risk planner, the pre-trade gate.

Pure logic only: time, prices and session phase are passed in. The async services (exposure
service, decision engine) wrap these functions.
"""

from quantrail.risk.exposure import (
    UNGROUPED,
    BucketExposure,
    ExposureError,
    ExposureFigures,
    GroupExposure,
    OpenOrder,
    compute_exposure,
)
from quantrail.risk.gate import GateError, GateResult, PreTradeGate, order_effect
from quantrail.risk.planner import (
    DeriskPlanner,
    MarketView,
    PlannedIntent,
    PlannerError,
    SkippedPosition,
    StepPlan,
    WorkingIntent,
    slice_qty,
)
from quantrail.risk.policy import (
    BucketLoad,
    Decision,
    PolicyInputError,
    PolicyInputs,
    decide,
)
from quantrail.risk.positions import (
    Position,
    PositionBook,
    PositionError,
    RiskInputError,
    apply_fill,
)
from quantrail.risk.rules import (
    BucketLimit,
    DeriskStepRule,
    PhaseRule,
    RiskRules,
    RiskRulesError,
    load_risk_rules,
)

__all__ = [
    "UNGROUPED",
    "BucketExposure",
    "BucketLimit",
    "BucketLoad",
    "Decision",
    "DeriskPlanner",
    "DeriskStepRule",
    "ExposureError",
    "ExposureFigures",
    "GateError",
    "GateResult",
    "GroupExposure",
    "MarketView",
    "OpenOrder",
    "PhaseRule",
    "PlannedIntent",
    "PlannerError",
    "PolicyInputError",
    "PolicyInputs",
    "Position",
    "PositionBook",
    "PositionError",
    "PreTradeGate",
    "RiskInputError",
    "RiskRules",
    "RiskRulesError",
    "SkippedPosition",
    "StepPlan",
    "WorkingIntent",
    "apply_fill",
    "compute_exposure",
    "decide",
    "load_risk_rules",
    "order_effect",
    "slice_qty",
]
