"""``quantrail ibsim --fault``: the correction fault takes a price; a bad one exits 2."""

from __future__ import annotations

from decimal import Decimal

import pytest
import typer

from quantrail.cli_ibkr import _faults


def test_correct_price_sets_the_correction_fault() -> None:
    faults = _faults(["correct-price=99.50", "hold-fills"])
    assert faults.correct_price == Decimal("99.50") and faults.hold_fills


@pytest.mark.parametrize("spec", ["correct-price=abc", "correct-price=-1", "correct-price="])
def test_a_bad_correction_price_is_refused_naming_the_option(
    spec: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(typer.Exit) as exited:
        _faults([spec])
    assert exited.value.exit_code == 2
    assert spec in capsys.readouterr().err
