"""The embedded AWS emulator: moto's server on 127.0.0.1, started and always stopped by us."""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from moto.server import ThreadedMotoServer

__all__ = ["Emulator", "EmulatorError", "running_emulator"]

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
