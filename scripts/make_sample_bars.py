"""Write the sample OHLCV bars in examples/bars/: four sessions of one-minute bars for five
made-up symbols, the same bytes on every run (a seeded random walk in integer cents).

Each session has stretches that trend (a drift up or down) and stretches that range (pulled
back to an anchor), and the third session has a volatility burst (every symbol, 30 minutes
from 11:00, four times the usual moves and twice the volume). Four symbols are CSV
(``ts`` ISO-8601 in New York time), the fifth Parquet (``ts`` a UTC timestamp).

    python scripts/make_sample_bars.py [OUT_DIR]
"""

from __future__ import annotations

import random
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

NEW_YORK = ZoneInfo("America/New_York")
SESSIONS = ("2024-03-11", "2024-03-12", "2024-03-13", "2024-03-14")
BARS_PER_SESSION = 390
SYMBOLS = {"ACME": 4520, "BOLT": 2175, "CRUX": 9840, "DYNA": 6310, "EMBR": 1288}
"""Symbol -> first price in cents."""
PARQUET_SYMBOL = "EMBR"
BURST_SESSION, BURST_START, BURST_MINUTES = 2, 90, 30
STRETCH_MINUTES = 65
SEED = 20240311


def _bar_path(rng: random.Random, price: int, drift: float, vol: float) -> list[int]:
    """Four sub-steps of one minute: the prices the bar passes through, in cents."""
    points = [price]
    for _ in range(4):
        step = rng.gauss(drift / 4, vol / 2)
        points.append(max(100, round(points[-1] + step)))
    return points


def _stretch(rng: random.Random, base_vol: float) -> tuple[float, bool]:
    """(drift per minute in cents, ranging?) for the next stretch."""
    kind = rng.choice(("up", "down", "range", "range"))
    if kind == "range":
        return 0.0, True
    return (1 if kind == "up" else -1) * base_vol * rng.uniform(0.15, 0.35), False


def symbol_bars(symbol: str, first_cents: int, seed: int) -> list[tuple[datetime, list[int], int]]:
    """(start, [open, high, low, close] in cents, volume) per bar."""
    rng = random.Random(f"{seed}:{symbol}")
    price, bars = first_cents, []
    base_vol = first_cents * 0.0009
    for index, day in enumerate(SESSIONS):
        open_at = datetime.fromisoformat(f"{day}T09:30:00").replace(tzinfo=NEW_YORK)
        price = max(100, round(price * (1 + rng.gauss(0, 0.006))))  # the overnight gap
        drift, ranging, anchor = 0.0, True, price
        for minute in range(BARS_PER_SESSION):
            if minute % STRETCH_MINUTES == 0:
                (drift, ranging), anchor = _stretch(rng, base_vol), price
            burst = index == BURST_SESSION and BURST_START <= minute < BURST_START + BURST_MINUTES
            vol = base_vol * (4 if burst else 1)
            pull = (anchor - price) * 0.08 if ranging else drift
            path = _bar_path(rng, price, pull, vol)
            volume = round(rng.uniform(30, 90) * (2 if burst else 1)) * 100
            bars.append((open_at + timedelta(minutes=minute),
                         [path[0], max(path), min(path), path[-1]], volume))  # fmt: skip
            price = path[-1]
    return bars


def _dollars(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def write_csv(path: Path, symbol: str, bars: list[tuple[datetime, list[int], int]]) -> None:
    lines = ["ts,symbol,open,high,low,close,volume"]
    for start, prices, volume in bars:
        cells = [start.isoformat(), symbol, *map(_dollars, prices), str(volume)]
        lines.append(",".join(cells))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_parquet(path: Path, symbol: str, bars: list[tuple[datetime, list[int], int]]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    columns = {
        "ts": pa.array([start.astimezone(UTC) for start, _, _ in bars], pa.timestamp("s", "UTC")),
        "symbol": [symbol] * len(bars),
        **{
            name: [_dollars(prices[i]) for _, prices, _ in bars]
            for i, name in enumerate(("open", "high", "low", "close"))
        },
        "volume": pa.array([volume for _, _, volume in bars], pa.int64()),
    }
    pq.write_table(pa.table(columns), path, compression="zstd")


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for symbol, first in SYMBOLS.items():
        bars = symbol_bars(symbol, first, SEED)
        if symbol == PARQUET_SYMBOL:
            write_parquet(out / f"{symbol}.parquet", symbol, bars)
        else:
            write_csv(out / f"{symbol}.csv", symbol, bars)
    print(f"wrote {len(SYMBOLS)} files of {len(SESSIONS) * BARS_PER_SESSION} bars to {out}/")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("examples/bars"))
