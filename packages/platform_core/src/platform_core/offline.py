"""Render a real stack program offline, under Pulumi's mock engine, with its real stack config.

No Pulumi CLI, engine or AWS account is involved: the program's `__main__.py` runs as `pulumi up`
would run it, the engine is replaced by `pulumi.runtime.set_mocks`, and every registration —
type, logical name, inputs, parent, dependencies and options — is recorded for inspection by
tests, the policy pack and the environment consistency report.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import hashlib
import runpy
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _ensure_event_loop, _sync_await

from platform_core.errors import ConfigError, with_notes
from platform_core.stack_files import engine_config, number_notes, read_project, read_stack_config

__all__ = [
    "FAKE_ACCOUNT_ID",
    "FakeAws",
    "RegisteredResource",
    "RenderError",
    "RenderedStack",
    "close_event_loop",
    "render_stack",
]

FAKE_ACCOUNT_ID = "123456789012"


@dataclass(frozen=True)
class RegisteredResource:
    """One resource as the engine received it."""

    urn: str
    type: str
    name: str
    custom: bool
    parent: str
    provider: str
    inputs: Mapping[str, Any]
    state: Mapping[str, Any]
    dependencies: tuple[str, ...]
    protect: bool
    retain_on_delete: bool
    ignore_changes: tuple[str, ...]


class RenderError(Exception):
    """The program failed; `registered` is what it had registered by then (nothing, when the
    program refused its config)."""

    def __init__(self, cause: BaseException, registered: tuple[RegisteredResource, ...]) -> None:
        super().__init__(str(cause))
        self.registered = registered


@dataclass(frozen=True)
class RenderedStack:
    """Everything one program registered, and its stack outputs."""

    project: str
    stack: str
    resources: tuple[RegisteredResource, ...]
    outputs: Mapping[str, Any]
    invokes: tuple[tuple[str, str], ...] = ()

    def of_type(self, type_: str) -> list[RegisteredResource]:
        return [resource for resource in self.resources if resource.type == type_]

    def one(self, type_: str) -> RegisteredResource:
        found = self.of_type(type_)
        if len(found) != 1:
            raise LookupError(f"expected one {type_}, found {len(found)}")
        return found[0]

    def by_urn(self, urn: str) -> RegisteredResource:
        return next(resource for resource in self.resources if resource.urn == urn)

    def local_name(self, resource: RegisteredResource) -> str:
        """The name within its component: `vpc` for the network component's `<network>-vpc`."""
        parents = [r for r in self.resources if r.urn == resource.parent]
        return resource.name.removeprefix(f"{parents[0].name}-") if parents else resource.name

    def named(self, type_: str, local_name: str) -> RegisteredResource:
        """The one ``type_`` resource called ``local_name`` within its component."""
        found = [r for r in self.of_type(type_) if self.local_name(r) == local_name]
        if len(found) != 1:
            raise LookupError(f"expected one {type_} named {local_name}, found {len(found)}")
        return found[0]


def _arn(service: str, region: str, resource: str) -> str:
    return f"arn:aws:{service}:{region}:{FAKE_ACCOUNT_ID}:{resource}"


@dataclass
class FakeAws(pulumi_mocks.Mocks):
    """Answers registrations and invokes the way AWS would shape them (ids, names, ARNs)."""

    region: str
    # The registering resource's path within the stack (`type$type::name`), set by the monitor
    # on the registering thread, so ids are unique and the same in every environment.
    current: threading.local = field(default_factory=threading.local)
    # (function token, provider reference) of every invoke, to check which provider served it.
    invokes: list[tuple[str, str]] = field(default_factory=list)

    def new_resource(self, args: pulumi_mocks.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        state = dict(args.inputs)
        name = str(
            state.get("name")
            or state.get("bucket")
            or state.get("identifier")
            or state.get("clusterIdentifier")
            or args.name
        )
        outputs = self._outputs(args.typ, name)
        state.update({key: value for key, value in outputs.items() if key not in state})
        return str(outputs["id"]), state

    def _outputs(self, type_: str, name: str) -> dict[str, Any]:
        region = self.region
        path = getattr(self.current, "path", name)
        digest = hashlib.sha256(path.encode()).hexdigest()[:12]
        known: dict[str, dict[str, Any]] = {
            "aws:s3/bucket:Bucket": {"id": name, "arn": f"arn:aws:s3:::{name}"},
            "aws:dynamodb/table:Table": {
                "id": name, "arn": _arn("dynamodb", region, f"table/{name}")
            },
            "aws:lambda/function:Function": {
                "id": name,
                "arn": _arn("lambda", region, f"function:{name}"),
                "invokeArn": f"arn:aws:apigateway:{region}:lambda:path/functions/{name}",
            },
            "aws:cloudwatch/logGroup:LogGroup": {
                "id": name, "arn": _arn("logs", region, f"log-group:{name}")
            },
            "aws:sqs/queue:Queue": {
                "id": f"https://sqs.{region}.amazonaws.com/{FAKE_ACCOUNT_ID}/{name}",
                "arn": _arn("sqs", region, name),
                "url": f"https://sqs.{region}.amazonaws.com/{FAKE_ACCOUNT_ID}/{name}",
            },
            "aws:sns/topic:Topic": {
                "id": _arn("sns", region, name), "arn": _arn("sns", region, name)
            },
            "aws:iam/role:Role": {"id": name, "arn": f"arn:aws:iam::{FAKE_ACCOUNT_ID}:role/{name}"},
            "aws:iam/policy:Policy": {
                "id": f"arn:aws:iam::{FAKE_ACCOUNT_ID}:policy/{name}",
                "arn": f"arn:aws:iam::{FAKE_ACCOUNT_ID}:policy/{name}",
            },
            "aws:ec2/instance:Instance": {"primaryNetworkInterfaceId": f"eni-{digest}"},
            "aws:rds/cluster:Cluster": {
                "id": name,
                "arn": f"arn:aws:rds:{region}:{FAKE_ACCOUNT_ID}:cluster:{name}",
                "endpoint": f"{name}.cluster-{digest}.{region}.rds.amazonaws.com",
                "readerEndpoint": f"{name}.cluster-ro-{digest}.{region}.rds.amazonaws.com",
                # RDS names the secret it manages after the cluster's resource id.
                "masterUserSecrets": [{
                    "secretArn": _arn("secretsmanager", region, f"secret:rds!cluster-{digest}"),
                    "secretStatus": "active",
                }],
            },
        }  # fmt: skip
        default = {"id": f"{type_.rsplit(':', 1)[-1].lower()}-{digest}"}
        return {**default, **known.get(type_, {})}

    def call(self, args: pulumi_mocks.MockCallArgs) -> dict[str, Any]:  # type: ignore[override]
        self.invokes.append((args.token, args.provider))
        zones = [f"{self.region}{letter}" for letter in "abcdef"]
        answers: dict[str, dict[str, Any]] = {
            "aws:index/getAvailabilityZones:getAvailabilityZones": {
                "id": self.region,
                "names": zones,
                "zoneIds": [f"use1-az{index}" for index in range(1, len(zones) + 1)],
            },
            "aws:index/getCallerIdentity:getCallerIdentity": {
                "id": FAKE_ACCOUNT_ID,
                "accountId": FAKE_ACCOUNT_ID,
                "arn": f"arn:aws:iam::{FAKE_ACCOUNT_ID}:user/deployer",
                "userId": "AIDAEXAMPLE",
            },
            "aws:ssm/getParameter:getParameter": {
                "id": args.args.get("name", ""),
                "name": args.args.get("name", ""),
                "value": "ami-0abcdef1234567890",
                "type": "String",
            },
        }
        return answers.get(args.token, {})


class _RecordingMonitor(pulumi_mocks.MockMonitor):
    """The mock monitor, keeping each registration's options next to its inputs."""

    mocks: FakeAws

    def __init__(self, mocks: FakeAws) -> None:
        super().__init__(mocks)
        self.records: list[RegisteredResource] = []

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        urn = self.make_urn(request.parent, request.type, request.name)
        self.mocks.current.path = urn.split("::", 2)[2]
        response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
        if request.type == "pulumi:pulumi:Stack":
            return response
        if any(record.urn == response.urn for record in self.records):
            # The real engine refuses a second resource with the same URN; so do we.
            raise ValueError(f"duplicate resource URN {response.urn}")
        registration = self.resources.get(response.urn)
        inputs = _sync_await(_deserialize(request.object))
        self.records.append(
            RegisteredResource(
                urn=response.urn,
                type=request.type,
                name=request.name,
                custom=bool(request.custom),
                parent=request.parent,
                provider=request.provider,
                inputs=inputs,
                state=dict(registration.state) if registration is not None else {},
                dependencies=tuple(request.dependencies),
                protect=bool(request.protect),
                retain_on_delete=bool(request.retainOnDelete),
                ignore_changes=tuple(request.ignoreChanges),
            )
        )
        return response


def close_event_loop() -> None:
    """Close the event loop the renders ran on, as ``asyncio.run`` closes its own: cancel what a
    failed program left pending, stop the executor's threads, close the loop. Left open, it is
    collected as the interpreter exits, which can print a traceback after the command's message.
    """
    policy = asyncio.get_event_loop_policy()
    loop = policy.get_event_loop()
    if loop.is_running() or loop.is_closed():
        return
    try:
        pending = asyncio.all_tasks(loop)
        for task in pending:
            task.cancel()
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.run_until_complete(loop.shutdown_default_executor())
    finally:
        loop.close()
        policy.set_event_loop(None)


async def _deserialize(struct: Any) -> dict[str, Any]:
    from pulumi.runtime import rpc

    return dict(rpc.deserialize_properties(struct))


def render_stack(
    stack_dir: Path,
    *,
    stack: str | None = None,
    config_stack: str | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> RenderedStack:
    """Run `stack_dir/__main__.py` under mocks as stack `stack` (default: the directory's name),
    with the config of `Pulumi.<config_stack>.yaml` (default: the stack's own) plus `overrides`.
    """
    stack_dir = stack_dir.resolve()
    stack = stack or stack_dir.name
    project = str(read_project(stack_dir)["name"])
    stack_file = stack_dir / f"Pulumi.{config_stack or stack}.yaml"
    config = {**read_stack_config(stack_dir, config_stack or stack), **(overrides or {})}
    region = str(config.get("aws:region", "us-east-1"))
    try:
        # A fresh context: the SDK keeps the root stack and the config in context variables.
        return contextvars.Context().run(
            _render, stack_dir, project, stack, engine_config(config), region
        )
    except RenderError as error:
        notes = {
            key: note
            for key, note in number_notes(stack_file).items()
            if key not in (overrides or {})
        }
        if not isinstance(error.__cause__, ConfigError) or not notes:
            raise
        noted = with_notes(error.__cause__, notes)
        raise RenderError(noted, error.registered) from noted


class _MockThreads:
    """The threads the mock engine's calls run on, one event loop each, all closed at the end.

    The SDK runs each engine call in the loop's default executor, and the mocks wait on
    coroutines there, so every worker thread makes an event loop of its own that nothing
    closes: the interpreter collects them as it exits and may print their tracebacks. Here
    each render has its own executor, whose threads and loops go with it."""

    def __init__(self) -> None:
        self.loops: list[asyncio.AbstractEventLoop] = []
        self.executor = concurrent.futures.ThreadPoolExecutor(
            thread_name_prefix="pulumi-mock", initializer=self._thread_loop
        )

    def _thread_loop(self) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self.loops.append(loop)

    def close(self) -> None:
        self.executor.shutdown(wait=True, cancel_futures=True)
        for loop in self.loops:
            loop.close()


def _render(
    stack_dir: Path, project: str, stack: str, config: dict[str, str], region: str
) -> RenderedStack:
    threads = _MockThreads()
    _ensure_event_loop().set_default_executor(threads.executor)  # type: ignore[no-untyped-call]
    try:
        return _render_with(stack_dir, project, stack, config, region)
    finally:
        threads.close()


def _render_with(
    stack_dir: Path, project: str, stack: str, config: dict[str, str], region: str
) -> RenderedStack:
    mocks = FakeAws(region=region)
    monitor = _RecordingMonitor(mocks)
    pulumi.runtime.set_mocks(mocks, project=project, stack=stack, preview=False, monitor=monitor)
    # What the Pulumi CLI tells a program: where its Pulumi.yaml is.
    pulumi.runtime.settings.SETTINGS.root_directory = str(stack_dir)
    pulumi.runtime.set_all_config(config)
    program = stack_dir / "__main__.py"

    def run_program() -> None:
        runpy.run_path(str(program), run_name="__main__")

    try:
        _sync_await(run_pulumi_func(run_program))
    except Exception as error:
        raise RenderError(error, tuple(monitor.records)) from error
    root = pulumi.runtime.get_root_resource()
    raw_outputs = getattr(root, "outputs", {}) if root is not None else {}
    outputs = _sync_await(pulumi.Output.from_input(raw_outputs).future()) or {}
    return RenderedStack(
        project=project,
        stack=stack,
        resources=tuple(monitor.records),
        outputs=dict(outputs),
        invokes=tuple(mocks.invokes),
    )
