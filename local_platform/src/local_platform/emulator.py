"""The embedded AWS emulator: moto's server on 127.0.0.1, started and always stopped by us."""

from __future__ import annotations

import functools
import logging
import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from moto.server import ThreadedMotoServer

from local_platform import conditions, transactions

__all__ = ["Emulator", "EmulatorError", "running_emulator", "serialise_moto_dynamodb"]

HOST = "127.0.0.1"
# The emulator accepts any credentials; these keep boto3 away from real ones on this machine.
_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_SESSION_TOKEN": "local",
}


class EmulatorError(Exception):
    """The emulator could not start (port taken, moto failure)."""


@dataclass(frozen=True)
class Emulator:
    endpoint_url: str
    port: int


_SERIALISED_OPERATIONS = (
    "transact_write_items",
    "put_item",
    "update_item",
    "get_item",
    "batch_get_item",
    "delete_item",
    "scan",
    "query",
)


def serialise_moto_dynamodb() -> None:
    """Make each moto DynamoDB operation atomic, as every DynamoDB request is, and cheap.

    moto's backend is not thread-safe (a transaction snapshots items while other request
    threads write to them), but real DynamoDB serialises writes per item and runs transactions
    atomically. With one lock per operation, concurrent clients exercise the processor's own
    protocol (read, then a conditional transactional write, with real interleavings between
    requests), not moto's races. Transactions snapshot only the items they touch
    (`local_platform.transactions`), inside the lock, and a condition expression is parsed once
    (`local_platform.conditions`). Idempotent.
    """
    from moto.dynamodb.models import DynamoDBBackend

    if getattr(DynamoDBBackend, "_serialised_by_local_platform", False):
        return
    transactions.install()  # first: the lock must enclose the snapshot
    conditions.install()
    lock = threading.RLock()
    for name in _SERIALISED_OPERATIONS:
        original = getattr(DynamoDBBackend, name)

        def locked(*args: Any, __original: Any = original, **kwargs: Any) -> Any:
            with lock:
                return __original(*args, **kwargs)

        wraps: Any = functools.wraps(original)
        setattr(DynamoDBBackend, name, wraps(locked))
    setattr(DynamoDBBackend, "_serialised_by_local_platform", True)  # noqa: B010 - moto's class


def _check_port_free(port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((HOST, port))
        except OSError as error:
            raise EmulatorError(
                f"port {port} on {HOST} is taken ({error.strerror}); choose another with "
                "--port N, or --port 0 for any free port"
            ) from None


@contextmanager
def running_emulator(port: int, region: str) -> Iterator[Emulator]:
    """Start moto's server, point boto3 at it (env vars), and stop it whatever happens."""
    if port:
        _check_port_free(port)
    serialise_moto_dynamodb()
    server = ThreadedMotoServer(ip_address=HOST, port=port, verbose=False)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access log over the report
    try:
        server.start()
        host, bound_port = server.get_host_and_port()
    except Exception as error:
        server.stop()
        raise EmulatorError(f"the AWS emulator failed to start: {error}") from error
    endpoint = f"http://{host}:{bound_port}"
    saved = {
        key: os.environ.get(key)
        for key in [*_ENVIRONMENT, "AWS_ENDPOINT_URL", "AWS_DEFAULT_REGION"]
    }
    os.environ.update({**_ENVIRONMENT, "AWS_ENDPOINT_URL": endpoint, "AWS_DEFAULT_REGION": region})
    try:
        yield Emulator(endpoint_url=endpoint, port=bound_port)
    finally:
        server.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
