"""What the local platform's end-to-end tests share: the independent aggregation, the probes."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

PROBES = {
    "write to the ingest bucket (the function's own trigger)": "AccessDenied",
    "read outside incoming/": "AccessDenied",
    "list outside incoming/": "AccessDenied",
    "read another environment's table": "AccessDeniedException",
    "write another environment's table inside a transaction": "AccessDeniedException",
    "read an upload deleted before it was processed": "NoSuchKey",
}


def expected_bars(records: Iterable[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Decimal]]:
    """Bars computed independently: every record the generator marks bad is out."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for record in records:
        if not str(record.get("trade_id", "bad-")).startswith("bad-"):
            minute = int(record["timestamp"]) // 60_000 * 60_000
            label = datetime.fromtimestamp(minute / 1000, UTC)
            groups[(record["symbol"], label.strftime("%Y-%m-%dT%H:%MZ"))].append(record)
    bars = {}
    for key, trades in groups.items():
        ordered = sorted(trades, key=lambda t: (int(t["timestamp"]), t["trade_id"]))
        prices = [Decimal(str(t["price"])) for t in trades]
        volume = sum((Decimal(str(t["quantity"])) for t in trades), Decimal(0))
        notional = sum(
            (Decimal(str(t["price"])) * Decimal(str(t["quantity"])) for t in trades), Decimal(0)
        )
        bars[key] = {
            "open": Decimal(str(ordered[0]["price"])),
            "high": max(prices),
            "low": min(prices),
            "close": Decimal(str(ordered[-1]["price"])),
            "volume": volume,
            "vwap": (notional / volume).quantize(Decimal("0.00000001")),
            "trades": Decimal(len(trades)),
        }
    return bars


def reported_bars(output: str) -> dict[tuple[str, str], dict[str, Decimal]]:
    rows = re.findall(r"^  ([A-Z][A-Z0-9.-]*)\s+(\d{4}-\d\d-\d\dT\d\d:\d\dZ)\s+(.+)$", output, re.M)
    names = ("open", "high", "low", "close", "volume", "vwap", "trades")
    return {
        (s, m): dict(zip(names, map(Decimal, rest.split()), strict=True)) for s, m, rest in rows
    }


def reported_probes(output: str) -> dict[str, str]:
    found = {}
    for label in PROBES:
        match = re.search(rf"^    {re.escape(label)}\s+(\S+)\s+as AWS answers$", output, re.M)
        found[label] = match.group(1) if match else "missing or WRONG"
    return found
