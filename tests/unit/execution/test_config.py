"""The execution config section and the venue it builds."""

from __future__ import annotations

from decimal import Decimal

import msgspec
import pytest

from kit.orders import MS, T0, new_order
from quantrail.execution.config import ExecutionConfig
from quantrail.execution.venues import SimulatedVenue, make_venue
from quantrail.execution.venues.base import VenueAccepted, VenueFill


def convert(raw: dict[str, object]) -> ExecutionConfig:
    return msgspec.convert(raw, ExecutionConfig, strict=False)


def test_an_empty_section_is_valid() -> None:
    config = convert({})
    assert (config.venue, config.fill_model, config.seed) == ("simulated", "touch", 0)
    assert (config.fee_per_share, config.min_fee) == (Decimal("0.0035"), Decimal("0.35"))
    assert config.latency_ns == 20 * MS


def test_values_read_from_yaml_stay_exact() -> None:
    config = convert({"fee_per_share": "0.0035", "min_fee": 1, "latency_ms": 2.5})
    assert config.fee_per_share == Decimal("0.0035")
    assert config.min_fee == Decimal("1")
    assert config.latency_ns == 2_500_000


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"latency_ms": -1}, "latency_ms"),
        ({"latency_ms": float("inf")}, "latency_ms"),
        ({"fee_per_share": "-0.01"}, "fee_per_share"),
        ({"min_fee": "NaN"}, "min_fee"),
        ({"fill_probability_soft": 1.5}, "fill_probability_soft"),
    ],
)
def test_bad_values_name_the_field_first(raw: dict[str, object], field: str) -> None:
    with pytest.raises(msgspec.ValidationError, match=rf"^{field}: "):
        convert(raw)


def test_unknown_keys_and_unknown_choices_are_refused() -> None:
    with pytest.raises(msgspec.ValidationError, match="unknown field `colour`"):
        convert({"colour": "red"})
    with pytest.raises(msgspec.ValidationError, match=r"\$\.fill_model"):
        convert({"fill_model": "magic"})


def test_make_venue_uses_the_settings() -> None:
    config = convert({"latency_ms": 3, "fee_per_share": "0.01", "min_fee": "0"})
    venue = make_venue(config)
    assert isinstance(venue, SimulatedVenue)
    venue.on_quote("XYZ", Decimal("9.99"), Decimal("10.00"), 100, 100, T0)
    venue.submit(new_order(qty=50), T0)
    assert venue.advance(T0 + 3 * MS - 1) == []
    accepted, fill = venue.advance(T0 + 3 * MS)
    assert isinstance(accepted, VenueAccepted)
    assert isinstance(fill, VenueFill) and fill.fee == Decimal("0.50")  # 50 * 0.01
