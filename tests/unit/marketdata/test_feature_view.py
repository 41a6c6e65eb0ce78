"""Reading the published features back: the latest per symbol and feature."""

from __future__ import annotations

from decimal import Decimal

from kit.features import WINDOW_15
from kit.marketdata import T0_NS, prints_at
from quantrail.events.market import FeatureComputed, TradePrinted
from quantrail.marketdata.feature_view import LatestFeatures
from quantrail.marketdata.features import FeatureEngine, FeatureSettings
from quantrail.marketdata.features_service import feature_event


def test_the_view_holds_what_the_engine_published_last() -> None:
    engine, view = FeatureEngine(FeatureSettings(min_interval_ns=0)), LatestFeatures()
    events = [feature_event(u) for p in prints_at(WINDOW_15) for u in engine.on_print(p)]
    assert all(view.apply(event) for event in events)
    grpan, tick = view.grpan("PFA"), view.truth_tick("PFA")
    assert grpan is not None and tick is not None
    assert (grpan.price, grpan.concentration, grpan.window) == (
        Decimal("25.02"),
        Decimal("0.4800"),
        15,
    )
    assert (tick.price, tick.concentration) == (Decimal("25.02"), None)
    assert not view.apply(events[0])  # an older one, redelivered, replaces nothing
    assert view.grpan("PFA") == grpan and view.symbols() == ["PFA"]


def test_other_events_and_empty_values_are_ignored() -> None:
    view = LatestFeatures()
    trade = TradePrinted(ts_event=T0_NS, symbol="PFA", price=Decimal("25"), size=100)
    assert not view.apply(trade)
    assert not view.apply(FeatureComputed(ts_event=T0_NS, symbol="PFA", name="GRPAN"))
    assert view.grpan("PFA") is None
