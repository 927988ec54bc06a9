"""The organisation prefix: one setting that makes every globally unique name yours.

S3 bucket names are global across all AWS accounts, so the state buckets and each environment's
ingest and archive buckets start with the prefix in ``organisation.yaml`` at the repository's
root. Pulumi reads a project's backend URL before any program runs, so the three
``stacks/<env>/Pulumi.yaml`` files must spell their state bucket literally: the command
(:mod:`platform_core.organisation.cli`) writes the prefix and those URLs together, and
``--check`` (run by the tests) fails when they disagree.

    python -m platform_core.organisation          # print the prefix; exit 1 when a URL disagrees
    python -m platform_core.organisation acme     # set the prefix to `acme` everywhere
    python -m platform_core.organisation --check  # exit 1 when a backend URL disagrees
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Final
from urllib.parse import parse_qs, urlsplit

from platform_core.environments import STACKS_DIR, discover_environments
from platform_core.errors import ConfigError
from platform_core.naming import S3_RESERVED_PREFIXES
from platform_core.stack_files import read_project, read_yaml

__all__ = [
    "ORGANISATION_FILE",
    "STATE_REGION",
    "Organisation",
    "backend_problems",
    "find_organisation",
    "parse_prefix",
    "read_organisation",
]

ORGANISATION_FILE: Final = "organisation.yaml"
#: Where the state buckets live (Pulumi's S3 backend needs the region in the URL).
STATE_REGION: Final = "us-east-1"
_PREFIX = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,22}[a-z0-9])?")


@dataclass(frozen=True)
class Organisation:
    """The organisation's prefix and every global name derived from it."""

    prefix: str

    def state_bucket(self, environment: str) -> str:
        """The S3 bucket holding ``environment``'s Pulumi state (created by the bootstrap)."""
        return f"{self.prefix}-pulumi-state-{environment}"

    def backend_url(self, environment: str, region: str = STATE_REGION) -> str:
        """``backend.url`` of ``stacks/<environment>/Pulumi.yaml``."""
        return f"s3://{self.state_bucket(environment)}?region={region}&awssdk=v2"

    def global_name(self, name: str) -> str:
        """A name that must be unique across every AWS account (an S3 bucket)."""
        return f"{self.prefix}-{name}"


def parse_prefix(raw: object, source: str) -> Organisation:
    """Validate a prefix: it starts S3 bucket names, so lowercase letters, digits and '-'."""
    text = str(raw if raw is not None else "").strip()
    if not _PREFIX.fullmatch(text):
        raise ConfigError(
            source,
            [
                f"prefix = {text!r}: must be 1-24 lowercase letters, digits or '-', starting and "
                "ending with a letter or digit (it starts every S3 bucket name)"
            ],
        )
    # Bucket names are `<prefix>-…`: S3 refuses some beginnings. (The reserved endings cannot
    # occur: every name goes on after the prefix.)
    reserved = [start for start in S3_RESERVED_PREFIXES if f"{text}-".startswith(start)]
    if reserved:
        raise ConfigError(
            source,
            [
                f"prefix = {text!r}: S3 bucket names must not start with {reserved[0]!r} (S3 "
                f"reserves {', '.join(S3_RESERVED_PREFIXES)}); choose another prefix"
            ],
        )
    return Organisation(text)


def read_organisation(path: Path) -> Organisation:
    """``organisation.yaml``: ``prefix: <your organisation>``."""
    document = read_yaml(path)
    unknown = sorted(set(document) - {"prefix"})
    if unknown:
        raise ConfigError(path.name, [f"unknown key(s) {', '.join(unknown)}; allowed: prefix"])
    return parse_prefix(document.get("prefix"), path.name)


def find_organisation(start: Path) -> Organisation:
    """The ``organisation.yaml`` in ``start`` or the nearest directory above it."""
    for directory in (start.resolve(), *start.resolve().parents):
        if (directory / ORGANISATION_FILE).is_file():
            return read_organisation(directory / ORGANISATION_FILE)
    raise ConfigError(
        ORGANISATION_FILE,
        [
            f"no {ORGANISATION_FILE} in {start} or any directory above it; create it at the "
            "repository's root with `python -m platform_core.organisation <prefix>`"
        ],
    )


def backend_problems(organisation: Organisation, stacks_dir: Path = STACKS_DIR) -> list[str]:
    """Every stack whose ``backend.url`` is not its state bucket under ``organisation``."""
    problems = []
    for environment in discover_environments(stacks_dir):
        url = str((read_project(stacks_dir / environment).get("backend") or {}).get("url", ""))
        parts = urlsplit(url)
        region = (parse_qs(parts.query).get("region") or [""])[0]
        expected = organisation.backend_url(environment, region or STATE_REGION)
        if url != expected:
            problems.append(
                f"stacks/{environment}/Pulumi.yaml: backend.url is {url!r}, expected "
                f"{expected!r} (the state bucket of prefix {organisation.prefix!r})"
            )
    return problems
