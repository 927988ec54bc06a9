"""``python -m platform_core.organisation``: set the organisation prefix, or check it.

Run with no argument (or ``--check``) it prints the prefix and whether every backend URL agrees
with it; with a prefix it writes ``organisation.yaml`` and the backend URL of each
``stacks/<env>/Pulumi.yaml``.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import yaml

from platform_core.environments import REPO_ROOT, discover_environments
from platform_core.errors import ConfigError, StackFileError
from platform_core.organisation import (
    ORGANISATION_FILE,
    STATE_REGION,
    Organisation,
    backend_problems,
    find_organisation,
    parse_prefix,
)
from platform_core.stack_files import read_project

__all__ = ["main"]

_BACKEND_LINE = re.compile(r"^(\s*url:\s*)s3://[^\s#]+", re.MULTILINE)


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
        if args.prefix is not None and args.check:
            parser.error("give a prefix to set it, or --check to check the current one, not both")
        if args.prefix is not None:
            for path in _write(parse_prefix(args.prefix, "the command line"), root):
                print(f"wrote {path.relative_to(root)}")
        organisation = find_organisation(root)
        problems = backend_problems(organisation, root / "stacks")
    except (ConfigError, StackFileError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    if problems:
        return 1
    print(
        f"prefix {organisation.prefix!r} ({ORGANISATION_FILE}); the backend URLs of "
        f"{len(discover_environments(root / 'stacks'))} environments are in step"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
