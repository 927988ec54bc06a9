"""One side of the preview as a document: everything a rendering holds survives the trip, and
no secret's value is written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from platform_core.consistency import flatten_inputs, resource_path
from platform_core.offline import render_stack
from platform_core.preview.render import SECRET_TEXT, _rendered
from platform_core.preview.snapshot import SECRET, SnapshotError, decode, encode_stack
from tests.repository import ENVIRONMENTS, REPO_ROOT

KEY = b"k" * 32

SECRET_PROGRAM = """
import pulumi
import pulumi_aws as aws

provider = aws.Provider("aws", region="us-east-1")
options = pulumi.ResourceOptions(provider=provider)
aws.ssm.Parameter("token", type="SecureString", value=pulumi.Output.secret("hunter2"), opts=options)
aws.ssm.Parameter("twin", type="SecureString", value=pulumi.Output.secret("hunter2"), opts=options)
aws.ssm.Parameter("other", type="SecureString", value=pulumi.Output.secret("swordfish"), opts=options)
aws.sqs.Queue("plain", name="plain-queue", opts=options)
"""


def test_a_rendered_stack_survives_the_document(rendered_stacks):
    environment = ENVIRONMENTS[0]
    rendered = rendered_stacks[environment]
    document = json.loads(json.dumps(encode_stack(rendered, REPO_ROOT, KEY)))
    restored = _rendered(document)
    assert [r.urn for r in restored.resources] == [r.urn for r in rendered.resources]
    assert restored.outputs == rendered.outputs
    for original, copy in zip(rendered.resources, restored.resources, strict=True):
        assert resource_path(restored, copy.urn) == resource_path(rendered, original.urn)
        flat, expected = flatten_inputs(copy.inputs), flatten_inputs(original.inputs)
        if "code" in expected:  # the function's zip, named by its path in the repository
            path = Path(original.inputs["code"].path).relative_to(REPO_ROOT)
            expected["code"] = f'"FileArchive({path.as_posix()})"'
            assert flat["code"] == expected["code"]
        assert flat == expected, copy.urn
        assert (copy.protect, copy.ignore_changes) == (original.protect, original.ignore_changes)


def test_secret_inputs_are_written_as_a_keyed_digest_never_as_their_value(tmp_path):
    (tmp_path / "Pulumi.yaml").write_text("name: secrets\nruntime: python\n")
    (tmp_path / "Pulumi.dev.yaml").write_text("config: {}\n")
    (tmp_path / "__main__.py").write_text(SECRET_PROGRAM)
    rendered = render_stack(tmp_path, stack="dev")
    document = encode_stack(rendered, tmp_path, KEY)
    text = json.dumps(document)
    assert "hunter2" not in text and "swordfish" not in text
    assert "plain-queue" in text
    by_name = {item["name"]: item["inputs"] for item in document["resources"]}
    token, twin = by_name["token"]["value"], by_name["twin"]["value"]
    assert set(token) == {SECRET} and token == twin  # the same value: the same digest
    assert by_name["other"]["value"] != token
    other_key = encode_stack(rendered, tmp_path, b"o" * 32)
    assert {item["name"]: item["inputs"] for item in other_key["resources"]}["token"] != by_name[
        "token"
    ]
    restored = {r.name: r.inputs for r in _rendered(document).resources}
    assert restored["token"]["value"] == f"{SECRET_TEXT}{token[SECRET]}"


def test_a_document_of_another_format_or_reporting_a_failure_is_refused():
    with pytest.raises(SnapshotError, match="snapshot format 2, expected 1"):
        decode({"format": 2})
    with pytest.raises(SnapshotError, match="no platform_core"):
        decode({"format": 1, "error": "it has no platform_core"})
    assert decode({"format": 1, "stacks": {}, "errors": {"qa": "bad"}}).errors == {"qa": "bad"}
