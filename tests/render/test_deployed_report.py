"""The environment report reads `pulumi stack export` files: deployed environments compare with
each other as their programs do, and each deployment with its program.

The exports are built from the rendered stacks as Pulumi writes them (tests/render/deployments.py:
IDs AWS assigned, one account per environment, the provider's `__defaults`, secrets as
ciphertext), and checked against the format first.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from platform_core.consistency import comparable, compare, inventory, unexplained
from platform_core.deployment import ExportError, load_export, read_export
from platform_core.environment_report import deployed_report, drift, main
from platform_core.offline import RenderedStack, render_stack
from tests.render.deployments import FORMAT, copied, export_of, resource_of, secret
from tests.repository import ENVIRONMENTS, STACKS_DIR

ACCOUNTS = {env: f"{index}" * 12 for index, env in enumerate(ENVIRONMENTS, start=1)}
FUNCTION = "aws:lambda/function:Function"


@pytest.fixture(scope="module")
def exports(rendered_stacks: Mapping[str, RenderedStack]) -> dict[str, dict[str, Any]]:
    return {env: export_of(rendered_stacks[env], ACCOUNTS[env], env) for env in ENVIRONMENTS}


@pytest.fixture
def files(tmp_path: Path, exports: Mapping[str, dict[str, Any]]) -> dict[str, Path]:
    paths = {}
    for env, export in exports.items():
        paths[env] = tmp_path / f"{env}.json"
        paths[env].write_text(json.dumps(export, indent=2))
    return paths


def deployed_args(files: Mapping[str, Path]) -> list[str]:
    return [arg for env, path in files.items() for arg in ("--deployed", f"{env}={path}")]


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_the_exports_have_pulumis_format(exports, environment):
    validator = jsonschema.Draft7Validator(FORMAT, format_checker=jsonschema.FormatChecker())
    assert [error.message for error in validator.iter_errors(exports[environment])] == []
    # What makes them a deployment and not a rendering: AWS's IDs, the environment's account.
    text = json.dumps(exports[environment])
    assert '"vpc-0' in text and ACCOUNTS[environment] in text and "123456789012" not in text


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_an_export_reads_as_its_rendered_stack(rendered_stacks, exports, environment):
    deployment = load_export(exports[environment], f"{environment}.json")
    rendered = rendered_stacks[environment]
    assert deployment.stack.stack == environment
    assert deployment.stack.project == f"trading-analytics-{environment}"
    assert [r.urn for r in deployment.stack.resources] == [r.urn for r in rendered.resources]
    assert deployment.engine_version == "v3.272.0" and deployment.pending_operations == 0
    function = deployment.stack.one(FUNCTION)
    assert function.inputs["memorySize"] == rendered.one(FUNCTION).inputs["memorySize"]
    assert (
        deployment.stack.outputs["lambda_function_name"] == rendered.outputs["lambda_function_name"]
    )


def test_deployed_environments_differ_exactly_as_their_programs(rendered_stacks, exports):
    programs = compare({env: inventory(rendered_stacks[env], env) for env in ENVIRONMENTS})
    deployments = {env: load_export(exports[env], env).stack for env in ENVIRONMENTS}
    deployed = compare({env: inventory(comparable(deployments[env]), env) for env in ENVIRONMENTS})
    # Different accounts and AWS-assigned IDs everywhere, yet only the dials differ.
    assert {(d.path, d.key, d.dial) for d in deployed} == {
        (d.path, d.key, d.dial) for d in programs
    }
    assert unexplained(deployed) == []


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_a_deployment_of_the_working_tree_has_no_drift(exports, environment):
    assert drift(environment, load_export(exports[environment], environment)) == []


def test_a_pull_requests_copy_is_compared_with_the_program_as_that_copy():
    """`dev-pr-7` has no stack file of its own: the program renders with dev's and the suffix."""
    copy = render_stack(
        STACKS_DIR / "dev", stack="dev-pr-7", config_stack="dev",
        overrides={"platform:environmentSuffix": "pr-7"},
    )  # fmt: skip
    deployment = load_export(export_of(copy, ACCOUNTS["dev"], "dev-pr-7"), "dev-pr-7.json")
    assert deployment.stack.stack == "dev-pr-7"
    assert drift("dev", deployment) == []


def test_drift_names_each_changed_missing_and_unknown_resource(exports):
    export = copied(exports["dev"])
    function = resource_of(export, FUNCTION, "-processor-function")
    function["inputs"]["memorySize"] = 1024  # changed in the console, then refreshed
    # Filled in by the provider and listed as such: not a difference.
    function["inputs"]["packageType"] = "Zip"
    function["inputs"]["__defaults"] = ["packageType"]
    resources = export["deployment"]["resources"]
    log_group = resource_of(export, "aws:cloudwatch/logGroup:LogGroup", "-logs-log-group")
    resources.remove(log_group)
    stray = dict(log_group, urn=log_group["urn"].replace("logs-log-group", "logs-old-log-group"))
    resources.append(stray)
    differences = drift("dev", load_export(export, "dev.json"))
    found = {(d.path.split(" ", 1)[1], d.key): dict(d.values) for d in differences}
    assert found == {
        ("trading-analytics/processor/function", "memorySize"): {
            "program": "512.0",
            "deployed": "1024.0",
        },
        ("trading-analytics/logs/log-group", ""): {"program": "yes", "deployed": "no"},
        ("trading-analytics/logs/old-log-group", ""): {"program": "no", "deployed": "yes"},
    }


def test_a_secret_is_never_shown_nor_compared(exports):
    export = copied(exports["dev"])
    function = resource_of(export, FUNCTION, "-processor-function")
    plaintext = function["inputs"]["environment"]
    function["inputs"]["environment"] = secret(plaintext)
    deployment = load_export(export, "dev.json")
    assert drift("dev", deployment) == []
    staging = load_export(exports["staging"], "staging.json")
    report = deployed_report({"dev": deployment, "staging": staging})
    assert "[secret]" in report
    assert function["inputs"]["environment"]["ciphertext"] not in report


def test_the_command_compares_deployments_and_their_programs(files, capsys):
    assert main([*deployed_args(files), "--program"]) == 0
    report = capsys.readouterr().out
    assert report.startswith("# Deployed environments\n")
    assert "- Unexplained differences: 0." in report
    assert (
        "| `trading-analytics/processor/function` | `memorySize` | `512` | `1024` | `2048` | `lambdaMemoryMb` |"
        in report
    )
    for env in ENVIRONMENTS:
        assert f"## {env}: deployed against its program" in report
        assert f"against `{files[env]}`: 0 differences." in report


def test_drift_or_an_unexplained_difference_fails_the_command(files, tmp_path, capsys):
    export = json.loads(files["staging"].read_text())
    table = resource_of(export, "aws:dynamodb/table:Table", "-analytics-table")
    table["inputs"]["ttl"]["enabled"] = False
    changed = tmp_path / "staging-changed.json"
    changed.write_text(json.dumps(export))
    argv = deployed_args({**files, "staging": changed})
    assert main(argv) == 1
    report = capsys.readouterr().out
    assert "- Unexplained differences: 1." in report
    assert (
        "| `trading-analytics/analytics/table` | `ttl.enabled` | `true` | `false` | `true` | **unexplained** |"
        in report
    )
    assert main(["--deployed", f"staging={changed}", "--program"]) == 1
    assert (
        "| `trading-analytics/analytics/table` | `ttl.enabled` | `true` | `false` |"
        in capsys.readouterr().out
    )


def test_a_state_file_of_the_s3_backend_reads_too(exports, tmp_path):
    # .pulumi/stacks/<project>/<stack>.json(.gz): the deployment under checkpoint.latest.
    checkpoint = {
        "version": 3,
        "checkpoint": {"stack": "dev", "latest": exports["dev"]["deployment"]},
    }
    path = tmp_path / "dev.json.gz"
    path.write_bytes(gzip.compress(json.dumps(checkpoint).encode()))
    assert read_export(path).stack.stack == "dev"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{", "dev.json: not JSON"),
        ("[]", "dev.json: not a `pulumi stack export` file: expected a JSON object"),
        ('{"version": 3}', 'dev.json: not a `pulumi stack export` file: no "deployment"'),
        ('{"version": 2, "deployment": {}}', "dev.json: deployment version 2 is not supported"),
        ('{"version": 3, "deployment": {"resources": []}}', 'no "manifest"'),
        (
            '{"version": 3, "deployment": {"manifest": {}, "resources": [{"urn": "x", "type": "t"}]}}',
            "bad URN 'x'",
        ),
        (
            '{"version": 3, "deployment": {"manifest": {}, "resources": []}}',
            "expected one pulumi:pulumi:Stack resource, found 0",
        ),
    ],
)
def test_a_file_that_is_not_an_export_is_named(tmp_path, content, message):
    path = tmp_path / "dev.json"
    path.write_text(content)
    with pytest.raises(ExportError, match="^" + str(tmp_path).replace("/", "/") + "/") as raised:
        read_export(path)
    assert message in str(raised.value)


def test_the_command_refuses_a_mismatched_or_unreadable_file(files, tmp_path, capsys):
    assert main(["--deployed", f"dev={files['staging']}", "--program"]) == 2
    assert (
        "holds stack 'staging' of project 'trading-analytics-staging', not environment 'dev'"
        in (capsys.readouterr().err)
    )
    assert main(["--deployed", f"dev={tmp_path / 'missing.json'}", "--program"]) == 2
    assert "missing.json: cannot be read" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["--deployed", f"dev={files['dev']}"])
    assert "give two or more --deployed to compare them, or --program" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["--deployed", "qa=qa.json", "--program"])
    assert "--deployed qa=…: no such environment" in capsys.readouterr().err
