"""Expected vs seen: a scenario passes when every expectation holds and every invariant of the
execution phase holds (``invariants.py``); the diff says what did not.

Intents count by distinct intent id: an intent seen twice on ``trades.intent`` (redelivered, or
injected twice) is one intent, so ``exact: true`` means the listed intents and no others.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from quantrail.scenario.format import Expectation, IntentSpec
from quantrail.scenario.invariants import Execution, execution_differences
from quantrail.vocab import Mode, Side

PCT_TOLERANCE = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class SeenIntent:
    symbol: str
    side: Side
    qty: int
    price: Decimal | None
    intent_id: str = ""

    def label(self) -> str:
        return f"{self.side.value} {self.qty} {self.symbol} @ {self.price}"


@dataclass(frozen=True, slots=True)
class Seen:
    """What the risk kernel did in a scenario."""

    mode: Mode
    reason: str
    intents: list[SeenIntent] = field(default_factory=list)
    gross_exposure_pct: Decimal | None = None
    execution: Execution | None = None  # None: no execution phase ran (no intents)

    @property
    def distinct_intents(self) -> list[SeenIntent]:
        """The intents, one per intent id (the first seen); intents without an id all count."""
        seen_ids: set[str] = set()
        distinct: list[SeenIntent] = []
        for intent in self.intents:
            if intent.intent_id and intent.intent_id in seen_ids:
                continue
            seen_ids.add(intent.intent_id)
            distinct.append(intent)
        return distinct


def differences(expect: Expectation, seen: Seen) -> list[str]:
    """One line per unmet expectation; empty when the scenario passes."""
    diff: list[str] = []
    if seen.mode is not expect.mode:
        diff.append(f"mode: expected {expect.mode.value}, seen {seen.mode.value}")
    if expect.reason is not None and seen.reason != expect.reason:
        diff.append(f"reason: expected {expect.reason}, seen {seen.reason}")
    if expect.gross_exposure_pct is not None:
        if seen.gross_exposure_pct is None:
            diff.append("gross_exposure_pct: expected a figure, none seen")
        elif abs(seen.gross_exposure_pct - expect.gross_exposure_pct) > PCT_TOLERANCE:
            diff.append(
                f"gross_exposure_pct: expected {expect.gross_exposure_pct}, "
                f"seen {seen.gross_exposure_pct}"
            )
    diff.extend(_intent_differences(expect, seen.distinct_intents))
    if seen.execution is not None:
        labels = {i.intent_id: i.label() for i in seen.intents if i.intent_id}
        diff.extend(execution_differences(seen.execution, labels))
    return diff


def _intent_differences(expect: Expectation, seen: list[SeenIntent]) -> list[str]:
    diff: list[str] = []
    if expect.no_intents and seen:
        diff.append("intents: expected none, seen " + "; ".join(i.label() for i in seen))
        return diff
    unmatched = list(seen)
    for wanted in expect.intents:
        match = next((i for i in unmatched if _same(wanted, i)), None)
        if match is None:
            near = [i.label() for i in seen if i.symbol == wanted.symbol]
            hint = f" (seen for {wanted.symbol}: {'; '.join(near)})" if near else ""
            diff.append(f"intent missing: {_label(wanted)}{hint}")
        else:
            unmatched.remove(match)
    if expect.exact and unmatched:
        diff.append("intents not expected: " + "; ".join(i.label() for i in unmatched))
    return diff


def _same(wanted: IntentSpec, seen: SeenIntent) -> bool:
    return (
        wanted.symbol == seen.symbol
        and wanted.side is seen.side
        and wanted.qty == seen.qty
        and seen.price is not None
        and wanted.price == seen.price
    )


def _label(intent: IntentSpec) -> str:
    return f"{intent.side.value} {intent.qty} {intent.symbol} @ {intent.price}"
