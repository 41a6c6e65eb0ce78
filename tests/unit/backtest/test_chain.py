from __future__ import annotations

import sys
from pathlib import Path

import pytest

from quantrail.backtest.chain import CHAIN, find_builder


def test_a_module_not_in_the_build_is_missing_not_an_error() -> None:
    assert find_builder("nothing", "quantrail.no_such_package.service") is None


def test_builder_found_by_name() -> None:
    builder = find_builder("bogus_close", "kit.backtest")
    assert builder is not None and builder.__name__ == "build_bogus_close_service"


def test_an_import_error_inside_a_present_module_is_raised(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the missing module's name is a prefix of the present one's: still a fault, not "missing"
    (tmp_path / "broken_chain_module.py").write_text("import broken_chain\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ModuleNotFoundError, match="broken_chain"):
        find_builder("broken", "broken_chain_module")
    sys.modules.pop("broken_chain_module", None)


def test_the_chain_is_the_contract() -> None:
    assert [name for name, _ in CHAIN] == [
        "candles", "regime", "signals", "risk_kernel", "sizer", "positions", "exit_brain",
        "killswitch", "audit",
    ]  # fmt: skip
