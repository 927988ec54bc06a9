"""The organisation prefix: one setting that makes every globally unique name yours.

S3 bucket names are global across all AWS accounts, so the state buckets and each environment's
ingest and archive buckets start with the prefix in ``organisation.yaml`` at the repository's
root. Pulumi reads a project's backend URL before any program runs, so the three
``stacks/<env>/Pulumi.yaml`` files must spell their state bucket literally: this module's command
writes the prefix and those URLs together, and ``--check`` (run by the tests) fails when they
disagree.

    python -m platform_core.organisation acme     # set the prefix to `acme` everywhere
    python -m platform_core.organisation --check  # exit 1 when a backend URL disagrees
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final
from urllib.parse import parse_qs, urlsplit

import yaml

from platform_core.environments import REPO_ROOT, STACKS_DIR, discover_environments
from platform_core.errors import ConfigError
from platform_core.stack_files import read_project, read_yaml

__all__ = [
    "ORGANISATION_FILE",
    "STATE_REGION",
    "Organisation",
    "backend_problems",
    "find_organisation",
    "main",
    "read_organisation",
]

ORGANISATION_FILE: Final = "organisation.yaml"
#: Where the state buckets live (Pulumi's S3 backend needs the region in the URL).
STATE_REGION: Final = "us-east-1"
_PREFIX = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,22}[a-z0-9])?")
_BACKEND_LINE = re.compile(r"^(\s*url:\s*)s3://[^\s#]+", re.MULTILINE)


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


def _write(organisation: Organisation, root: Path) -> list[Path]:
    (root / ORGANISATION_FILE).write_text(
        "# Your organisation's prefix: every globally unique AWS name starts with it (the state\n"
        "# buckets, and each environment's ingest and archive buckets). Change it with\n"
        "# `python -m platform_core.organisation <prefix>`, which also rewrites the backend URLs\n"
        "# of stacks/*/Pulumi.yaml.\n" + yaml.safe_dump({"prefix": organisation.prefix})
    )
    changed = [root / ORGANISATION_FILE]
    stacks_dir = root / "stacks"
    for environment in discover_environments(stacks_dir):
        path = stacks_dir / environment / "Pulumi.yaml"
        text = path.read_text()
        region = (parse_qs(urlsplit(str(read_project(path.parent)["backend"]["url"])).query)
                  .get("region") or [STATE_REGION])[0]  # fmt: skip
        url = organisation.backend_url(environment, region)
        updated, count = _BACKEND_LINE.subn(rf"\g<1>{url}", text, count=1)
        if count != 1:
            raise ConfigError(f"stacks/{environment}/Pulumi.yaml", ["no `backend: url: s3://…`"])
        if updated != text:
            path.write_text(updated)
            changed.append(path)
    return changed


def main(argv: Sequence[str] | None = None, root: Path = REPO_ROOT) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m platform_core.organisation",
        description="Set the organisation prefix of every globally unique name (S3 buckets), "
        "in organisation.yaml and in the backend URL of each stacks/<env>/Pulumi.yaml.",
    )
    parser.add_argument("prefix", nargs="?", help="your prefix, e.g. acme (lowercase, digits, -)")
    parser.add_argument(
        "--check", action="store_true", help="only check that the backend URLs agree; exit 1 if not"
    )
    args = parser.parse_args(argv)
    try:
        if args.prefix is not None and not args.check:
            for path in _write(parse_prefix(args.prefix, "the command line"), root):
                print(f"wrote {path.relative_to(root)}")
        problems = backend_problems(find_organisation(root), root / "stacks")
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
