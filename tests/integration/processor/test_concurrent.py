"""Concurrent writers: several function instances merge overlapping batches of the same bars
at the same time, on a moto server on 127.0.0.1, each batch delivered more than once."""

from __future__ import annotations

import random
import threading
import urllib.request
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from benchmarks.market_data import MarketData
from processor.handler import Runtime, handle
from processor.settings import Settings
from tests.processor_helpers import REGION, create_resources, expected_bars, stored_bars


@pytest.mark.parametrize("workers", [16, 1], ids=["bar-per-transaction", "50-bars-per-transaction"])
def test_concurrent_overlapping_batches_on_a_moto_server(workers):
    """Several function instances merge overlapping batches of the same bars at the same time."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST"))
        client: Any = lambda name: boto3.client(name, region_name=REGION, endpoint_url=endpoint)  # noqa: E731
        create_resources(client("dynamodb"), client("s3"))
        trades = list(MarketData(400, symbols=3, seed=11, span_minutes=2))
        rng = random.Random(5)
        shuffled = rng.sample(trades, len(trades))
        parts = [shuffled[i::6] for i in range(6)]  # every part touches the same bars
        batches = [(f"b{i}", part) for i, part in enumerate(parts)]
        batches += [("b0", parts[0]), ("b3", parts[3])]  # the same batches again, concurrently
        settings_ = Settings.from_env()
        runtimes = [
            Runtime.create(settings_, endpoint_url=endpoint, workers=workers) for _ in range(4)
        ]
        errors: list[BaseException] = []
        start = threading.Barrier(len(batches))

        def run(i: int, batch_id: str, batch: list[dict[str, Any]]) -> None:
            try:
                start.wait(timeout=30)
                for _ in range(2):  # and every batch delivered twice
                    handle(
                        {"trades": batch, "batch_id": batch_id}, runtimes[i % len(runtimes)].service
                    )
            except BaseException as err:
                errors.append(err)

        threads = [threading.Thread(target=run, args=(i, *b)) for i, b in enumerate(batches)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert not errors and not any(t.is_alive() for t in threads)
        assert stored_bars(client("dynamodb")) == expected_bars(*parts)
    finally:
        server.stop()
