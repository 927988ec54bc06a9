"""Add an environment: its stack project, its bootstrap stack file, its pipeline and drift check.

An environment is data: a directory of ``stacks/`` whose stack file names the defaults it takes
(``platform:defaults``), a stack file of the bootstrap, and its workflows (the pipeline and the
scheduled drift check). This command writes them all from an existing environment, so the new
one starts as a copy of a known-good design:

    python -m platform_core.new_environment qa --like staging --cost-center cc-1042-qa

It refuses a name that exists, would make an AWS name invalid, is a directory of the repository
(``bootstrap``) or would overwrite a file (a workflow such as ``test.yml``); a VPC range another
environment's overlaps; an empty cost centre. It picks a VPC range no other environment uses
(unless given), and prints what is left to do by hand (account ids, GitHub environments, the
bootstrap run).
"""

from __future__ import annotations

import argparse
import ipaddress
import re
import shutil
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from platform_core.environments import PROFILE_KEY, REPO_ROOT, discover_environments, profile_of
from platform_core.errors import ConfigError
from platform_core.loading import build_config, settings_of
from platform_core.organisation import find_organisation
from platform_core.parsers import TagValue
from platform_core.schema import SCHEMA_PATH, modeline
from platform_core.stack_files import read_stack_config

__all__ = ["NewEnvironment", "create_environment", "main"]

_NAME = re.compile(r"[a-z][a-z0-9]{0,11}")
#: An environment's pipeline and its scheduled drift check, in .github/workflows/.
_WORKFLOW_NAMES = ("{}.yml", "drift-{}.yml")
_WORKFLOWS = Path(".github") / "workflows"


@dataclass(frozen=True)
class NewEnvironment:
    """What to create: ``name`` from ``like``, with its own cost centre and VPC range."""

    name: str
    like: str
    cost_center: str | None = None
    vpc_cidr: ipaddress.IPv4Network | None = None


def _used_vpc_cidrs(root: Path, environments: Sequence[str]) -> dict[str, ipaddress.IPv4Network]:
    """Each environment's VPC range (its own setting, or its defaults')."""
    organisation = find_organisation(root)
    used = {}
    for environment in environments:
        raw = settings_of(read_stack_config(root / "stacks" / environment, environment))
        used[environment] = build_config(environment, raw, organisation).vpc_cidr
    return used


def _free_vpc_cidr(used: Mapping[str, ipaddress.IPv4Network]) -> ipaddress.IPv4Network:
    """The first `10.N.0.0/16` no environment uses, so the VPCs can be peered."""
    for second in range(256):
        candidate = ipaddress.IPv4Network(f"10.{second}.0.0/16")
        if not any(candidate.overlaps(network) for network in used.values()):
            return candidate
    raise ConfigError("the new environment", ["no free 10.N.0.0/16: give --vpc-cidr"])


def _name_problems(name: str, root: Path, environments: Sequence[str]) -> list[str]:
    """Why ``name`` cannot be a new environment: each file it would write must be new, and it
    must not read as one of the repository's own directories or projects."""
    if not _NAME.fullmatch(name):
        return [
            f"name {name!r}: must be 1-12 lowercase letters or digits, starting with a letter "
            "(it starts every resource name)"
        ]
    problems = []
    if name in environments or (root / "stacks" / name).exists():
        problems.append(f"name {name!r}: stacks/{name} exists already")
    if (root / name).exists():
        problems.append(
            f"name {name!r}: the repository has a {name}/ of its own (a stacks/{name} next to it "
            "would be mistaken for it)"
        )
    taken = [
        path.relative_to(root).as_posix()
        for path in (
            root / "bootstrap" / f"Pulumi.{name}.yaml",
            *(root / _WORKFLOWS / pattern.format(name) for pattern in _WORKFLOW_NAMES),
        )
        if path.exists()
    ]
    if taken:
        problems.append(
            f"name {name!r}: {', '.join(taken)} exists already and would be overwritten; "
            "choose another name"
        )
    return problems


def _stack_file(new: NewEnvironment, like_config: dict[str, object], cidr: str, first: str) -> str:
    config: dict[str, object] = {
        key: value
        for key, value in like_config.items()
        if not key.startswith("platform:") or key in ("platform:team", "platform:project")
    }
    config[f"platform:{PROFILE_KEY}"] = profile_of(new.like, like_config)
    config["platform:costCenter"] = new.cost_center or like_config.get("platform:costCenter")
    config["platform:vpcCidr"] = cidr
    header = (
        f"{first}\n"
        f"# The {new.name} environment: {config[f'platform:{PROFILE_KEY}']}'s defaults "
        "(README, \"Per-environment settings\"),\n# with the settings below. Written by "
        "`python -m platform_core.new_environment`.\n"
    )
    return header + yaml.safe_dump({"config": config}, sort_keys=False)


def _replace_word(text: str, old: str, new: str) -> str:
    return re.sub(rf"(?<![A-Za-z0-9]){re.escape(old)}(?![A-Za-z0-9])", new, text)


def create_environment(new: NewEnvironment, root: Path = REPO_ROOT) -> list[Path]:
    """Write the new environment's files; return them. Nothing is written on an error."""
    stacks = root / "stacks"
    environments = discover_environments(stacks)
    problems = _name_problems(new.name, root, environments)
    if new.like not in environments:
        problems.append(f"--like {new.like!r}: must be one of {', '.join(environments)}")
    if new.cost_center is not None:
        try:
            TagValue()(new.cost_center)
        except ValueError as error:
            problems.append(
                f"--cost-center {new.cost_center!r}: {error} (leave it out to take the "
                "copied environment's)"
            )
    used = _used_vpc_cidrs(root, environments)
    taken = {
        env: cidr for env, cidr in used.items() if new.vpc_cidr and cidr.overlaps(new.vpc_cidr)
    }
    if taken:
        problems.append(
            f"--vpc-cidr {new.vpc_cidr}: overlaps "
            + ", ".join(f"{env}'s {cidr}" for env, cidr in taken.items())
            + "; each environment needs a range of its own (so they can be peered), e.g. "
            f"{_free_vpc_cidr(used)}"
        )
    if problems:
        raise ConfigError("the new environment", problems)
    like_config = read_stack_config(stacks / new.like, new.like)
    cidr = new.vpc_cidr or _free_vpc_cidr(used)
    organisation = find_organisation(root)
    target = stacks / new.name
    # Validate the new stack file before anything is written.
    # Its first line names the schema, so editors validate it as the others.
    schema = root / SCHEMA_PATH.relative_to(REPO_ROOT)
    first = modeline(target / f"Pulumi.{new.name}.yaml", schema)
    stack_text = _stack_file(new, like_config, str(cidr), first)
    build_config(new.name, settings_of(yaml.safe_load(stack_text)["config"]), organisation)

    target.mkdir()
    shutil.copy(stacks / new.like / "__main__.py", target / "__main__.py")
    # Name, description and state bucket all carry the environment's name.
    project = _replace_word((stacks / new.like / "Pulumi.yaml").read_text(), new.like, new.name)
    (target / "Pulumi.yaml").write_text(project)
    (target / f"Pulumi.{new.name}.yaml").write_text(stack_text)
    written = [target / "__main__.py", target / "Pulumi.yaml", target / f"Pulumi.{new.name}.yaml"]

    bootstrap = root / "bootstrap" / f"Pulumi.{new.like}.yaml"
    if bootstrap.is_file():
        text = _replace_word(bootstrap.read_text(), new.like, new.name)
        written.append(root / "bootstrap" / f"Pulumi.{new.name}.yaml")
        written[-1].write_text(text)
    # Its pipeline, and its scheduled drift check.
    for pattern in _WORKFLOW_NAMES:
        workflow = root / _WORKFLOWS / pattern.format(new.like)
        if workflow.is_file():
            written.append(workflow.with_name(pattern.format(new.name)))
            written[-1].write_text(_replace_word(workflow.read_text(), new.like, new.name))
    return written


def main(argv: Sequence[str] | None = None, root: Path = REPO_ROOT) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m platform_core.new_environment",
        description="Add an environment as a copy of an existing one: its stack project, its "
        "bootstrap stack file, its pipeline and its drift check.",
    )
    parser.add_argument("name", help="the new environment, e.g. qa (lowercase, 1-12 characters)")
    parser.add_argument(
        "--like", required=True, help="the environment to copy; the new one takes its defaults"
    )
    parser.add_argument("--cost-center", help="its CostCenter tag (default: the copied one's)")
    parser.add_argument(
        "--vpc-cidr",
        type=ipaddress.IPv4Network,
        help="its VPC range (default: the first 10.N.0.0/16 no environment uses)",
    )
    args = parser.parse_args(argv)
    new = NewEnvironment(args.name, args.like, args.cost_center, args.vpc_cidr)
    try:
        written = create_environment(new, root)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for path in written:
        print(f"wrote {path.relative_to(root)}")
    print(
        f'\nLeft to do (README, "A new environment"):\n'
        f"  1. bootstrap/Pulumi.{new.name}.yaml: set bootstrap:accountId (and costCenter), then\n"
        f"     run the bootstrap for stack {new.name}.\n"
        f"  2. In GitHub, create the environments {new.name} and {new.name}-preview with the\n"
        "     role ARNs the bootstrap printed.\n"
        "  3. python -m platform_core.docs   (the settings table and the environment report)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
