"""The default ``/metrics`` port of ``quantrail up`` (a light module: the CLI's help reads it).

9464 is the port the Prometheus project lists for OpenTelemetry-style exporters and is rarely
taken; ``quantrail service`` serves no metrics unless given ``--metrics-port``.
"""

from __future__ import annotations

DEFAULT_UP_METRICS_PORT = 9464
