"""The risk kernel service (``risk_kernel``): every advisory gets exactly one evaluation.

Reads ``signals.advisory`` in the consumer group ``risk_kernel``: a second instance of the
service is a hot failover (it takes the entries a dead instance left pending once they are
``claim_idle_ms`` idle). For each ``SignalIssued`` it

1. **catches up** on the streams it decides on (``StreamFollower``): its own past evaluations
   (``risk.evaluation``, whoever published them), the kill switch, the engine's modes, the daily
   status, positions, regimes and heartbeats. Nothing published before the decision is missed,
   and an evaluation another instance (or a killed run of this one) already published is seen;
2. if ``eval:<signal_id>`` is already on ``risk.evaluation``, does nothing (a redelivery, a
   restart after kill -9, a failover, or the same signal published twice);
3. else evaluates (``kernel.evaluate``, pure) and publishes the audit record and the evaluation
   in one batch (audit first, so an evaluation on the stream implies its audit record).

Market data (quotes, prints, ticks, candles) is caught up the same way, so an advisory and a
quote published together give the same verdict on every run; a timer (every ``CATCH_UP_S``)
keeps the followers warm between advisories, so one advisory after a quiet hour does not read
the whole hour.
A restarted instance rebuilds everything from the streams; it keeps no other state.

One case can still give two evaluations: an instance that is alive but stalls on one advisory
for longer than ``claim_idle_ms`` while another claims it. Keep ``claim_idle_ms`` well above a
handler's time (the default is 30 s; an evaluation takes milliseconds).
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Sequence
from typing import Self

from quantrail.bus.delivery import Delivery
from quantrail.bus.follow import StreamFollower
from quantrail.config import AccountConfig, Config
from quantrail.events.base import Event
from quantrail.events.signals import SignalIssued
from quantrail.risk.exposure_service import accounts_by_name, require_timezone
from quantrail.risk.kernel import evaluate
from quantrail.risk.kernel_config import RiskKernelConfig
from quantrail.risk.kernel_events import evaluation_events, evaluation_id
from quantrail.risk.kernel_state import KernelBook
from quantrail.risk.signing import SigningKey, load_keys
from quantrail.runtime.service import Service, Subscription, Timer

log = logging.getLogger("quantrail.risk.kernel")

NAME = "risk_kernel"
SIGNALS = "signals.advisory"
EVALUATIONS = "risk.evaluation"
FOLLOWED_STREAMS = (
    EVALUATIONS, "risk.kill_switch", "risk.mode", "risk.daily_status", "position.state",
    "regime.classification", "system.health",
    "market.quote", "market.trade", "market.tick", "market.candle",
)  # fmt: skip
CATCH_UP_S = 1.0


class RiskKernelService(Service):
    name = NAME

    def __init__(
        self,
        config: RiskKernelConfig,
        accounts: Sequence[AccountConfig],
        *,
        timezone: str,
        key: SigningKey | None = None,
        default_account: str | None = None,
        trades_chaos: bool = False,
    ) -> None:
        super().__init__()
        by_name = accounts_by_name(accounts)
        self._config = config
        self._book = KernelBook(
            {name: account.equity for name, account in by_name.items()},
            require_timezone(timezone),
        )
        self._key = key
        self._default_account = default_account or next(iter(by_name), None)
        self._trades_chaos = trades_chaos
        self._followers: list[StreamFollower] = []
        self._lock = asyncio.Lock()
        self.counts: Counter[str] = Counter()

    @classmethod
    def from_config(cls, config: Config) -> Self:
        """From the config tree; a signing key that cannot be read raises ``SigningKeyError``."""
        return cls(
            config.risk_kernel,
            config.risk.accounts,
            timezone=config.session.timezone,
            key=load_keys(config.risk_kernel).current,
            default_account=config.strategy.account,
            trades_chaos=config.strategy.trades_chaos,
        )

    @property
    def signing_key_id(self) -> str:
        """The id of the key that signs approvals ("" when unsigned); never the key."""
        return self._key.key_id if self._key is not None else ""

    @property
    def book(self) -> KernelBook:
        return self._book

    async def on_start(self) -> None:
        bus = self.ctx.bus
        book = self._book
        self._followers = [
            StreamFollower(bus, s, book.apply, take_all=book.apply_all) for s in FOLLOWED_STREAMS
        ]
        await self._catch_up()
        log.info(
            "%d evaluations on the stream; approvals %s",
            len(self._book.evaluated),
            f"signed with key {self.signing_key_id}" if self._key else "unsigned (no key)",
        )

    def subscriptions(self) -> list[Subscription]:
        return [Subscription([SIGNALS], self._on_signal, name="signals")]

    def timers(self) -> list[Timer]:
        # Keeping warm never changes a verdict (every evaluation catches up first), so the
        # timer has no work of its own that is due: a backtest sleeps through it.
        return [Timer(CATCH_UP_S, self._keep_up, "catch-up", due_ns=lambda: None)]

    def health(self) -> dict[str, object]:
        return dict(self.counts)

    async def _catch_up(self) -> None:
        for follower in self._followers:
            await follower.catch_up()

    async def _keep_up(self) -> None:
        async with self._lock:
            await self._catch_up()

    async def _on_signal(self, event: Event, _delivery: Delivery) -> None:
        if not isinstance(event, SignalIssued):
            return
        async with self._lock:
            await self._catch_up()
            if evaluation_id(event.signal_id) in self._book.evaluated:
                self.counts["already_evaluated"] += 1
                return
            account = event.account or self._default_account or ""
            now = self.ctx.now_ns()
            state = self._book.snapshot(event, account, now)
            verdict = evaluate(event, state, self._config, now, trades_chaos=self._trades_chaos,
                               wall_s=self.ctx.wall_seconds)  # fmt: skip
            audit, evaluation = evaluation_events(
                event,
                verdict,
                account=account or None,
                key=self._key,
                config=self._config,
                now_ns=now,
            )
            await self.ctx.publish_batch([audit, evaluation])
            self._book.record(evaluation)
            self.counts[verdict.decision] += 1
            log.info(
                "%s %s %s: %s",
                evaluation.evaluation_id,
                event.symbol,
                verdict.decision,
                ",".join(verdict.reasons) or verdict.approved_qty,
            )


def build_risk_kernel_service(config: Config) -> RiskKernelService:
    """The kernel from the config tree; a signing key that cannot be read stops start-up."""
    return RiskKernelService.from_config(config)
