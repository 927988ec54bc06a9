"""`python -m platform_core.schema check`: the program's message for a stack file, then what only
the schema knows; exit 1 when a file is invalid."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from platform_core.schema import check_file, main
from tests.repository import ENVIRONMENTS, REPO_ROOT

GOOD = """\
config:
  pulumi:disable-default-providers: ["aws"]
  aws:region: us-east-1
  platform:team: trading-platform
  platform:costCenter: cc-1042-dev
"""


@pytest.fixture
def repository(tmp_path: Path) -> Path:
    """An organisation file and an empty `stacks/dev/` to put a stack file in."""
    shutil.copy(REPO_ROOT / "organisation.yaml", tmp_path)
    (tmp_path / "stacks" / "dev").mkdir(parents=True)
    return tmp_path


def write(repository: Path, text: str, name: str = "Pulumi.dev.yaml") -> Path:
    path = repository / "stacks" / "dev" / name
    path.write_text(text)
    return path


def test_every_real_stack_file_is_valid(capsys):
    assert main(["check"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == [f"stacks/{env}/Pulumi.{env}.yaml: valid" for env in sorted(ENVIRONMENTS)]


def test_a_bad_file_gets_the_programs_message_then_the_schemas(repository, capsys):
    path = write(
        repository,
        GOOD
        + "  platform:lambdaMemoryMb: 99999\n"
        + "  platform:xrayTracing: yes\n"
        + "  alarmProfile: strict\n"
        + "  random:length: 8\n",
    )
    assert main(["check", str(path)]) == 1
    assert capsys.readouterr().out == (
        f"{path}: invalid configuration for environment 'dev':\n"
        "  - platform:lambdaMemoryMb = '99999': must be an integer from 128 to 10240 (MB)\n"
        "  - platform:xrayTracing = 'yes': must be true or false\n"
        "  - alarmProfile = 'strict': nothing reads it: use platform: settings, or aws: and "
        "pulumi: keys (a key with no namespace is the project's); did you mean "
        "'platform:alarmProfile'? (schema)\n"
        "  - random:length = '8': nothing reads it: use platform: settings, or aws: and pulumi: "
        "keys (a key with no namespace is the project's) (schema)\n"
    )


def test_a_key_both_refuse_is_reported_once_in_the_programs_words(repository):
    path = write(repository, GOOD + "  platform:lambdaMemory: 512\n  platform:egressMode: nat\n")
    result = check_file(path)
    assert result.program == (
        "platform:egressMode = 'nat': must be one of 'none', 'nat-gateway', 'nat-instance'",
        "platform:lambdaMemory = '512': unknown key, did you mean 'platform:lambdaMemoryMb'?",
    )
    assert result.schema_only == ()


def test_rules_across_settings_are_the_programs_alone(repository):
    # Each value is valid on its own; together they are not.
    path = write(
        repository,
        GOOD + "  platform:dynamodbBillingMode: PROVISIONED\n"
        "  platform:dynamodbMinCapacity: 50\n  platform:dynamodbMaxCapacity: 10\n",
    )
    result = check_file(path)
    assert result.schema_only == ()
    assert result.program == (
        "platform:dynamodbMinCapacity = 50 is above platform:dynamodbMaxCapacity = 10: the "
        "minimum must not exceed the maximum",
    )


def test_what_only_the_schema_knows(repository):
    path = write(
        repository,
        "confg:\n  platform:team: t\n"
        + GOOD.replace('  pulumi:disable-default-providers: ["aws"]\n', ""),
    )
    result = check_file(path)
    assert result.program == ()
    assert result.schema_only == (
        "confg: not a stack-file key: Pulumi reads config, secretsprovider, encryptedkey, "
        "encryptionsalt, environment, and silently ignores anything else",
        'pulumi:disable-default-providers is missing: it must be ["aws"] (a list naming aws, or '
        "*): every resource and lookup uses the environment's explicit AWS provider, and none may "
        "fall back to a default one",
    )
    assert not result.ok


def test_odd_yaml_is_reported_not_a_traceback(repository):
    result = check_file(
        write(repository, GOOD + "  1: one\n  platform:lambdaTimeoutSeconds: .inf\n")
    )
    assert result.program == (
        "platform:lambdaTimeoutSeconds = inf: Pulumi cannot pass an infinite or NaN config value",
    )
    assert result.schema_only[0].startswith("1 = 'one': nothing reads it")


def test_a_file_without_config_says_where_the_settings_go(repository):
    result = check_file(write(repository, "secretsprovider: passphrase\n"))
    assert result.schema_only == (
        "config is missing: a stack file holds its settings under `config:`",
    )
    assert result.program[0].startswith("platform:team is required")


def test_an_environment_of_another_name_needs_its_defaults(repository):
    (repository / "stacks" / "qa").mkdir()
    path = repository / "stacks" / "qa" / "Pulumi.qa.yaml"
    path.write_text(GOOD)
    assert check_file(path).program == (
        "environment 'qa' has no defaults of its own: set platform:defaults in Pulumi.qa.yaml "
        "to the environment it resembles, one of 'dev', 'staging', 'production'",
    )
    path.write_text(GOOD + "  platform:defaults: staging\n")
    assert check_file(path).ok


def test_a_copy_of_an_environment_is_checked_as_that_environment(repository):
    path = write(
        repository, GOOD + "  platform:environmentSuffix: pr-42\n", "Pulumi.dev-pr-42.yaml"
    )
    result = check_file(path)
    assert result.environment == "dev" and result.ok


def test_a_file_that_is_not_yaml_is_named(repository, capsys):
    path = write(repository, "config: [unclosed\n")
    assert main(["check", str(path)]) == 1
    out = capsys.readouterr().out
    # The file is named once, then the line and column of the problem.
    assert out.startswith(f"{path}: cannot be read: line 2, column 1: not valid YAML: ")
    assert "expected ',' or ']'" in out and "<unicode string>" not in out


def test_a_key_defined_twice_is_refused_as_the_cli_refuses_it(repository, capsys):
    path = write(
        repository, GOOD + "  platform:lambdaMemoryMb: 768\n  platform:lambdaMemoryMb: 1024\n"
    )
    assert main(["check", str(path)]) == 1
    assert capsys.readouterr().out == (
        f'{path}: cannot be read: line 7: mapping key "platform:lambdaMemoryMb" already '
        "defined at line 6\n"
    )


def test_a_missing_file_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as raised:
        main(["check", "stacks/nowhere/Pulumi.nowhere.yaml"])
    assert raised.value.code == 2
    assert "no such file: stacks/nowhere/Pulumi.nowhere.yaml" in capsys.readouterr().err


def test_a_directory_is_named_as_one(capsys):
    with pytest.raises(SystemExit) as raised:
        main(["check", "stacks/staging"])
    assert raised.value.code == 2
    err = capsys.readouterr().err
    assert "stacks/staging is a directory: give its stack file, e.g. " in err
    assert "stacks/staging/Pulumi.staging.yaml" in err and "no such file" not in err


def test_a_stack_file_of_another_project_is_not_checked_as_an_environment(capsys):
    with pytest.raises(SystemExit) as raised:
        main(["check", str(REPO_ROOT / "bootstrap" / "Pulumi.dev.yaml")])
    assert raised.value.code == 2
    err = capsys.readouterr().err
    assert "bootstrap/Pulumi.dev.yaml is not an environment's stack file" in err
    assert "Pulumi.bootstrap.yaml" not in err


def test_print_writes_the_committed_schema(capsys):
    assert main(["print"]) == 0
    assert (
        capsys.readouterr().out == (REPO_ROOT / "schema" / "stack-config.schema.json").read_text()
    )


def test_help_names_both_commands(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert "check" in out and "print" in out


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("  platform:logRetentionDays: 010\n",
         "platform:logRetentionDays = '8': must be one of CloudWatch's retention periods"),
        ("  platform:allowedAccountIds: [012345678901]\n",
         "platform:allowedAccountIds = '[12345678901]': must be a list of 12-digit AWS account ids"),
    ],
)  # fmt: skip
def test_a_number_with_a_leading_zero_is_explained(repository, line, problem):
    path = write(repository, GOOD + line)
    (reported,) = check_file(path).program
    assert reported.startswith(problem)
    written = line.split(": ", 1)[1].strip().strip("[]")
    assert reported.endswith(
        f"(the file says {written}: the Pulumi CLI reads an unquoted number with a leading 0 as "
        "octal, or drops the 0; write it without the 0, or quote it)"
    )
