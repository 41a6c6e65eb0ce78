"""The pre-trade throttle gate every order path asks before an order leaves.

In NORMAL everything passes. In THROTTLE_NEW_ORDERS, SOFT_DERISK and HARD_DERISK an order that
would increase |position| is denied; an order that only reduces passes. An order that would
cross zero is denied whole (never resized: the caller may send the reducing part on its own).
With the kill switch active only reducing orders pass, whatever the mode.

``working_qty`` is the remaining quantity of the account's other working orders in the symbol
on the same side as this one: the gate judges the order as if those filled first, so two
reducing sells cannot together cross zero.
"""

from __future__ import annotations

from dataclasses import dataclass

from quantrail.risk.positions import RiskInputError
from quantrail.vocab import Effect, Mode, Side

ALLOWED_NORMAL = "ALLOWED_NORMAL"
ALLOWED_REDUCING = "ALLOWED_REDUCING"
DENIED_INCREASES_EXPOSURE = "DENIED_INCREASES_EXPOSURE"
DENIED_CROSSES_ZERO = "DENIED_CROSSES_ZERO"
DENIED_KILL_SWITCH = "DENIED_KILL_SWITCH"


class GateError(RiskInputError):
    """An order the gate cannot judge: names the field and the value."""


@dataclass(frozen=True, slots=True)
class GateResult:
    allowed: bool
    reason_code: str
    reason: str


def order_effect(position_qty: int, side: Side, qty: int) -> tuple[Effect, bool]:
    """Whether the order increases or decreases |position|, and whether it crosses zero.

    A crossing order counts as INCREASE (its part past zero opens new exposure).
    """
    after = position_qty + side.sign * qty
    if position_qty == 0 or position_qty * side.sign > 0:
        return Effect.INCREASE, False
    crosses = after * position_qty < 0
    return (Effect.INCREASE if crosses else Effect.DECREASE), crosses


class PreTradeGate:
    """Stateless: the mode and the kill switch flag are passed in with each order."""

    def check(
        self,
        mode: Mode,
        position_qty: int,
        side: Side,
        qty: int,
        *,
        kill_switch: bool = False,
        working_qty: int = 0,
    ) -> GateResult:
        _check_inputs(mode, position_qty, side, qty, working_qty)
        effective = position_qty + side.sign * working_qty
        effect, crosses = order_effect(effective, side, qty)
        what = f"{side.value} {qty} against position {position_qty}" + (
            f" with {working_qty} more working" if working_qty else ""
        )
        if effect is Effect.DECREASE:
            return GateResult(True, ALLOWED_REDUCING, f"{what}: reduces exposure")
        if kill_switch:
            return GateResult(False, DENIED_KILL_SWITCH, f"{what}: kill switch active")
        if mode is Mode.NORMAL:
            return GateResult(True, ALLOWED_NORMAL, f"{what}: mode NORMAL")
        if crosses:
            return GateResult(
                False, DENIED_CROSSES_ZERO, f"{what}: would cross zero in mode {mode.value}"
            )
        return GateResult(
            False, DENIED_INCREASES_EXPOSURE, f"{what}: increases exposure in mode {mode.value}"
        )


def _check_inputs(mode: Mode, position_qty: int, side: Side, qty: int, working_qty: int) -> None:
    if not isinstance(mode, Mode):
        raise GateError(f"mode must be a Mode, got {mode!r}")
    if not isinstance(side, Side):
        raise GateError(f"side must be a Side, got {side!r}")
    if isinstance(position_qty, bool) or not isinstance(position_qty, int):
        raise GateError(f"position_qty must be an integer, got {position_qty!r}")
    if isinstance(qty, bool) or not isinstance(qty, int) or qty <= 0:
        raise GateError(f"qty must be a positive integer number of shares, got {qty!r}")
    if isinstance(working_qty, bool) or not isinstance(working_qty, int) or working_qty < 0:
        raise GateError(f"working_qty must be an integer >= 0, got {working_qty!r}")
