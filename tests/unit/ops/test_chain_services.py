"""The risk kernel and the sizer by name from the config tree (``quantrail service NAME``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kit.bus import make_bus
from kit.kernel import TEST_KEY, chain_config
from quantrail.ops.services import SERVICE_NAMES, build_services
from quantrail.risk.kernel_service import RiskKernelService, build_risk_kernel_service
from quantrail.risk.signing import SigningKeyError
from quantrail.runtime.clock import WallClock
from quantrail.strategy.sizer_service import SizerService, build_sizer_service


async def test_both_are_registered_under_their_group_names(tmp_path: Path) -> None:
    assert {"risk_kernel", "sizer"} <= set(SERVICE_NAMES)
    key = tmp_path / "key"
    key.write_text("kernel-test-key-1\n")
    config = chain_config(risk_kernel={"signing_key_file": str(key)}, sizer={"round_lot": 1})
    bus = make_bus("memory", None)
    kernel, sizer = build_services(config, bus, WallClock(), ["sizer", "risk_kernel"])
    assert isinstance(kernel, RiskKernelService) and kernel.name == "risk_kernel"
    assert isinstance(sizer, SizerService) and sizer.name == "sizer"
    assert build_risk_kernel_service(config).signing_key_id == TEST_KEY.key_id
    assert isinstance(build_sizer_service(config), SizerService)
    await bus.close()


def test_a_signing_key_file_that_cannot_be_read_stops_start_up_naming_the_key(
    tmp_path: Path,
) -> None:
    config = chain_config(risk_kernel={"signing_key_file": str(tmp_path / "nope")})
    with pytest.raises(SigningKeyError, match=r"^risk_kernel\.signing_key_file: cannot read"):
        build_risk_kernel_service(config)
