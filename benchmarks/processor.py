"""Measure the processor's performance targets side by side, in one run, as ratios: a bulk
file against Polars, a small direct batch against the bulk file's per-trade time, the cold
start against importing boto3 (and the artifact's size), and memory growth on a large and on
hostile inputs.

    .venv/bin/python -m benchmarks.processor [--trades 100000] [--big 1000000] [--rounds 5]

AWS calls are answered by an in-process stub (``StubAws``) that counts round trips and how
many were in flight at once, and refuses requests DynamoDB would refuse (too many items, the
same item twice in one transaction); nothing leaves the machine. As in a warm Lambda
container, the runtime (thread pool included) exists before the timed call. Bounded: about a
minute on 2 cores.
"""

from __future__ import annotations

import argparse
import gzip
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from benchmarks.market_data import MarketData, write_trades

__all__ = ["StubAws", "main"]

_ENV = {
    "TABLE_NAME": "bench-table",
    "ARCHIVE_BUCKET": "bench-archive",
    "INGEST_BUCKET": "ingest",
    "ENVIRONMENT": "dev",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "x",
    "AWS_SECRET_ACCESS_KEY": "x",
}
_TARGETS = {"bulk": 3.0, "small": 2.0, "import": 0.15, "memory MB": 64.0}
_TRANSACT_LIMIT, _BATCH_GET_LIMIT = 100, 100
#: One pool of each kind for every runtime, like those a Lambda container creates at import.
_EXECUTOR = ThreadPoolExecutor(16, thread_name_prefix="bench")
_IO_EXECUTOR = ThreadPoolExecutor(3, thread_name_prefix="bench-io")


class StubRefusalError(Exception):
    """A request real DynamoDB would refuse with a ValidationException."""


class StubAws:
    """Answers the processor's S3 and DynamoDB calls in memory, counting round trips."""

    def __init__(self, objects: dict[str, Path] | None = None, latency_s: float = 0.0) -> None:
        self.objects, self.latency_s = objects or {}, latency_s
        self.calls: dict[str, int] = {}
        self.in_flight = self.max_in_flight = 0
        self._lock = threading.Lock()

    def _call(self, name: str) -> Callable[[], None]:
        with self._lock:
            self.calls[name] = self.calls.get(name, 0) + 1
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)

        def done() -> None:
            with self._lock:
                self.in_flight -= 1

        return done

    def _wait(self) -> None:
        """Sleep for the configured latency, if any. Not even ``sleep(0)`` otherwise: on a
        VM it costs ~0.75 ms a call, which would make the stub, not the code, the cost."""
        if self.latency_s:
            time.sleep(self.latency_s)

    def get_object(self, **kw: Any) -> dict[str, Any]:
        self._call("s3.GetObject")()
        return {"Body": self.objects[kw["Key"]].open("rb")}

    def put_object(self, **kw: Any) -> dict[str, Any]:
        done = self._call("s3.PutObject")
        while kw["Body"].read(1 << 20):
            pass
        done()
        return {}

    def copy_object(self, **kw: Any) -> dict[str, Any]:
        self._call("s3.CopyObject")()
        return {}

    def put_item(self, **kw: Any) -> dict[str, Any]:
        self._call("ddb.PutItem")()
        return {}

    def update_item(self, **kw: Any) -> dict[str, Any]:
        self._call("ddb.UpdateItem")()
        return {}

    def batch_get_item(self, **kw: Any) -> dict[str, Any]:
        (request,) = kw["RequestItems"].values()
        if not 0 < len(request["Keys"]) <= _BATCH_GET_LIMIT:
            raise StubRefusalError(f"BatchGetItem of {len(request['Keys'])} keys")
        done = self._call("ddb.BatchGetItem")
        self._wait()
        done()
        return {"Responses": {}}

    def transact_write_items(self, **kw: Any) -> dict[str, Any]:
        items = kw["TransactItems"]
        keys = {(i["Put"]["Item"]["pk"]["S"], i["Put"]["Item"]["sk"]["S"]) for i in items}
        if not 0 < len(items) <= _TRANSACT_LIMIT or len(keys) != len(items):
            raise StubRefusalError(
                f"TransactWriteItems of {len(items)} items, {len(keys)} distinct"
            )
        done = self._call("ddb.TransactWriteItems")
        self._wait()  # a latency keeps calls open, so concurrency shows
        done()
        return {}

    def dynamodb_round_trips(self) -> int:
        return sum(n for name, n in self.calls.items() if name.startswith("ddb."))


def _runtime(stub: StubAws) -> Any:
    """A warm container's runtime over the stub: clients answered in memory, the pool up."""
    from processor.archive import S3Archive, S3Objects
    from processor.handler import Runtime
    from processor.service import Service
    from processor.settings import Settings
    from processor.store import DynamoBarStore

    settings = Settings.from_env()
    client: Any = stub  # a duck-typed stand-in for both boto3 clients
    store = DynamoBarStore(client, settings.table_name, _EXECUTOR, settings.ledger_ttl_s)
    service = Service(
        settings, store, S3Archive(client, settings.archive_bucket), S3Objects(client), _IO_EXECUTOR
    )
    return Runtime(service, _EXECUTOR, _IO_EXECUTOR)


def _s3_event(key: str, etag: str) -> dict[str, Any]:
    return {
        "Records": [
            {
                "eventName": "ObjectCreated:Put",
                "s3": {"bucket": {"name": "ingest"}, "object": {"key": key, "eTag": etag}},
            }
        ]
    }


Case = tuple[Callable[[Any], Any], Callable[[], Any]]


def _side_by_side(rounds: int, cases: dict[str, Case]) -> dict[str, list[float]]:
    """Each case's times over ``rounds`` rounds, the cases taking turns within a round (so a
    busy spell of a shared machine hits them alike); ``fn(setup())`` times ``fn`` only."""
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(rounds):
        for name, (fn, setup) in cases.items():
            prepared = setup()
            start = time.perf_counter()
            fn(prepared)
            times[name].append(time.perf_counter() - start)
    return times


def _polars(path: Path) -> int:
    import polars as pl

    frame = pl.read_ndjson(
        path,
        schema={
            "trade_id": pl.String,
            "symbol": pl.String,
            "price": pl.Float64,
            "quantity": pl.Float64,
            "timestamp": pl.Int64,
            "side": pl.String,
        },
    )
    bars = (
        frame.with_columns((pl.col("timestamp") // 60_000).alias("minute"))
        .sort("timestamp", "trade_id")
        .group_by("symbol", "minute")
        .agg(
            pl.col("price").first().alias("open"),
            pl.col("price").max().alias("high"),
            pl.col("price").min().alias("low"),
            pl.col("price").last().alias("close"),
            pl.col("quantity").sum().alias("volume"),
            (pl.col("price") * pl.col("quantity")).sum().alias("notional"),
            pl.len().alias("trade_count"),
        )
    )
    return bars.height


def _decode(path: Path) -> list[Any]:
    """The least any exact design does per trade: read the file and decode every line into
    a ``Trade`` (exact ``Decimal`` price and quantity) in one msgspec call."""
    import msgspec

    from processor.records import Trade

    return msgspec.json.Decoder(Trade).decode_lines(path.read_bytes())


def _decode_and_fold(path: Path) -> int:
    """``_decode`` plus the one Python-level pass that folds the trades into bars."""
    from processor.bars import aggregate

    bars: dict[Any, Any] = {}
    aggregate(_decode(path), bars)
    return len(bars)


def p1_p2(trades: int, workdir: Path, rounds: int = 5) -> dict[str, Any]:
    from processor.handler import handle

    path = write_trades(workdir / "trades.jsonl", MarketData(trades, symbols=50, seed=7))
    polars_bars = _polars(path)
    results: list[dict[str, Any]] = []

    def fresh_runtime() -> Any:
        return _runtime(StubAws({"incoming/trades.jsonl": path}))

    def run_file(runtime: Any) -> None:
        etag = f"e{len(results)}"  # the stub keeps no ledger: every run is a fresh batch
        results.append(handle(_s3_event("incoming/trades.jsonl", etag), runtime.service))

    small = [dict(t) for t in MarketData(1000, symbols=50, seed=8, span_minutes=1)]
    stubs: list[StubAws] = []

    def fresh_direct() -> Any:
        stubs.append(StubAws())
        return _runtime(stubs[-1])

    def run_direct(runtime: Any) -> None:
        out = handle({"trades": small, "batch_id": f"b{len(stubs)}"}, runtime.service)
        stubs[-1].calls["bars"] = len(out["bars"])

    times = _side_by_side(
        rounds,
        {
            "polars": (lambda _: _polars(path), lambda: None),
            "decode": (lambda _: _decode(path), lambda: None),
            "decode+fold": (lambda _: _decode_and_fold(path), lambda: None),
            "handler": (run_file, fresh_runtime),
            "direct": (run_direct, fresh_direct),
        },
    )
    batch = results[-1]["batches"][0]
    assert batch["accepted"] == trades and len(batch["bars"]) == polars_bars, "bars differ"
    assert _decode_and_fold(path) == polars_bars, "bars differ"
    polars_s, handler_s, direct_s = (min(times[name]) for name in ("polars", "handler", "direct"))
    per_round = sorted(h / p for h, p in zip(times["handler"], times["polars"], strict=True))
    stub = StubAws(latency_s=0.005)  # untimed run with a network-like latency: count, overlap
    out = handle({"trades": small, "batch_id": "latency"}, _runtime(stub).service)
    stub.calls["bars"] = len(out["bars"])
    return {
        "size_mb": path.stat().st_size / 1e6,
        "bars": polars_bars,
        "polars_s": polars_s,
        "handler_s": handler_s,
        "p1_ratio": handler_s / polars_s,
        "p1_rounds": per_round,
        "floor": {name: min(times[name]) / polars_s for name in ("decode", "decode+fold")},
        "direct_s": direct_s,
        "p2_ratio": (direct_s / len(small)) / (handler_s / trades),
        "p2_bars": stub.calls["bars"],
        "p2_ddb_trips": stub.dynamodb_round_trips(),
        "p2_in_flight": stub.max_in_flight,
    }


_IMPORT_PROBE = """
import sys, time
shipped = sys.argv[1]
t0 = time.perf_counter()
import boto3
t1 = time.perf_counter()
class _NoClients:  # creating the session and clients is not counted
    def client(self, *a, **k): return None
boto3.session.Session = _NoClients
if shipped:  # as the function runs: no typing_extensions (msgspec imports it if present)
    class _NotShipped:
        def find_spec(self, name, path=None, target=None):
            if name == "typing_extensions":
                raise ModuleNotFoundError(name)
    sys.meta_path.insert(0, _NotShipped())
    sys.path.insert(0, shipped)
import processor.handler
t2 = time.perf_counter()
print(t1 - t0, t2 - t1)
"""


def _shipped_tree(
    workdir: Path, name: str, packages: frozenset[str], bytecode: frozenset[str]
) -> Path:
    """The artifact's Python ``packages`` as the function imports them (this machine's builds
    of them), and bytecode for ``bytecode``, the modules the artifact carries it for (compiled
    here for this Python, as the artifact's is for Lambda's)."""
    import importlib.util
    import py_compile
    import shutil

    tree = workdir / name
    for package in sorted(packages):
        spec = importlib.util.find_spec(package)
        assert spec is not None and spec.submodule_search_locations, f"{package} is not installed"
        source = Path(spec.submodule_search_locations[0])
        shutil.copytree(source, tree / package, ignore=shutil.ignore_patterns("__pycache__"))
    for module in bytecode:
        py_compile.compile(
            str(tree / module),
            dfile=module,
            doraise=True,
            invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH,
        )
    return tree


def _import_times(shipped: Path) -> tuple[float, float]:
    """Medians of 7 fresh interpreters: ``import boto3``, then the handler's own import."""
    boto, own = [], []
    for _ in range(7):
        out = subprocess.run(
            [sys.executable, "-c", _IMPORT_PROBE, str(shipped)],
            capture_output=True,
            text=True,
            check=True,
            env=os.environ | _ENV | {"PYTHONDONTWRITEBYTECODE": "1"},  # no cache between runs
            timeout=60,
        )
        b, o = map(float, out.stdout.split())
        boto.append(b)
        own.append(o)
    return statistics.median(boto), statistics.median(own)


def p3(workdir: Path) -> dict[str, Any]:
    from platform_core.artifact import build_package_artifact

    artifact = build_package_artifact("processor", workdir / "artifact")
    modules = {entry for entry in artifact.entries if entry.endswith(".py")}
    carried = frozenset(modules.difference(artifact.without_bytecode))
    packages = frozenset(module.split("/")[0] for module in modules if "/" in module)
    boto3_s, handler_s = _import_times(_shipped_tree(workdir, "shipped", packages, carried))
    bare = _shipped_tree(workdir, "sources-only", packages, frozenset())
    bare_boto3_s, bare_s = _import_times(bare)
    return {
        "boto3_s": boto3_s,
        "handler_s": handler_s,
        "ratio": handler_s / boto3_s,
        "bytecode_modules": len(carried),
        "sources_only_s": bare_s,
        "sources_only_ratio": bare_s / bare_boto3_s,
        "zip_bytes": artifact.size_bytes,
    }


_MEMORY_PROBE = """
import sys, time
from benchmarks.processor import StubAws, _runtime, _s3_event
from processor.handler import handle
from pathlib import Path

def rss_kb(field):
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field):
            return int(line.split()[1])

path, key, small = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
warm = "incoming/small.jsonl"
handle(_s3_event(warm, "w"), _runtime(StubAws({warm: small})).service)  # a warm container
runtime = _runtime(StubAws({key: path}))
before = rss_kb("VmRSS")
start = time.perf_counter()
(out,) = handle(_s3_event(key, "e"), runtime.service)["batches"]
elapsed = time.perf_counter() - start
growth = (rss_kb("VmHWM") - before) / 1024
print(out["status"], out["accepted"], out["rejected_total"], growth, elapsed)
"""


def _gzip_of(path: Path, block: bytes, repeat: int) -> Path:
    """``block`` repeated ``repeat`` times, gzip-compressed, written without holding it all."""
    with gzip.open(path, "wb", compresslevel=6) as out:
        for _ in range(repeat):
            out.write(block)
    return path


def _deep_line(depth: int) -> bytes:
    return b'{"trade_id": "d", "x": ' + b"[" * depth + b"]" * depth + b"}\n"


def hostile_inputs(workdir: Path) -> dict[str, tuple[Path, str]]:
    """Inputs built to cost the most per byte sent: name -> (file, object key)."""
    one_byte = _gzip_of(workdir / "bomb.jsonl.gz", b"1\n" * 500_000, 20)
    long_lines = _gzip_of(
        workdir / "long.jsonl.gz", (b'{"x": "' + b"a" * 1000 + b'"}\n') * 1000, 300
    )
    deep = _gzip_of(workdir / "deep.jsonl.gz", _deep_line(1000) * 1000, 100)
    elements = b",".join([b"[" * 1000 + b"]" * 1000] * 1000)
    array = workdir / "deep.json.gz"
    with gzip.open(array, "wb") as out:
        out.write(b"[")
        for i in range(20):
            out.write((b"," if i else b"") + elements)
        out.write(b"]")
    many_bars = write_trades(
        workdir / "bars.jsonl",
        MarketData(1_000_000, symbols=50, seed=13, span_minutes=199),
    )
    return {
        "gzip bomb, 20 MB of one-byte records": (one_byte, "incoming/bomb.jsonl.gz"),
        "gzip bomb, 300 MB of 1 KB lines": (long_lines, "incoming/long.jsonl.gz"),
        "100k lines nested 1000 deep": (deep, "incoming/deep.jsonl.gz"),
        "JSON array of 20k elements nested 1000 deep": (array, "incoming/deep.json.gz"),
        "1M trades over 10,000 bars (the bar limit)": (many_bars, "incoming/bars.jsonl"),
    }


def _probe(path: Path, key: str, small: Path) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-c", _MEMORY_PROBE, str(path), key, str(small)],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
        env=os.environ | _ENV | {"PYTHONPATH": str(Path.cwd())},
    )
    status, accepted, rejected, growth_mb, seconds = out.stdout.split()[-5:]
    return {
        "status": status,
        "accepted": int(accepted),
        "rejected": int(rejected),
        "size_mb": path.stat().st_size / 1e6,
        "growth_mb": float(growth_mb),
        "seconds": float(seconds),
    }


def p4(trades: int, workdir: Path, hostile: bool) -> dict[str, dict[str, Any]]:
    path = write_trades(
        workdir / "big.jsonl", MarketData(trades, symbols=50, seed=9, span_minutes=60)
    )
    small = write_trades(workdir / "small.jsonl", MarketData(2000, symbols=50, seed=10))
    results = {f"{trades} trades JSON Lines": _probe(path, "incoming/big.jsonl", small)}
    if hostile:
        for name, (file, key) in hostile_inputs(workdir).items():
            results[name] = _probe(file, key, small)
    return results


def _verdict(value: float, target: float) -> str:
    return "met" if value <= target else "NOT met"


def main(argv: list[str] | None = None) -> None:
    """Run every measurement and print figures and ratios against their targets."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--trades", type=int, default=100_000)
    parser.add_argument("--big", type=int, default=1_000_000)
    parser.add_argument(
        "--rounds",
        type=int,
        default=5,
        help="rounds of the bulk and small-batch timings (each case once a round)",
    )
    parser.add_argument(
        "--no-hostile", action="store_true", help="skip memory growth for the hostile inputs"
    )
    args = parser.parse_args(argv)
    os.environ.update({k: v for k, v in _ENV.items() if k not in os.environ})
    import logging

    from processor.logs import get_logger

    get_logger().setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="processor-bench-") as tmp:
        work = Path(tmp)
        a = p1_p2(args.trades, work, args.rounds)
        c = p3(work)
        d = p4(args.big, work, hostile=not args.no_hostile)
    print(
        f"Bulk file: {args.trades} trades JSON Lines ({a['size_mb']:.1f} MB, 50 symbols, "
        f"{a['bars']} bars)"
    )
    print(f"    polars read+aggregate {a['polars_s'] * 1e3:8.1f} ms   (reference floor)")
    print(
        f"    handler end to end    {a['handler_s'] * 1e3:8.1f} ms   ratio {a['p1_ratio']:.2f}x"
        f"  target <= {_TARGETS['bulk']}x  {_verdict(a['p1_ratio'], _TARGETS['bulk'])}"
    )
    rounds = a["p1_rounds"]
    print(
        f"    (fastest of {len(rounds)} rounds each; ratio within a round: {rounds[0]:.2f}x to "
        f"{rounds[-1]:.2f}x, median {statistics.median(rounds):.2f}x)"
    )
    floor = a["floor"]
    print(
        f"    this design's floor: decoding into exact trades alone {floor['decode']:.2f}x, "
        f"plus the one aggregation pass {floor['decode+fold']:.2f}x (before dedupe, archive, "
        "store, response)"
    )
    print(
        f"Small batch: direct invocation of 1000 trades: {a['direct_s'] * 1e3:.1f} ms, per trade "
        f"{a['p2_ratio']:.2f}x the bulk file's  target <= {_TARGETS['small']}x  "
        f"{_verdict(a['p2_ratio'], _TARGETS['small'])}"
    )
    print(
        f"    DynamoDB round trips {a['p2_ddb_trips']} for {a['p2_bars']} touched bars "
        f"(limit: one per bar plus a constant); max in flight {a['p2_in_flight']}"
    )
    print(
        f"Cold start: import boto3 {c['boto3_s'] * 1e3:.1f} ms, handler's own import "
        f"{c['handler_s'] * 1e3:.1f} ms  ratio {c['ratio']:.1%}  target <= 15%  "
        f"{_verdict(c['ratio'], _TARGETS['import'])}"
    )
    print(
        f"    (as shipped: the handler's modules and msgspec's from the artifact's tree, "
        f"{c['bytecode_modules']} with the bytecode it carries; sources only, compiled at "
        f"import: {c['sources_only_s'] * 1e3:.1f} ms, {c['sources_only_ratio']:.1%})"
    )
    print(
        f"    artifact zip {c['zip_bytes'] / 1e6:.3f} MB  target <= 1 MB  "
        f"{_verdict(c['zip_bytes'] / 1e6, 1.0)}"
    )
    for name, run in d.items():
        print(
            f"Memory: {name} ({run['size_mb']:.1f} MB sent): {run['status']}, {run['accepted']} "
            f"accepted, {run['rejected']} rejected, in {run['seconds']:.1f} s; peak RSS growth "
            f"{run['growth_mb']:.1f} MB  target <= 64 MB  "
            f"{_verdict(run['growth_mb'], _TARGETS['memory MB'])}"
        )


if __name__ == "__main__":
    main()
