"""The execution phase of a scenario: the real execution service on the scenario's bus.

The service is built with ``build_execution_service`` (nothing else of ``execution`` is used)
and hosted by a ``Simulation`` on its own simulated clock. It starts *before* the scenario's
market data is published, as a running service would be: it reads market data only from its
start on, and an intent it handled before any quote would be sized against no displayed size.

``run`` moves its clock on (``EXECUTION_S``), so the venue's reports come back and fills are
applied; a ``restart`` action stops the service mid-order (``RESTART_EVERY_S`` into the run,
once its orders are working and filled as far as the quotes allowed) and starts a new one on
the same bus, the same clock and the same instance name. The simulated venue lives in the
service, so the new one starts with an empty book: the runner shows it the market again (the
last quote of each symbol on ``market.quote``, republished now) — a real venue keeps its book.
Prints are not shown again: they are trades that already happened.
"""

from __future__ import annotations

import msgspec

from quantrail.bus.bus import EventBus
from quantrail.config import Config
from quantrail.events.ids import new_event_id
from quantrail.events.market import QuoteUpdated
from quantrail.execution.services import build_execution_service
from quantrail.runtime.clock import NS_PER_SECOND, SimulatedClock
from quantrail.runtime.simulation import Simulation

EXECUTION_S = 5.0
"""Simulated seconds the execution service works the scenario's intents after the decision."""
RESTART_EVERY_S = 1.0
"""A ``restart`` comes this long into the run (the n-th at n times this)."""
INSTANCE = "scenario"


class ExecutionPhase:
    def __init__(self, bus: EventBus, config: Config, start_ns: int) -> None:
        self._bus, self._config = bus, config
        self.clock = SimulatedClock(start_ns)
        self._simulation: Simulation | None = None
        self.exit_codes: list[int] = []

    async def start(self) -> None:
        service = build_execution_service(self._config, self._bus, self.clock)
        simulation = Simulation(self._bus, self.clock, [service], self._config, instance=INSTANCE)
        self._simulation = await simulation.start()

    async def settle(self) -> None:
        """Wait until the service has handled everything on the bus."""
        await self._running().settle()

    async def advance_to(self, target_ns: int) -> None:
        if target_ns > self.clock.now_ns():
            await self._running().advance_to(target_ns, step=EXECUTION_S)

    async def run(self, restarts: int) -> None:
        """``EXECUTION_S`` of simulated time (longer when more restarts are asked for)."""
        end_ns = self.clock.now_ns() + _ns(max(EXECUTION_S, (restarts + 1) * RESTART_EVERY_S))
        for _ in range(restarts):
            await self._running().advance(RESTART_EVERY_S, step=RESTART_EVERY_S)
            await self.restart()
        await self._running().advance_to(end_ns, step=RESTART_EVERY_S)

    async def restart(self) -> None:
        await self.stop()
        await self.start()
        await self._running().publish(*await self._market_now())

    async def stop(self) -> None:
        if self._simulation is not None:
            self.exit_codes.append(await self._simulation.stop())
            self._simulation = None

    def notes(self) -> tuple[str, ...]:
        """A stop that was not clean is a failure of the scenario, said in its diff."""
        return tuple(
            f"execution service exited with code {code} (run {number})"
            for number, code in enumerate(self.exit_codes, start=1)
            if code != 0
        )

    async def _market_now(self) -> list[QuoteUpdated]:
        """The last quote of each symbol, as of now."""
        last: dict[str, QuoteUpdated] = {}
        for event in await self._bus.read_events("market.quote"):
            if isinstance(event, QuoteUpdated):
                last[event.symbol] = event
        now = self.clock.now_ns()
        return [
            msgspec.structs.replace(
                quote, ts_event=now, event_id=new_event_id(), idempotency_key="", ts_exchange_ns=0
            )
            for quote in last.values()
        ]

    def _running(self) -> Simulation:
        assert self._simulation is not None, "the execution phase is not started"
        return self._simulation


def _ns(seconds: float) -> int:
    return int(seconds * NS_PER_SECOND)
