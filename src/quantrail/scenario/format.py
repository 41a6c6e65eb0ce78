"""The scenario file format (YAML), exactly these keys so anyone can write one.

```yaml
name: B late soft derisk
at: "2026-11-20T15:46:00-05:00"     # exchange time; or `minutes_to_close: 14` on a regular day
account: HAMMER
equity: 500000
positions:                          # symbol, qty (negative = short), bucket, last price
  - {symbol: PFA, qty: 20000, bucket: LT, price: 25.00}
quotes:                             # optional; default bid/ask = price -/+ 0.01
  - {symbol: PFA, bid: 24.99, ask: 25.01}
prints:                             # optional trade prints (for truth ticks), oldest first
  - {symbol: PFA, price: 25.02, size: 300}
open_orders:                        # optional working orders, for potential exposure
  - {symbol: PFA, side: BUY, qty: 1000, price: 24.95, bucket: LT}
stale_exposure_s: 0                 # optional: age of the exposure snapshot
inject:                             # optional: events published at `at`, or runner actions
  - {kind: trades.intent.created, payload: {intent_id: desk-1, symbol: PFA, ...}}
  - {kind: redeliver, payload: {}}                     # action: see below
  - {kind: restart, payload: {service: execution}}     # action: see below
expect:
  mode: SOFT_DERISK                 # required
  reason: LATE_ABOVE_DERISK_LEVEL   # optional
  intents:                          # optional: each listed intent must appear (qty and price exact)
    - {symbol: PFA, side: SELL, qty: 2000, price: 25.01}
  exact: false                      # optional: true = no intents beyond those listed
  no_intents: false                 # optional: true = none at all
  gross_exposure_pct: 120.0         # optional, to 0.01
```

``inject`` items are events (``kind`` is an event kind of ``quantrail.events``; ``payload`` its
fields, ``ts_event`` defaulting to ``at`` and ``source`` to ``scenario``), published in order at
``at``, before the decision. Two kinds that are not event kinds are *runner actions* (so no key
beyond these is needed):

* ``redeliver`` (payload ``{}``): after the decision, the engine's input (the exposure snapshot
  and the session ticks it decided on) is delivered again, to a fresh engine instance: a
  restarted engine, or a decision redelivered after its intents went out. Each item is one more.
* ``restart`` (payload ``{service: execution}``): the execution service is stopped mid-order
  (its orders working, partly filled where the market allowed) and started again on the same
  bus. Each item is one more restart, a second apart. Only ``execution`` can be restarted.

Any other kind, or a payload that does not build its event, is a file error naming
``inject.<n>.kind`` or ``inject.<n>.payload`` and the value. ``src/quantrail/scenario/runner.py``
says how a scenario runs, and which invariants every scenario checks besides ``expect``.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
import yaml

from quantrail.events.base import Event
from quantrail.events.codec import default_codec
from quantrail.events.errors import EventDecodeError
from quantrail.settings import SettingsError, convert_settings
from quantrail.vocab import Bucket, Mode, Side

# `minutes_to_close` places a scenario on this regular XNYS day (a Friday, 09:30-16:00 New York).
REFERENCE_DAY = date(2026, 11, 20)

# Runner actions, spelled as ``inject`` kinds that are not event kinds (see the module doc).
REDELIVER = "redeliver"
RESTART = "restart"
RESTARTABLE = "execution"
ACTIONS = frozenset({REDELIVER, RESTART})


class ScenarioFileError(SettingsError):
    """A scenario file that cannot be run: names the file and the key."""

    label = "scenario key"


class _Item(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    pass


class PositionSpec(_Item, frozen=True, kw_only=True):
    symbol: str
    qty: int
    bucket: Bucket
    price: Decimal


class QuoteSpec(_Item, frozen=True, kw_only=True):
    symbol: str
    bid: Decimal
    ask: Decimal


class PrintSpec(_Item, frozen=True, kw_only=True):
    symbol: str
    price: Decimal
    size: int


class OrderSpec(_Item, frozen=True, kw_only=True):
    symbol: str
    side: Side
    qty: int
    price: Decimal
    bucket: Bucket


class InjectSpec(_Item, frozen=True, kw_only=True):
    """An event to publish at ``at``, or a runner action (``redeliver``, ``restart``)."""

    kind: str
    payload: dict[str, Any] = msgspec.field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind == REDELIVER:
            if self.payload:
                raise ValueError(f"payload: {REDELIVER} takes an empty payload {{}}")
        elif self.kind == RESTART:
            if self.payload != {"service": RESTARTABLE}:
                raise ValueError(
                    f"payload: {RESTART} takes {{service: {RESTARTABLE}}} (only the "
                    f"{RESTARTABLE} service can be restarted), got service "
                    f"{self.payload.get('service')!r}"
                )
        elif self.kind not in default_codec().by_kind:
            raise ValueError(
                f"kind: not an event kind nor a runner action ({REDELIVER}, {RESTART})"
            )
        else:
            try:
                self.event(0)
            except EventDecodeError as exc:
                raise ValueError(f"payload: does not build a {self.kind}: {exc}") from None

    @property
    def is_action(self) -> bool:
        return self.kind in ACTIONS

    def event(self, at_ns: int) -> Event:
        """The event this item publishes at ``at_ns`` (not for actions)."""
        fields = {"ts_event": at_ns, "source": "scenario", **self.payload}
        return default_codec().build(self.kind, fields)


class IntentSpec(_Item, frozen=True, kw_only=True):
    symbol: str
    side: Side
    qty: int
    price: Decimal


class Expectation(_Item, frozen=True, kw_only=True):
    mode: Mode
    reason: str | None = None
    intents: list[IntentSpec] = msgspec.field(default_factory=list)
    exact: bool = False
    no_intents: bool = False
    gross_exposure_pct: Decimal | None = None

    def __post_init__(self) -> None:
        if self.no_intents and self.intents:
            raise ValueError("no_intents: cannot be true while intents are listed")


class Scenario(_Item, frozen=True, kw_only=True):
    name: str
    account: str
    equity: Decimal
    expect: Expectation
    at: datetime | None = None
    minutes_to_close: float | None = None
    positions: list[PositionSpec] = msgspec.field(default_factory=list)
    quotes: list[QuoteSpec] = msgspec.field(default_factory=list)
    prints: list[PrintSpec] = msgspec.field(default_factory=list)
    open_orders: list[OrderSpec] = msgspec.field(default_factory=list)
    stale_exposure_s: float = 0.0
    inject: list[InjectSpec] = msgspec.field(default_factory=list)

    def __post_init__(self) -> None:
        if (self.at is None) == (self.minutes_to_close is None):
            raise ValueError("at: give exactly one of `at` and `minutes_to_close`")
        if self.at is not None and self.at.tzinfo is None:
            raise ValueError("at: needs a zone, e.g. 2026-11-20T15:46:00-05:00")
        if self.equity <= 0:
            raise ValueError("equity: must be > 0")
        if self.stale_exposure_s < 0:
            raise ValueError("stale_exposure_s: must be >= 0")

    @property
    def events(self) -> list[InjectSpec]:
        """The ``inject`` items that are events, in order."""
        return [item for item in self.inject if not item.is_action]

    def count(self, action: str) -> int:
        """How many times the ``inject`` list asks for runner action ``action``."""
        return sum(item.kind == action for item in self.inject)


def load_scenario(path: Path) -> Scenario:
    """Read and validate one scenario file; errors name the file and the key."""
    source = str(path)
    try:
        raw = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise ScenarioFileError("<file>", f"cannot read: {exc}", source, source) from None
    if not isinstance(raw, dict):
        raise ScenarioFileError("<root>", "a scenario is a mapping", type(raw).__name__, source)
    return convert_settings(raw, Scenario, ScenarioFileError, source)


def scenario_files(paths: list[Path]) -> list[Path]:
    """Files named, and ``*.yaml``/``*.yml`` files in folders named (sorted)."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml")))
        else:
            found.append(path)
    return found
