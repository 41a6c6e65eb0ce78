"""Fixtures for the execution integration tests (the harness lives in ``harness.py``).

Every test here that takes ``bus`` runs on memory, a single Redis and the private Redis
Cluster (3 masters, 3 replicas): the registry and the service must behave alike on all three."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from integration.execution.harness import Harness, execution_config
from quantrail.bus.bus import EventBus


@pytest.fixture
def bus(three_way_bus: EventBus) -> EventBus:
    """The suite's ``bus`` (memory, Redis), and the cluster as a third."""
    return three_way_bus


@pytest.fixture
async def harness(bus: EventBus, tmp_path: Path) -> AsyncIterator[Harness]:
    h = Harness(bus, execution_config(tmp_path))
    yield h
    await h.close()


@pytest.fixture
def make_harness(bus: EventBus, tmp_path: Path) -> Callable[..., Harness]:
    """A harness with liquidity overrides (closed by the test)."""

    def make(**liquidity: Any) -> Harness:
        return Harness(bus, execution_config(tmp_path, **liquidity))

    return make
