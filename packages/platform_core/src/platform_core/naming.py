"""Physical resource names: `{env}-{service}-{region}[-{suffix}]`, checked per AWS's limits.

S3 bucket names are global across every AWS account, so they also start with the organisation
prefix (`{org}-{env}-{service}-{region}[-{suffix}]`). Names are computed and validated when the
configuration is loaded, so a suffix that makes a bucket name too long fails `pulumi preview`
with a message instead of failing half-way through `pulumi up` with an AWS API error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from platform_core.organisation import Organisation

__all__ = [
    "PULL_REQUEST_SUFFIX_PREFIX",
    "S3_BUCKET",
    "S3_RESERVED_PREFIXES",
    "S3_RESERVED_SUFFIXES",
    "NameRule",
    "ResourceNames",
    "Service",
    "compose_name",
    "name_problems",
    "pull_request_suffix",
]

#: The suffix of a pull request's copy of an environment starts with this (`pr-<number>`).
PULL_REQUEST_SUFFIX_PREFIX = "pr-"


def pull_request_suffix(number: int) -> str:
    """The `environmentSuffix` of pull request ``number``'s copy: stack `<env>-pr-<number>`."""
    if number < 1:
        raise ValueError(f"pull request number {number}: must be 1 or more")
    return f"{PULL_REQUEST_SUFFIX_PREFIX}{number}"


@dataclass(frozen=True)
class NameRule:
    """AWS's naming rule for one resource type."""

    label: str
    max_length: int
    pattern: re.Pattern[str]
    allowed: str


#: What S3 reserves at the start and the end of a bucket name (AWS's "General purpose bucket
#: naming rules"): IDNA names, its own buckets, and the aliases of access points and other
#: bucket kinds.
S3_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
S3_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
_S3_RESERVED = "(?!{})(?!.*(?:{})$)".format(
    "|".join(map(re.escape, S3_RESERVED_PREFIXES)), "|".join(map(re.escape, S3_RESERVED_SUFFIXES))
)
S3_BUCKET = NameRule(
    "S3 bucket",
    63,
    re.compile(rf"^{_S3_RESERVED}(?!.*\.\.)[a-z0-9][a-z0-9.-]{{1,61}}[a-z0-9]$"),
    "3-63 lowercase letters, digits, '.' and '-', starting and ending with a letter or digit, "
    f"not starting with {', '.join(S3_RESERVED_PREFIXES)} nor ending with "
    f"{', '.join(S3_RESERVED_SUFFIXES)} (S3 reserves them)",
)
LAMBDA_FUNCTION = NameRule(
    "Lambda function", 64, re.compile(r"^[A-Za-z0-9_-]{1,64}$"), "letters, digits, '-' and '_'"
)
IAM_ROLE = NameRule("IAM role", 64, re.compile(r"^[\w+=,.@-]{1,64}$"), "letters, digits, +=,.@_-")
DYNAMODB_TABLE = NameRule(
    "DynamoDB table", 255, re.compile(r"^[A-Za-z0-9_.-]{3,255}$"), "letters, digits, '_', '.', '-'"
)
SQS_QUEUE = NameRule(
    "SQS queue", 80, re.compile(r"^[A-Za-z0-9_-]{1,80}$"), "letters, digits, '-' and '_'"
)
SNS_TOPIC = NameRule(
    "SNS topic", 256, re.compile(r"^[A-Za-z0-9_-]{1,256}$"), "letters, digits, '-' and '_'"
)
# DB cluster and instance identifiers: RDS stores them in lowercase.
RDS_IDENTIFIER = NameRule(
    "RDS DB identifier",
    63,
    re.compile(r"^[a-z](?!.*--)[a-z0-9-]*[a-z0-9]$"),
    "lowercase letters, digits and '-', starting with a letter, no '--', not ending in '-'",
)
SECURITY_GROUP = NameRule(
    "security group", 255, re.compile(r"^[A-Za-z0-9 ._\-:/()#,@\[\]+=&;{}!$*]{1,255}$"), "ASCII"
)


class Service(Enum):
    """The `{service}` part of every physical name; one member per named resource."""

    PROCESSOR = "trading-processor"
    ANALYTICS_TABLE = "trading-analytics"
    INGEST_BUCKET = "trading-ingest"
    ARCHIVE_BUCKET = "trading-archive"
    FAILURE_QUEUE = "trading-processor-failures"
    ALARM_TOPIC = "trading-alarms"
    NETWORK = "trading-vpc"
    DATABASE = "trading-database"


def compose_name(environment: str, service: Service, region: str, suffix: str | None) -> str:
    """`{env}-{service}-{region}` with the optional `-{suffix}`."""
    parts = [environment, service.value, region]
    if suffix:
        parts.append(suffix)
    return "-".join(parts)


def name_problems(name: str, rule: NameRule) -> list[str]:
    """Why `name` breaks `rule`, as sentences (empty when it is valid)."""
    problems = []
    if len(name) > rule.max_length:
        problems.append(
            f"{rule.label} name '{name}' is {len(name)} characters long; "
            f"AWS allows at most {rule.max_length}"
        )
    elif not rule.pattern.fullmatch(name):
        problems.append(f"{rule.label} name '{name}' is not valid: allowed are {rule.allowed}")
    return problems


@dataclass(frozen=True)
class ResourceNames:
    """Every physical name of one environment, derived from environment, region and suffix."""

    function: str
    role: str
    table: str
    ingest_bucket: str
    archive_bucket: str
    failure_queue: str
    alarm_topic: str
    network: str
    log_group: str
    database: str

    @classmethod
    def derive(
        cls, environment: str, region: str, suffix: str | None, organisation: Organisation
    ) -> ResourceNames:
        def name(service: Service) -> str:
            return compose_name(environment, service, region, suffix)

        function = name(Service.PROCESSOR)
        return cls(
            function=function,
            role=function,
            table=name(Service.ANALYTICS_TABLE),
            ingest_bucket=organisation.global_name(name(Service.INGEST_BUCKET)),
            archive_bucket=organisation.global_name(name(Service.ARCHIVE_BUCKET)),
            failure_queue=name(Service.FAILURE_QUEUE),
            alarm_topic=name(Service.ALARM_TOPIC),
            network=name(Service.NETWORK),
            log_group=f"/aws/lambda/{function}",
            database=name(Service.DATABASE),
        )

    def database_instance(self, number: int) -> str:
        """The identifier of the database cluster's instance `number` (from 1)."""
        return f"{self.database}-{number}"

    def problems(self, database_instances: int = 0) -> list[str]:
        """Every name that breaks its AWS rule (the database's only when it has instances)."""
        checks = [
            (self.function, LAMBDA_FUNCTION),
            (self.role, IAM_ROLE),
            (self.table, DYNAMODB_TABLE),
            (self.ingest_bucket, S3_BUCKET),
            (self.archive_bucket, S3_BUCKET),
            (self.failure_queue, SQS_QUEUE),
            (self.alarm_topic, SNS_TOPIC),
            (self.network, SECURITY_GROUP),
        ]
        if database_instances:
            # The longest identifier is the last instance's.
            checks.append((self.database_instance(database_instances), RDS_IDENTIFIER))
        return [problem for name, rule in checks for problem in name_problems(name, rule)]
