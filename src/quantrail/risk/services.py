"""The risk side's services from the config tree, for the runner and ``quantrail up``.

Only ``Config.session``, ``Config.risk`` and ``Config.band_drift`` are read. Everything that can
be checked before the services run is checked here, so a bad config stops start-up with the key
named: the rules file (``RiskRulesError``), the exchange calendar and its zone, and that the
calendar covers the clock's today (an out-of-range date is refused, never taken for a holiday).
Baseline files are read by the services when they start (``BaselineFileError`` names file, line
and column). The engine runs the LT band drift controller only when ``band_drift.enabled`` is
true: off by default, so a desk that has not configured a band gets no corrective orders.
"""

from __future__ import annotations

from quantrail.config import Config
from quantrail.risk.engine import DecisionEngine
from quantrail.risk.exposure_service import ExposureService
from quantrail.risk.planner import DeriskPlanner
from quantrail.risk.rules import load_risk_rules
from quantrail.runtime.clock import Clock
from quantrail.runtime.service import Service
from quantrail.session.calendar import ExchangeCalendar
from quantrail.session.service import SessionClockService


def build_risk_services(config: Config, clock: Clock) -> list[Service]:
    """Session clock, exposure service and decision engine, in that order."""
    session, risk = config.session, config.risk
    calendar = ExchangeCalendar.from_config(session)
    calendar.session_for(clock.now_ns())  # raises when the calendar does not cover today
    rules = load_risk_rules(risk.rules)
    return [
        SessionClockService(calendar, session.phases, session.tick_s),
        ExposureService(
            risk.accounts,
            risk.groups,
            rules.buckets,
            risk.exposure_interval_s,
            timezone=session.timezone,
        ),
        DecisionEngine(
            rules,
            DeriskPlanner.from_rules(rules),
            risk.accounts,
            risk.derisk_step_interval_s,
            timezone=session.timezone,
            band_drift=config.band_drift if config.band_drift.enabled else None,
        ),
    ]
