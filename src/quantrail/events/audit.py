"""The audit trail: every decision a service makes, with its inputs and reasons (kept for ever)."""

from __future__ import annotations

from quantrail.events.base import Details, Event


class DecisionAudited(Event, frozen=True, kw_only=True, tag="audit.decision.logged"):
    """One decision for compliance: who decided what, from which inputs, under which policies."""

    decision_id: str
    service: str
    decision_type: str
    input_summary: Details = {}
    output: Details = {}
    reasoning: str = ""
    policy_references: list[str] = []
