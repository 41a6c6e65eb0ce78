"""The ``features`` service: truth ticks and GRPAN from ``market.trade`` onto ``market.feature``.

A thin shell around ``FeatureEngine`` (pure, see ``marketdata.features``): each print read from
``market.trade`` goes through the engine, and every update it returns is published as a
``market.feature.computed`` event (``TRUTH_TICK`` or ``GRPAN``), with a deterministic event id
and idempotency key, so a replayed day yields the same events.

Restart-safe: on start the service reads ``market.feature`` for the last update published per
symbol and feature, replays everything ``market.trade`` keeps through a fresh engine, publishes
the updates a crash lost (those after the last published one) and then follows the stream live
from where the replay ended (a broadcast reader, like the exposure service). Run one instance:
the engine's throttle watches the whole tape.
"""

from __future__ import annotations

import logging

from quantrail.bus.cursor import StreamStart, replay_history
from quantrail.bus.delivery import Delivery
from quantrail.config import Config
from quantrail.events.base import Event
from quantrail.events.market import FeatureComputed, TradePrinted
from quantrail.marketdata.features import (
    FeatureEngine,
    FeatureSettings,
    FeatureUpdate,
    event_id_for,
    key_position,
)
from quantrail.marketdata.grpan import GrpanConfig, GrpanValue
from quantrail.marketdata.service import print_of
from quantrail.marketdata.truth import TruthTickFilter
from quantrail.marketdata.types import Print
from quantrail.runtime.clock import NS_PER_SECOND
from quantrail.runtime.service import Service, Subscription

log = logging.getLogger("quantrail.marketdata.features")

TRADES = "market.trade"
FEATURES = "market.feature"

Slot = tuple[str, str]
"""(symbol, feature name)."""


def feature_event(update: FeatureUpdate, source: str = "features") -> FeatureComputed:
    """The bus event of one update; ``ts_event`` is the update's exchange time."""
    value = update.value
    concentration: float | None = None
    if isinstance(value, Print):
        window = 1
        details: dict[str, object] = {
            "size": value.size,
            "venue": value.venue,
            "tick_ts_ns": value.ts_ns,
        }
    else:
        concentration, window, details = (
            float(value.concentration), value.ticks_used, _grpan_details(value),
        )  # fmt: skip
    return FeatureComputed(
        ts_event=update.at_ns,
        event_id=event_id_for(update.key),
        idempotency_key=update.key,
        source=source,
        symbol=update.symbol,
        name=update.name,
        value=value.price,
        concentration=concentration,
        window=window,
        details=details,
    )


def _grpan_details(value: GrpanValue) -> dict[str, object]:
    return {
        "concentration": str(value.concentration),
        "band_volume": value.band_volume,
        "window_volume": value.window_volume,
        "window_size": value.window_size,
        "tick_ts_ns": value.ts_ns,
    }


def settings_from(config: Config) -> FeatureSettings:
    market = config.marketdata
    return FeatureSettings(
        grpan=GrpanConfig(window=market.grpan_window, band=market.grpan_band),
        truth_filter=TruthTickFilter(),
        min_interval_ns=round(market.features_min_interval_s * NS_PER_SECOND),
    )


class FeaturesService(Service):
    """Publishes truth ticks and GRPAN per symbol as they change (see module doc)."""

    name = "features"

    def __init__(self, settings: FeatureSettings | None = None) -> None:
        super().__init__()
        self._settings = settings or FeatureSettings()
        self._engine = FeatureEngine(self._settings)
        self._sent: dict[Slot, tuple[int, int]] = {}
        self._start: StreamStart = "0"
        self.published = 0
        self.bad_prints = 0

    async def on_start(self) -> None:
        self._engine = FeatureEngine(self._settings)
        self._sent = await self._published_positions()
        lost: list[FeatureUpdate] = []
        self._start = await replay_history(
            self.ctx.bus, TRADES, lambda event: lost.extend(self._take(event))
        )
        await self._publish(lost)

    def subscriptions(self) -> list[Subscription]:
        return [
            Subscription(
                streams=[TRADES], handler=self._on_trade, name=TRADES,
                broadcast=True, start=self._start,
            )
        ]  # fmt: skip

    async def _on_trade(self, event: Event, _delivery: Delivery) -> None:
        await self._publish(self._take(event))

    def _take(self, event: Event) -> list[FeatureUpdate]:
        if not isinstance(event, TradePrinted):
            return []
        try:
            print_ = print_of(event)
        except (ValueError, TypeError) as exc:
            # A print the market-data checks refuse moves no feature; one bad entry must not
            # stop the features of every other symbol.
            self.bad_prints += 1
            log.error("features skip print %s: %s", event.event_id, exc)
            return []
        return self._engine.on_print(print_)

    async def _publish(self, updates: list[FeatureUpdate]) -> None:
        """Publish the updates after the last one each feature already has on the stream."""
        fresh = [u for u in updates if u.position > self._sent.get((u.symbol, u.name), (-1, -1))]
        if not fresh:
            return
        await self.ctx.publish_batch([feature_event(update, self.name) for update in fresh])
        for update in fresh:
            self._sent[(update.symbol, update.name)] = update.position
        self.published += len(fresh)

    async def _published_positions(self) -> dict[Slot, tuple[int, int]]:
        sent: dict[Slot, tuple[int, int]] = {}

        def take(event: Event) -> None:
            position = key_position(event.idempotency_key)
            if isinstance(event, FeatureComputed) and position is not None:
                slot = (event.symbol, event.name)
                sent[slot] = max(sent.get(slot, position), position)

        await replay_history(self.ctx.bus, FEATURES, take)
        return sent

    def health(self) -> dict[str, object]:
        return {
            "published": self.published,
            "bad_prints": self.bad_prints,
            "held": len(self._engine.held()),
        }


def build_features_service(config: Config) -> FeaturesService:
    """The ``features`` service from ``config.marketdata``."""
    return FeaturesService(settings_from(config))
