"""The optional database's settings: one `database` dial and its sizing dials, their defaults per
environment, their errors, and the IAM statements built for it (pure: no engine involved).

Expected values are written out by hand from the issue's table, never read from the code.
"""

from __future__ import annotations

import pytest

from platform_core.config import ALARM_THRESHOLDS, AlarmProfile, DatabaseEngine, DatabaseSettings
from platform_core.errors import ConfigError
from platform_core.iam import ProcessorAccess, processor_policy, workload_boundary_policy
from platform_core.loading import build_config
from platform_core.organisation import Organisation
from tests.render.iam.model import Decision, Request, decide

ORG = Organisation("acme")
TAGS = {"team": "trading-platform", "costCenter": "cc-1"}
ON = {"database": "aurora-postgresql"}
ACCOUNT = "123456789012"
SECRET_TAG = "secretsmanager:ResourceTag/aws:rds:primaryDBClusterArn"


def config(environment: str, **settings: object):
    return build_config(environment, {**TAGS, **settings}, ORG)


# (attribute, dev, staging, production): instances 1/1/2, backups 1/7/30 days, the Graviton
# successors of db.t3.medium / db.r5.large / db.r5.xlarge, deletion protection in production.
SIZING = [
    ("database_instance_count", 1, 1, 2),
    ("database_backup_retention_days", 1, 7, 30),
    ("database_instance_class", "db.t4g.medium", "db.r6g.large", "db.r6g.xlarge"),
    ("database_deletion_protection", False, False, True),
    ("database_final_snapshot", False, False, True),
    ("database_engine_version", "17.6", "17.6", "17.6"),
]


@pytest.mark.parametrize(("attribute", "dev", "staging", "production"), SIZING)
def test_database_dials_default_per_environment(attribute, dev, staging, production):
    actual = [getattr(config(env), attribute) for env in ("dev", "staging", "production")]
    assert actual == [dev, staging, production]


@pytest.mark.parametrize("environment", ["dev", "staging", "production"])
def test_there_is_no_database_unless_asked_for(environment):
    assert config(environment).database is DatabaseEngine.NONE
    assert config(environment).database_settings is None


def test_enabled_the_settings_gather_the_dials():
    assert config("production", **ON).database_settings == DatabaseSettings(
        engine=DatabaseEngine.AURORA_POSTGRESQL,
        engine_version="17.6",
        instance_class="db.r6g.xlarge",
        instance_count=2,
        backup_retention_days=30,
        deletion_protection=True,
        final_snapshot=True,
    )
    overridden = config(
        "dev",
        **ON,
        databaseInstanceClass="db.r5.large",
        databaseInstanceCount="3",
        databaseBackupRetentionDays=35,
        databaseEngineVersion="16.10",
        databaseDeletionProtection="true",
    ).database_settings
    assert overridden == DatabaseSettings(
        DatabaseEngine.AURORA_POSTGRESQL, "16.10", "db.r5.large", 3, 35, True, False
    )


def test_cpu_alarm_thresholds_are_90_relaxed_and_80_strict():
    assert ALARM_THRESHOLDS[AlarmProfile.RELAXED].database_cpu_percent == 90
    assert ALARM_THRESHOLDS[AlarmProfile.STRICT].database_cpu_percent == 80
    assert config("dev").alarm_thresholds is None  # dev: no alarms, so no CPU alarm either


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("database", "mysql", "must be one of 'none', 'aurora-postgresql'"),
        ("databaseInstanceClass", "db.serverless", "provisioned RDS DB instance class"),
        ("databaseInstanceClass", "r6g.large", "such as 'db.r6g.large'"),
        ("databaseInstanceClass", "DB.R6G.LARGE", "lowercase"),
        ("databaseInstanceCount", "0", "from 1 to 16 (instances)"),
        ("databaseInstanceCount", "17", "from 1 to 16 (instances)"),
        ("databaseBackupRetentionDays", "0", "from 1 to 35 (days)"),
        ("databaseBackupRetentionDays", "36", "from 1 to 35 (days)"),
        ("databaseEngineVersion", "17", "major.minor, e.g. '17.6'"),
        ("databaseEngineVersion", 17.10, "quoted text such as '17.6'"),
        ("databaseDeletionProtection", "yes", "must be true or false"),
        ("databaseFinalSnapshot", "no", "must be true or false"),
    ],
)
def test_bad_database_values_are_named_with_what_is_allowed(key, value, message):
    with pytest.raises(ConfigError) as raised:
        config("dev", **{**ON, key: value})
    assert f"platform:{key} = {value!r}: " in str(raised.value)
    assert message in str(raised.value)


def test_the_database_identifiers_follow_the_naming_scheme():
    names = config("staging", environmentSuffix="pr-7").names
    assert names.database == "staging-trading-database-us-east-1-pr-7"
    assert names.database_instance(2) == "staging-trading-database-us-east-1-pr-7-2"


def test_a_suffix_too_long_for_the_database_fails_only_where_there_is_one():
    # RDS identifiers stop at 63 characters: "production-trading-database-us-east-1-" is 38, the
    # instance number adds 2, so a 24-character suffix makes the second instance 64 long (the
    # buckets of organisation "a", "a-production-trading-archive-us-east-1-…", stay at 63).
    def production(**settings: object):
        return build_config("production", {**TAGS, **settings}, Organisation("a"))

    suffix = "s" * 24
    assert production(environmentSuffix=suffix).database is DatabaseEngine.NONE
    with pytest.raises(ConfigError) as raised:
        production(environmentSuffix=suffix, **ON)
    [problem] = raised.value.problems
    assert problem == (
        f"platform:environmentSuffix = '{suffix}': RDS DB identifier name "
        f"'production-trading-database-us-east-1-{suffix}-2' is 64 characters long; AWS allows "
        "at most 63"
    )
    assert production(environmentSuffix=suffix[1:], **ON).database_settings is not None


def _access(**database: str | None) -> ProcessorAccess:
    arn = f"arn:aws:{{}}:us-east-1:{ACCOUNT}:{{}}"
    return ProcessorAccess(
        log_group_arn=arn.format("logs", "log-group:g"),
        table_arn=arn.format("dynamodb", "table/t"),
        ingest_bucket_arn="arn:aws:s3:::i",
        archive_bucket_arn="arn:aws:s3:::a",
        failure_queue_arn=arn.format("sqs", "q"),
        region="us-east-1",
        account_id=ACCOUNT,
        tracing=False,
        **database,
    )


def test_the_function_may_read_exactly_its_databases_secret():
    secret = f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:rds!cluster-abc-Xy12Zw"
    with_database = processor_policy(_access(database_secret_arn=secret))
    [statement] = [s for s in with_database["Statement"] if s["Sid"] == "ReadDatabaseSecret"]
    assert statement == {
        "Sid": "ReadDatabaseSecret",
        "Effect": "Allow",
        "Action": ["secretsmanager:GetSecretValue"],
        "Resource": [secret],
    }
    other = secret.replace("abc", "abd")
    assert decide(with_database, Request("secretsmanager:GetSecretValue", secret)) is (
        Decision.ALLOWED
    )
    assert decide(with_database, Request("secretsmanager:GetSecretValue", other)) is (
        Decision.IMPLICITLY_DENIED
    )
    without = processor_policy(_access())
    assert not any("secretsmanager" in str(s["Action"]) for s in without["Statement"])
    assert with_database["Statement"][:-1] == without["Statement"]


@pytest.mark.parametrize(
    ("cluster", "decision"),
    [
        ("dev-trading-database-us-east-1", Decision.ALLOWED),
        ("dev-trading-database-us-east-1-pr-42", Decision.ALLOWED),
        ("production-trading-database-us-east-1", Decision.IMPLICITLY_DENIED),
        ("someone-elses-cluster", Decision.IMPLICITLY_DENIED),
        (None, Decision.IMPLICITLY_DENIED),  # a secret RDS does not manage has no such tag
    ],
)
def test_the_boundary_admits_the_secrets_rds_manages_for_its_own_clusters(cluster, decision):
    boundary = workload_boundary_policy("dev", "us-east-1", ACCOUNT, ORG)
    secret = f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:rds!cluster-0f3c9a7e-Ab12Cd"
    context = {} if cluster is None else {
        SECRET_TAG: f"arn:aws:rds:us-east-1:{ACCOUNT}:cluster:{cluster}"
    }  # fmt: skip
    assert decide(boundary, Request("secretsmanager:GetSecretValue", secret, context)) is decision
    # Only reading, and only secrets RDS manages (`rds!…`).
    for action, resource in [
        ("secretsmanager:PutSecretValue", secret),
        ("secretsmanager:GetSecretValue", secret.replace("rds!cluster", "app/password")),
    ]:
        assert decide(boundary, Request(action, resource, context)) is Decision.IMPLICITLY_DENIED
