"""The regime service (``regime``): closed candles in, regime classifications and spikes out.

It follows ``market.candle`` (a broadcast reader) and feeds each candle of
``regime.timeframe`` to the ``RegimeDetector`` (``strategy.regime``: the method), publishing
``regime.classification.updated`` per candle after warm-up and ``regime.volatility.spiked`` once
per episode. Both are stamped at the candle's end, caused by the candle, with keys
``regime:<symbol>:<timeframe>:<start ns>`` and ``spike:...``.

Restart: the detector is rebuilt by replaying the candles ``market.candle`` keeps; a reading
or spike later than the last one on its stream (one that was due while the service was down) is
published during that replay, the rest only rebuilds state. Then it reads on from there.
Run one instance.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from quantrail.bus.cursor import StreamStart, replay_history
from quantrail.bus.delivery import Delivery
from quantrail.config import Config
from quantrail.events.base import Event
from quantrail.events.ids import id_for_key
from quantrail.events.market import CandleClosed
from quantrail.events.regime import RegimeClassified, VolatilitySpiked
from quantrail.marketdata.config import require_built_timeframe, timeframe_seconds
from quantrail.runtime.service import Service, Subscription
from quantrail.strategy.config import RegimeConfig
from quantrail.strategy.regime import RegimeDetector, RegimeReading, SpikeReading

log = logging.getLogger("quantrail.strategy.regime")

NAME = "regime"
CANDLES = "market.candle"
CLASSIFICATIONS = "regime.classification"
SPIKES = "regime.volatility"


def _envelope(candle: CandleClosed, what: str, source: str) -> dict[str, Any]:
    """Stamped at the candle's end, caused by it, keyed ``<what>:<symbol>:<tf>:<start>`` (the
    event id derived from the key)."""
    key = f"{what}:{candle.symbol}:{candle.timeframe}:{candle.start_ns}"
    return {
        "ts_event": candle.ts_event,
        "source": source,
        "event_id": id_for_key(key),
        "idempotency_key": key,
        **candle.caused(),
    }


def regime_event(reading: RegimeReading, candle: CandleClosed, source: str) -> RegimeClassified:
    return RegimeClassified(
        **_envelope(candle, "regime", source),
        symbol=reading.symbol,
        regime=reading.regime,
        confidence=reading.confidence,
        previous_regime=reading.previous,
        changed=reading.changed,
    )


def spike_event(spike: SpikeReading, candle: CandleClosed, source: str) -> VolatilitySpiked:
    return VolatilitySpiked(
        **_envelope(candle, "spike", source),
        symbol=spike.symbol,
        current_volatility=spike.volatility,
        baseline_volatility=spike.baseline_volatility,
        spike_ratio=spike.ratio,
    )


class RegimeService(Service):
    name = NAME

    def __init__(self, config: RegimeConfig) -> None:
        super().__init__()
        timeframe_seconds(config.timeframe)  # a bad timeframe fails the build, naming it
        self._config = config
        self._detector = RegimeDetector(config)
        self._published_ns: dict[tuple[str, str], int] = {}  # (stream, symbol) -> last ts
        self._start: StreamStart = "$"
        self._lock = asyncio.Lock()
        self.classified = 0
        self.spikes = 0

    def subscriptions(self) -> list[Subscription]:
        return [
            Subscription([CANDLES], self.on_candle, name=CANDLES, broadcast=True, start=self._start)
        ]

    def health(self) -> dict[str, object]:
        return {"classified": self.classified, "spikes": self.spikes}

    async def on_start(self) -> None:
        bus = self.ctx.bus
        await replay_history(bus, CLASSIFICATIONS, lambda e: self._remember(CLASSIFICATIONS, e))
        await replay_history(bus, SPIKES, lambda e: self._remember(SPIKES, e))
        catch_up: list[Event] = []
        self._start = await replay_history(bus, CANDLES, lambda e: catch_up.extend(self._read(e)))
        if catch_up:
            await self.ctx.publish_batch(catch_up)
        log.info("regime rebuilt; %d events caught up", len(catch_up))

    def _remember(self, stream: str, event: Event) -> None:
        if isinstance(event, RegimeClassified | VolatilitySpiked):
            key = (stream, event.symbol)
            self._published_ns[key] = max(self._published_ns.get(key, 0), event.ts_event)

    def _read(self, event: Event) -> list[Event]:
        """The events a candle makes that its streams do not hold yet."""
        if not isinstance(event, CandleClosed) or event.timeframe != self._config.timeframe:
            return []
        reading, spike = self._detector.update(event.symbol, event.start_ns, event.close)
        out: list[Event] = []
        if reading is not None and self._is_new(CLASSIFICATIONS, event):
            out.append(regime_event(reading, event, self.name))
        if spike is not None and self._is_new(SPIKES, event):
            out.append(spike_event(spike, event, self.name))
        return out

    def _is_new(self, stream: str, candle: CandleClosed) -> bool:
        return candle.ts_event > self._published_ns.get((stream, candle.symbol), -1)

    async def on_candle(self, event: Event, _delivery: Delivery) -> None:
        async with self._lock:
            out = self._read(event)
            if not out:
                return
            await self.ctx.publish_batch(out)
            for published in out:
                self._remember(
                    CLASSIFICATIONS if isinstance(published, RegimeClassified) else SPIKES,
                    published,
                )
            self.classified += sum(isinstance(e, RegimeClassified) for e in out)
            self.spikes += sum(isinstance(e, VolatilitySpiked) for e in out)


def build_regime_service(config: Config) -> Service:
    require_built_timeframe("regime.timeframe", config.regime.timeframe, config.marketdata)
    return RegimeService(config.regime)
