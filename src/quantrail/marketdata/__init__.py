"""Market data: sources (synthetic, file replay) and features (truth ticks, GRPAN, candles).

Everything here is pure and deterministic: time is int nanoseconds UTC passed in, prices are
``Decimal``, sizes integer shares. The services that put these on the bus live elsewhere.
"""

from quantrail.marketdata.candles import Candle, CandleBuilder
from quantrail.marketdata.grpan import GrpanCalculator, GrpanConfig, GrpanValue, dominant_price
from quantrail.marketdata.replay import MarketFileError, read_market_file, write_market_file
from quantrail.marketdata.synthetic import (
    OFF_EXCHANGE_VENUES,
    SymbolSpec,
    SyntheticMarket,
    default_universe,
)
from quantrail.marketdata.truth import ROUND_LOT, TruthTickFilter, TruthTickTracker
from quantrail.marketdata.types import MarketEvent, Print, Quote

__all__ = [
    "OFF_EXCHANGE_VENUES",
    "ROUND_LOT",
    "Candle",
    "CandleBuilder",
    "GrpanCalculator",
    "GrpanConfig",
    "GrpanValue",
    "MarketEvent",
    "MarketFileError",
    "Print",
    "Quote",
    "SymbolSpec",
    "SyntheticMarket",
    "TruthTickFilter",
    "TruthTickTracker",
    "default_universe",
    "dominant_price",
    "read_market_file",
    "write_market_file",
]
