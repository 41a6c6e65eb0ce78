"""Venues: the ``Venue`` protocol, its reports, and the implementations (``simulated`` now)."""

from __future__ import annotations

from quantrail.execution.config import ExecutionConfig, FillProbabilities
from quantrail.execution.venues.base import (
    Applied,
    Liquidity,
    RestingOrder,
    Venue,
    VenueAccepted,
    VenueCanceled,
    VenueCancelRejected,
    VenueExpired,
    VenueFill,
    VenueFillCorrected,
    VenueRejected,
    VenueReport,
    apply_report,
)
from quantrail.execution.venues.simulated import SimulatedVenue


def make_venue(config: ExecutionConfig) -> Venue:
    """The simulated venue from its settings (the IB venue needs the whole config: it is built
    by ``quantrail.execution.services``)."""
    if config.venue != "simulated":
        raise ValueError(f"venue: {config.venue!r} is built by the execution service builder")
    return SimulatedVenue(
        seed=config.seed,
        latency_ns=config.latency_ns,
        fee_per_share=config.fee_per_share,
        min_fee=config.min_fee,
        fill_model=config.fill_model,
        probabilities=config.probabilities,
    )


__all__ = [
    "Applied",
    "FillProbabilities",
    "Liquidity",
    "RestingOrder",
    "SimulatedVenue",
    "Venue",
    "VenueAccepted",
    "VenueCancelRejected",
    "VenueCanceled",
    "VenueExpired",
    "VenueFill",
    "VenueFillCorrected",
    "VenueRejected",
    "VenueReport",
    "apply_report",
    "make_venue",
]
