"""What machine a benchmark ran on: printed and written with its figures, so a reader can tell
runs on different machines (or under different load) apart."""

from __future__ import annotations

import os
import platform
from datetime import UTC, datetime
from typing import Any


def bench_machine() -> dict[str, Any]:
    """The date, Python, the CPU kind and count, and the load when the run started."""
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "loadavg_1m_at_start": round(os.getloadavg()[0], 2),
    }
