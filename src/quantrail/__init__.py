"""quantrail: an event-driven trading and risk platform."""

__version__ = "0.1.0"
