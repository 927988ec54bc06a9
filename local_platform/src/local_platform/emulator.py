"""The embedded AWS emulator: moto's server on 127.0.0.1, started and always stopped by us.

moto is patched in this process first (see `serialise_moto_dynamodb` and
`local_platform.authorisation`); IAM enforcement starts when `Emulator.enforce_iam` is called,
after the set-up that AWS itself would not let anyone but the platform do.
"""

from __future__ import annotations

import functools
import logging
import os
import socket
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import boto3
from moto import settings
from moto.core.authorization import ActionAuthenticatorMixin
from moto.server import ThreadedMotoServer

from local_platform import authorisation, conditions, transactions
from local_platform.errors import EmulatorError, RegionError

__all__ = [
    "Emulator",
    "EmulatorError",  # also importable from here (local_platform.errors is its home)
    "check_port_free",
    "check_region",
    "running_emulator",
    "serialise_moto_dynamodb",
]

HOST = "127.0.0.1"
# Until enforcement starts the emulator accepts any credentials; these keep boto3 away from
# real ones on this machine.
_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_SESSION_TOKEN": "local",
}


def check_region(region: str) -> str:
    """``region`` if botocore knows it as a DynamoDB region of the ``aws`` partition."""
    known = boto3.session.Session().get_available_regions("dynamodb", partition_name="aws")
    if region not in known:
        raise RegionError(
            f"unknown region {region!r}; the local platform runs in a region of AWS's standard "
            f"partition: {', '.join(sorted(known))}"
        )
    return region


@dataclass(frozen=True)
class Emulator:
    endpoint_url: str
    port: int
    region: str

    def enforce_iam(self) -> None:
        """From now on every request needs credentials the emulator issued, and a policy that
        allows it (moto's ``INITIAL_NO_AUTH_ACTION_COUNT``, set through its own endpoint)."""
        _post(f"{self.endpoint_url}/moto-api/reset-auth", b"0")


def _post(url: str, data: bytes) -> None:
    """A request to moto's own control endpoints (on 127.0.0.1)."""
    # text/plain: Flask would read a form body (urllib's default type) as form fields
    request = urllib.request.Request(
        url, data=data, method="POST", headers={"Content-Type": "text/plain"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()


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


def check_port_free(port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((HOST, port))
        except OSError as error:
            raise EmulatorError(
                f"port {port} on {HOST} is taken ({error.strerror}); choose another with "
                "--port N, or --port 0 for any free port"
            ) from None


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@contextmanager
def running_emulator(port: int, region: str) -> Iterator[Emulator]:
    """Start moto's server, point boto3 at it (env vars), and stop it whatever happens.

    IAM enforcement is off until `Emulator.enforce_iam`; it is off again afterwards.
    """
    if port:
        check_port_free(port)
    serialise_moto_dynamodb()
    authorisation.install()
    enforcement = settings.INITIAL_NO_AUTH_ACTION_COUNT
    settings.INITIAL_NO_AUTH_ACTION_COUNT = float("inf")
    server = ThreadedMotoServer(ip_address=HOST, port=port, verbose=False)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access log over the report
    try:
        server.start()
        host, bound_port = server.get_host_and_port()
    except Exception as error:
        server.stop()
        raise EmulatorError(f"the AWS emulator failed to start: {error}") from error
    endpoint = f"http://{host}:{bound_port}"
    _post(f"{endpoint}/moto-api/reset", b"")  # moto's state is per process: start empty
    variables = {**_ENVIRONMENT, "AWS_ENDPOINT_URL": endpoint, "AWS_DEFAULT_REGION": region}
    try:
        with _environment(variables):
            yield Emulator(endpoint_url=endpoint, port=bound_port, region=region)
    finally:
        server.stop()
        settings.INITIAL_NO_AUTH_ACTION_COUNT = enforcement
        ActionAuthenticatorMixin.request_count = 0
