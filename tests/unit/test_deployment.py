"""Property values of a `pulumi stack export` come back in the rendered stacks' shape."""

from __future__ import annotations

from platform_core.deployment import ARCHIVE, SECRET, load_export

SIG = "4dabf18193072939515e22adb298388d"
STACK = "urn:pulumi:dev::trading-analytics-dev::pulumi:pulumi:Stack::trading-analytics-dev-dev"
URN = "urn:pulumi:dev::trading-analytics-dev::aws:lambda/function:Function::fn"


def one_resource(inputs: dict[str, object]) -> dict[str, object]:
    return {
        "version": 3,
        "deployment": {
            "manifest": {"time": "2026-11-20T09:14:03Z", "magic": "m", "version": "v3.272.0"},
            "resources": [
                {"urn": STACK, "custom": False, "type": "pulumi:pulumi:Stack",
                 "outputs": {"name": "fn"}},
                {"urn": URN, "custom": True, "id": "fn", "type": "aws:lambda/function:Function",
                 "inputs": inputs, "parent": STACK},
            ],
        },
    }  # fmt: skip


def test_values_read_as_the_mock_engine_gives_them():
    inputs = {
        "memorySize": 512,
        "timeout": 1.5,
        "secret": {SIG: "1b47061264138c4ac30d75fd1eb44270", "ciphertext": "v1:AAAA"},
        "shown": {SIG: "1b47061264138c4ac30d75fd1eb44270", "plaintext": '"hunter2"'},
        "code": {SIG: "0def7320c3a5731c473e5ecbe6d01bc7", "hash": "ab", "path": "/tmp/a.zip"},
        "asset": {SIG: "c44067f5952c0a294b673a41bacd8c17", "hash": "cd", "text": "x"},
        "pending": "04da6b54-80e4-46f7-96ec-b56ff0331ba9",
        "__defaults": ["packageType"],
        "packageType": "Zip",
        "tracingConfig": {"__defaults": ["mode"], "mode": "PassThrough"},
        "__internal": {"x": 1},
        "tags": {"Team": "t"},
        "list": [1, True, None],
    }
    function = load_export(one_resource(inputs), "f.json").stack.resources[0]
    assert dict(function.inputs) == {
        "memorySize": 512.0,
        "timeout": 1.5,
        "secret": SECRET,
        "shown": SECRET,  # not even an export made with --show-secrets shows one
        "code": ARCHIVE,
        "asset": ARCHIVE,
        "pending": "[unknown]",
        "tracingConfig": {},
        "tags": {"Team": "t"},
        "list": [1.0, True, None],
    }
    assert function.state["id"] == "fn" and function.name == "fn"


def test_the_stack_outputs_are_the_root_resources():
    deployment = load_export(one_resource({}), "f.json")
    assert deployment.stack.outputs == {"name": "fn"}
    assert [r.type for r in deployment.stack.resources] == ["aws:lambda/function:Function"]
    assert (deployment.time, deployment.engine_version) == ("2026-11-20T09:14:03Z", "v3.272.0")
