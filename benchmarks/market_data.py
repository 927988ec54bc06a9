"""Deterministic synthetic market data: small realistic samples and large benchmark files.

Everything is driven by a seeded ``random.Random`` so the same arguments always give the
same bytes (a later issue ships a sample file generated from here).
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

__all__ = [
    "BAD_RECORDS",
    "DEFAULT_START_MS",
    "Format",
    "MarketData",
    "main",
    "sample_records",
    "symbols",
    "write_trades",
]

Format = Literal["jsonl", "json", "trades", "csv"]

DEFAULT_START_MS = int(datetime(2026, 11, 20, 14, 30, tzinfo=UTC).timestamp() * 1000)
_REAL_SYMBOLS = (
    "AAPL MSFT NVDA AMZN GOOGL META TSLA BRK.B JPM V UNH XOM JNJ WMT MA PG HD CVX MRK ABBV "
    "KO PEP AVGO COST LLY ORCL ADBE CRM NFLX AMD INTC CSCO TMO ACN MCD NKE DIS WFC BAC T "
    "VZ PFE QCOM TXN IBM CAT GS MS HON BA"
).split()

#: Deliberately bad records a realistic sample carries, each with the reason it must get.
BAD_RECORDS: tuple[dict[str, Any], ...] = (
    {
        "trade_id": "bad-nan",
        "symbol": "AAPL",
        "price": "NaN",
        "quantity": 10,
        "timestamp": DEFAULT_START_MS,
    },
    {
        "trade_id": "bad-neg",
        "symbol": "MSFT",
        "price": -1.5,
        "quantity": 10,
        "timestamp": DEFAULT_START_MS,
    },
    {
        "trade_id": "bad-zero-qty",
        "symbol": "MSFT",
        "price": 410.5,
        "quantity": 0,
        "timestamp": DEFAULT_START_MS,
    },
    {
        "trade_id": "bad-naive-ts",
        "symbol": "NVDA",
        "price": 140.1,
        "quantity": 5,
        "timestamp": "2026-11-20T14:31:00",
    },
    {
        "trade_id": "bad-symbol",
        "symbol": "AA$PL",
        "price": 187.2,
        "quantity": 1,
        "timestamp": DEFAULT_START_MS,
    },
    {"symbol": "AAPL", "price": 187.2, "quantity": 1, "timestamp": DEFAULT_START_MS},
)


def symbols(count: int) -> list[str]:
    """``count`` distinct valid symbols: real tickers first, then synthetic ``SYMnnn``."""
    extra = [f"SYM{i:03d}" for i in range(max(0, count - len(_REAL_SYMBOLS)))]
    return (list(_REAL_SYMBOLS) + extra)[:count]


@dataclass(frozen=True)
class MarketData:
    """A reproducible stream of valid trades (random walk per symbol, increasing time)."""

    trades: int
    symbols: int = 50
    seed: int = 7
    start_ms: int = DEFAULT_START_MS
    span_minutes: int = 60

    def __iter__(self) -> Iterator[dict[str, Any]]:
        rng = random.Random(self.seed)
        names = symbols(self.symbols)
        prices = {name: rng.uniform(20.0, 500.0) for name in names}
        step_ms = self.span_minutes * 60_000 / max(1, self.trades)
        for i in range(self.trades):
            name = names[rng.randrange(len(names))]
            prices[name] = max(0.01, prices[name] * (1.0 + rng.gauss(0.0, 0.0005)))
            yield {
                "trade_id": f"T{self.seed:02d}-{i:09d}",
                "symbol": name,
                "price": round(prices[name], 2),
                "quantity": rng.choice((1, 5, 10, 25, 50, 100, 200, 500)),
                "timestamp": self.start_ms + int(i * step_ms) + rng.randrange(50),
                "side": "buy" if rng.random() < 0.5 else "sell",
            }


def sample_records(trades: int = 200, symbols_: int = 5, seed: int = 7) -> list[dict[str, Any]]:
    """A small realistic sample: valid trades with the ``BAD_RECORDS`` mixed in at fixed spots."""
    records = list(MarketData(trades, symbols_, seed, span_minutes=5))
    rng = random.Random(seed)
    for bad in BAD_RECORDS:
        records.insert(rng.randrange(len(records) + 1), dict(bad))
    return records


def _encode(records: Iterator[dict[str, Any]] | list[dict[str, Any]], fmt: Format) -> bytes:
    if fmt == "jsonl":
        return "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in records).encode()
    if fmt == "json":
        return json.dumps(list(records), separators=(",", ":")).encode()
    if fmt == "trades":
        return json.dumps({"trades": list(records)}, separators=(",", ":")).encode()
    out = io.StringIO()
    fields = ["trade_id", "symbol", "price", "quantity", "timestamp", "side"]
    writer = csv.DictWriter(out, fields, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(records)
    return out.getvalue().encode()


def write_trades(
    path: Path,
    records: Iterator[dict[str, Any]] | list[dict[str, Any]] | MarketData,
    fmt: Format = "jsonl",
    *,
    compress: bool = False,
) -> Path:
    """Write ``records`` to ``path`` in ``fmt``; JSON Lines is streamed, so N can be large."""
    opener = gzip.open if compress else Path.open
    if fmt == "jsonl":
        with opener(path, "wb") as out:
            buf: list[str] = []
            for record in records:
                buf.append(json.dumps(record, separators=(",", ":")))
                if len(buf) >= 10_000:
                    out.write(("\n".join(buf) + "\n").encode())
                    buf.clear()
            if buf:
                out.write(("\n".join(buf) + "\n").encode())
        return path
    data = _encode(list(records), fmt)
    if compress:
        data = gzip.compress(data, mtime=0)
    path.write_bytes(data)
    return path


def _at_least_one(text: str) -> int:
    """An argparse type: a whole number of 1 or more."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value}: allowed 1 or more")
    return value


def main(argv: list[str] | None = None) -> None:
    """``python -m benchmarks.market_data OUT --trades N --symbols M [--bad] [--format F]``."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.market_data",
        description="Write deterministic synthetic trades to OUT: the same arguments always give "
        "the same bytes.",
    )
    parser.add_argument("out", type=Path, help="the file to write (its directory must exist)")
    parser.add_argument(
        "--trades", type=_at_least_one, default=1000, help="how many valid trades (default 1000)"
    )
    parser.add_argument(
        "--symbols",
        type=_at_least_one,
        default=50,
        help="how many distinct symbols, real tickers first (default 50)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=7,
        help="the random seed: another seed gives other trades and trade ids (default 7, the "
        "shipped sample's)",
    )
    parser.add_argument(
        "--span-minutes",
        type=_at_least_one,
        default=60,
        help="the minutes the trades' timestamps spread over, from 2026-11-20T14:30Z "
        "(default 60; the sample, with --bad, always spans 5)",
    )
    parser.add_argument(
        "--format",
        choices=["jsonl", "json", "trades", "csv"],
        default="jsonl",
        help='JSON Lines, a JSON array, {"trades": [...]} or CSV with a header (default jsonl)',
    )
    parser.add_argument("--gzip", action="store_true", help="gzip-compress the file")
    parser.add_argument(
        "--bad",
        action="store_true",
        help="a small sample with the deliberately bad records mixed in",
    )
    args = parser.parse_args(argv)
    if args.out.is_dir():
        parser.error(f"OUT {args.out} is a directory; allowed: a file path")
    if not args.out.parent.is_dir():
        parser.error(f"OUT {args.out}: its directory {args.out.parent} does not exist")
    records: list[dict[str, Any]] | MarketData
    if args.bad:
        records = sample_records(args.trades, args.symbols, args.seed)
    else:
        records = MarketData(args.trades, args.symbols, args.seed, span_minutes=args.span_minutes)
    try:
        write_trades(args.out, records, args.format, compress=args.gzip)
    except OSError as error:
        parser.exit(1, f"error: cannot write {args.out}: {error.strerror}\n")


if __name__ == "__main__":
    main()
