"""A bad stack file: the editor (the schema), the check command and the real program, run as
`pulumi preview` runs it, name the same keys with the same sentence."""

from __future__ import annotations

import shutil
from pathlib import Path

import jsonschema
import pytest
import yaml

from platform_core.config import DIALS
from platform_core.offline import RenderError, render_stack
from platform_core.schema import check_file, stack_config_schema
from platform_core.stack_files import read_yaml
from tests.repository import REPO_ROOT, STACKS_DIR

# One refused value per setting, as a stack file would hold it. A new setting needs one here.
BAD = {
    "aws:region": "US-EAST-1",
    "platform:project": "a;b",
    "platform:team": "",
    "platform:costCenter": "x" * 257,
    "platform:environmentSuffix": "PR_1",
    "platform:allowedAccountIds": ["12345"],
    "platform:lambdaMemoryMb": 100,
    "platform:lambdaTimeoutSeconds": "901",
    "platform:reservedConcurrency": 0,
    "platform:xrayTracing": "yes",
    "platform:logRetentionDays": 8,
    "platform:dynamodbBillingMode": "ON_DEMAND",
    "platform:dynamodbMinCapacity": 0,
    "platform:dynamodbMaxCapacity": 40001,
    "platform:dynamodbTargetUtilization": 95.5,
    "platform:dynamodbOnDemandMaxUnits": -1,
    "platform:pointInTimeRecovery": "on",
    "platform:s3Versioning": 1,
    "platform:archiveGlacierAfterDays": "0",
    "platform:bucketsForceDestroy": "nope",
    "platform:alarmProfile": "loud",
    "platform:vpcCidr": "10.0.0.0/8",
    "platform:availabilityZoneCount": 7,
    "platform:egressMode": "nat",
    "platform:asyncMaxRetryAttempts": 3,
    "platform:asyncMaxEventAgeSeconds": 59,
    "platform:database": "mysql",
    "platform:databaseEngineVersion": "17",
    "platform:databaseInstanceCount": 17,
    "platform:databaseInstanceClass": "r6g.large",
    "platform:databaseBackupRetentionDays": 36,
    "platform:databaseDeletionProtection": "off",
    "platform:databaseFinalSnapshot": "maybe",
}


def test_every_setting_has_a_bad_value_here():
    assert set(BAD) == {dial.config_key for dial in DIALS.values()}


@pytest.fixture(scope="module")
def bad_dev(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of stacks/dev whose stack file sets every setting to a refused value."""
    root = tmp_path_factory.mktemp("repository")
    shutil.copy(REPO_ROOT / "organisation.yaml", root)
    stack_dir = root / "stacks" / "dev"
    shutil.copytree(STACKS_DIR / "dev", stack_dir, ignore=shutil.ignore_patterns("__pycache__"))
    path = stack_dir / "Pulumi.dev.yaml"
    document = read_yaml(path)
    document["config"].update(BAD)
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def test_the_check_prints_what_the_program_raises(bad_dev):
    with pytest.raises(RenderError) as raised:
        render_stack(bad_dev.parent)
    assert raised.value.registered == ()  # stopped before registering anything
    result = check_file(bad_dev)
    assert result.report() == f"{bad_dev}: {raised.value}"
    assert result.schema_only == ()


def test_the_schema_refuses_each_key_with_the_programs_sentence(bad_dev):
    with pytest.raises(RenderError) as raised:
        render_stack(bad_dev.parent)
    program_lines = str(raised.value).splitlines()[1:]
    validator = jsonschema.Draft7Validator(stack_config_schema())
    errors = {
        error.path[1]: error
        for error in validator.iter_errors(read_yaml(bad_dev))
        if len(error.path) > 1
    }
    assert set(errors) == set(BAD)
    for key, error in errors.items():
        line = next(line for line in program_lines if line.startswith(f"  - {key} = "))
        assert line.endswith(f": {error.schema['errorMessage']}"), (key, line)
