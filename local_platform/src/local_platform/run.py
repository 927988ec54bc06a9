"""`make demo`: one environment end to end on the embedded emulator, with a readable report.

Steps: render the stack program offline; start moto on 127.0.0.1; create the table, buckets,
failure queue and the function's role from the rendered definitions, then enforce IAM; upload a
market-data file under `incoming/` (keeping its name) and deliver the ObjectCreated
notification to the real handler, which runs with the role's credentials — or invoke it
directly with a payload; deliver once more, to show a redelivery changes nothing; probe what the
role may not do; print the stored bars, the counts, the archive and the timings.
"""

from __future__ import annotations

import functools
import importlib
import io
import json
import os
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO, TypeVar

from local_platform.context import FunctionSettings
from local_platform.delivery import object_created_event
from local_platform.emulator import Emulator, running_emulator
from local_platform.identities import (
    Credentials,
    FunctionRole,
    create_function_role,
    create_operator,
)
from local_platform.probes import Probe, probe_role
from local_platform.provision import LocalEnvironment, provision
from platform_core.database import not_emulated
from platform_core.offline import RenderedStack, render_stack
from processor.contract import BAR_SORT_KEY_PREFIX, INGEST_PREFIX

__all__ = [
    "DEFAULT_SAMPLE",
    "REPO_ROOT",
    "LocalRun",
    "Options",
    "clients_of",
    "load_handler",
    "run",
]

REPO_ROOT = Path(__file__).resolve().parents[3]  # the checkout: local_platform/src/local_platform/
DEFAULT_SAMPLE = REPO_ROOT / "samples" / "market-data.jsonl"
T = TypeVar("T")


@dataclass(frozen=True)
class Options:
    """What to run: one environment, and either a file to upload or a payload to invoke."""

    environment: str = "dev"
    file: Path = DEFAULT_SAMPLE
    #: A direct-invocation payload (JSON) instead of an upload.
    invoke: Path | None = None
    port: int = 0
    #: Overrides the stack's `aws:region`; None keeps it.
    region: str | None = None

    @property
    def upload_key(self) -> str:
        """The file keeps its name, under the prefix that triggers the function."""
        return f"{INGEST_PREFIX}{self.file.name}"


@dataclass
class LocalRun:
    """What the run produced, for the report and for tests."""

    options: Options
    region: str = ""
    endpoint_url: str = ""
    resources: LocalEnvironment | None = None
    role: FunctionRole | None = None
    operator: Credentials | None = None
    event: Mapping[str, Any] = field(default_factory=dict)
    response: Mapping[str, Any] = field(default_factory=dict)
    redelivery: Mapping[str, Any] = field(default_factory=dict)
    probes: list[Probe] = field(default_factory=list)
    bars: list[dict[str, Any]] = field(default_factory=list)
    archive: list[tuple[str, int]] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    function_log: list[str] = field(default_factory=list)
    #: What the handler raised, if it did (Lambda would retry the event, then give up).
    handler_error: str | None = None
    # While the emulator runs (for --keep-running): the rendered stack, the emulator, the
    # loaded handler.
    stack: RenderedStack | None = None
    emulator: Emulator | None = None
    handler: Callable[[Any, Any], Any] | None = None

    @property
    def batches(self) -> tuple[Mapping[str, Any], Mapping[str, Any]]:
        """The first delivery's batch and the redelivery's (one object, or one direct batch)."""
        return _outcomes(self.response)[0], _outcomes(self.redelivery)[0]

    @property
    def applied(self) -> bool:
        """Whether the function applied the input: every batch `applied` (or `duplicate`)."""
        outcomes = _outcomes(self.response)
        return all(o.get("status") in ("applied", "duplicate") for o in outcomes)


def _outcomes(response: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """A response's outcomes: an S3 event's ``batches``, or a direct call's one (``{}`` when
    there is no response)."""
    batches = response.get("batches")
    return list(batches) if isinstance(batches, list) and batches else [response]


class Progress:
    """`[n/7] step … ok (0.12 s)` lines, so a slow step never looks like a hang."""

    STEPS = 7

    def __init__(self, out: TextIO) -> None:
        self.out, self.step = out, 0

    @contextmanager
    def __call__(self, text: str, timings: dict[str, float], key: str) -> Iterator[None]:
        self.step += 1
        self.out.write(f"[{self.step}/{self.STEPS}] {text} … ")
        self.out.flush()
        started = time.perf_counter()
        yield
        timings[key] = time.perf_counter() - started
        self.out.write(f"ok ({timings[key]:.2f} s)\n")
        self.out.flush()


def _timed(timings: dict[str, float], key: str, action: Callable[[], T]) -> T:
    started = time.perf_counter()
    result = action()
    timings[key] = time.perf_counter() - started
    return result


@contextmanager
def _variables(values: Mapping[str, str]) -> Iterator[None]:
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


def load_handler(
    variables: Mapping[str, str], credentials: Credentials
) -> Callable[[Any, Any], Any]:
    """Import the real handler as Lambda would start it: a fresh container (cold start), the
    function's environment variables, and the execution role's credentials."""
    for name in [module for module in sys.modules if module.startswith("processor.")]:
        del sys.modules[name]  # clients are created at import: they take these credentials
    with _variables({**variables, **credentials.environment()}):
        module = importlib.import_module("processor.handler")
    handler: Callable[[Any, Any], Any] = module.handler
    return handler


def _stored_bars(ddb: Any, table_name: str) -> list[dict[str, Any]]:
    from boto3.dynamodb.types import TypeDeserializer

    deserialise = TypeDeserializer().deserialize
    items: list[dict[str, Any]] = []
    scan: dict[str, Any] = {"TableName": table_name}
    while True:
        page = ddb.scan(**scan)
        for item in page["Items"]:
            if item["sk"]["S"].startswith(BAR_SORT_KEY_PREFIX):
                items.append({key: deserialise(value) for key, value in item.items()})
        if "LastEvaluatedKey" not in page:
            break
        scan["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return sorted(items, key=lambda item: (str(item["pk"]), str(item["sk"])))


def _payload(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _set_up(
    result: LocalRun, stack: Any, emulator: Emulator
) -> tuple[LocalEnvironment, Callable[[str], Any]]:
    """Operator, table, buckets, queue and role from the rendered stack; then enforce IAM."""
    setup = Credentials("local", "local")
    operator = create_operator(setup.client("iam", emulator.endpoint_url, emulator.region))
    client = clients_of(operator, emulator)
    resources = provision(stack, client)
    result.role = create_function_role(
        client("iam"), client("sts"), stack, result.options.environment, emulator.region
    )
    emulator.enforce_iam()
    result.operator = operator
    return resources, client


def clients_of(credentials: Credentials, emulator: Emulator) -> Callable[[str], Any]:
    """``credentials``' client of the emulator for a service (made once per service)."""

    @functools.cache
    def client(service: str) -> Any:
        return credentials.client(service, emulator.endpoint_url, emulator.region)

    return client


def _deliver(result: LocalRun, resources: LocalEnvironment, operator: Any) -> None:
    """Upload and build the notification S3 would send (or read the direct payload)."""
    options = result.options
    if options.invoke is not None:
        result.event = _payload(options.invoke)
        return
    s3 = operator("s3")
    if options.file.stat().st_size:
        s3.upload_file(str(options.file), resources.ingest_bucket, options.upload_key)
    else:  # a file of /proc says 0 bytes and has more: what it holds is what reading gives
        body = options.file.read_bytes()
        s3.put_object(Bucket=resources.ingest_bucket, Key=options.upload_key, Body=body)
    head = s3.head_object(Bucket=resources.ingest_bucket, Key=options.upload_key)
    result.event = object_created_event(
        bucket=resources.ingest_bucket,
        key=options.upload_key,
        size=int(head["ContentLength"]),
        etag=str(head["ETag"]),
        version_id=head.get("VersionId"),
        region=result.region,
    )


def run(
    options: Options, out: TextIO, while_running: Callable[[LocalRun], None] | None = None
) -> LocalRun:
    """Run the steps, printing progress to ``out``; ``while_running`` is called before the
    emulator stops (for `--keep-running`)."""
    result = LocalRun(options)
    progress = Progress(out)
    overrides = {"aws:region": options.region} if options.region else None
    with progress(
        f"rendering stacks/{options.environment} (Pulumi mock engine)", result.timings, "render"
    ):
        stack = render_stack(REPO_ROOT / "stacks" / options.environment, overrides=overrides)
    out.writelines(not_emulated(stack))
    result.region, result.stack = str(stack.outputs["region"]), stack
    with ExitStack() as cleanup:  # the emulator stops whatever happens below
        with progress("starting the AWS emulator on 127.0.0.1", result.timings, "emulator"):
            emulator = cleanup.enter_context(running_emulator(options.port, result.region))
        result.endpoint_url, result.emulator = emulator.endpoint_url, emulator
        with progress(
            "creating the table, buckets, failure queue and the function's role from those "
            "definitions; enforcing IAM",
            result.timings,
            "provision",
        ):
            resources, operator = _set_up(result, stack, emulator)
            result.resources = resources
        step = (
            f"reading the payload {options.invoke}"
            if options.invoke is not None
            else f"uploading {options.file.name} to s3://{resources.ingest_bucket}/"
            f"{options.upload_key}"
        )
        with progress(step, result.timings, "upload"):
            _deliver(result, resources, operator)
        _invoke(result, resources, progress)
        assert result.role is not None
        role = clients_of(result.role.session, emulator)
        with progress("probing what the function's role may not do", result.timings, "probe"):
            result.probes = probe_role(
                role, operator, resources, options.environment, result.region
            )
        with progress("reading the stored bars and the archive", result.timings, "read"):
            result.bars = _stored_bars(operator("dynamodb"), resources.table_name)
            listing = operator("s3").list_objects_v2(Bucket=resources.archive_bucket)
            result.archive = [(str(i["Key"]), int(i["Size"])) for i in listing.get("Contents", [])]
        if while_running is not None:
            while_running(result)
    return result


def _call(
    result: LocalRun, handler: Callable[[Any, Any], Any], function: FunctionSettings, key: str
) -> Mapping[str, Any]:
    """One invocation, timed, with its own context; what it raises is recorded, as Lambda
    records a failure."""
    context = function.context()
    started = time.perf_counter()
    try:
        response: Mapping[str, Any] = handler(result.event, context)
    except Exception as error:  # the function failed: report it, as Lambda would log it
        result.handler_error = f"{type(error).__name__}: {error}"
        response = {}
    result.timings[key] = time.perf_counter() - started
    return response


def _invoke(result: LocalRun, resources: LocalEnvironment, progress: Progress) -> None:
    """The handler, with the role's credentials: once, then the same event again."""
    assert result.role is not None
    what = (
        "invoking processor.handler.handler directly with that payload"
        if result.options.invoke is not None
        else "delivering the ObjectCreated notification to processor.handler.handler"
    )
    function_log = io.StringIO()  # the function's stdout: what CloudWatch Logs would get
    with (
        progress(f"{what} (as its IAM role)", result.timings, "deliver"),
        redirect_stdout(function_log),
    ):
        role = result.role.session
        handler = _timed(
            result.timings,
            "cold_import",
            lambda: load_handler(resources.function_environment, role),
        )
        result.handler = handler
        assert result.stack is not None
        function = FunctionSettings.of(result.stack, result.region)
        result.response = _call(result, handler, function, "first_invocation")
        if result.handler_error is None:
            result.redelivery = _call(result, handler, function, "redelivery")
    result.function_log = function_log.getvalue().splitlines()
