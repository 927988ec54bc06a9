"""The environments of a repository are data: one Pulumi project per directory of ``stacks/``.

Adding an environment is adding a directory (README, "A new environment"); the report, the
tests and the tools find it here. They are listed in the order of the defaults they take
(dev, staging, production), each profile's own environment first, then by name.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from platform_core.dials import CONFIG_NAMESPACE, PROFILES
from platform_core.stack_files import read_stack_config

__all__ = ["PROFILE_KEY", "REPO_ROOT", "STACKS_DIR", "discover_environments", "profile_of"]

#: This repository: platform_core is installed from it in development (editable).
REPO_ROOT: Final = Path(__file__).resolve().parents[4]
STACKS_DIR: Final = REPO_ROOT / "stacks"
#: The stack-file key naming the column of defaults an environment takes.
PROFILE_KEY: Final = "defaults"


def profile_of(environment: str, stack_config: dict[str, object]) -> str:
    """The defaults an environment takes: ``platform:defaults``, else its own name."""
    value = stack_config.get(f"{CONFIG_NAMESPACE}:{PROFILE_KEY}", environment)
    return str(value)


def _rank(stacks_dir: Path, environment: str) -> tuple[int, bool, str]:
    profile = profile_of(environment, read_stack_config(stacks_dir / environment, environment))
    rank = PROFILES.index(profile) if profile in PROFILES else len(PROFILES)
    return rank, environment != profile, environment


def discover_environments(stacks_dir: Path = STACKS_DIR) -> tuple[str, ...]:
    """Every ``<stacks_dir>/<env>/`` with a ``Pulumi.yaml`` and its ``Pulumi.<env>.yaml``."""
    found = [
        path.name
        for path in stacks_dir.iterdir()
        if (path / "Pulumi.yaml").is_file() and (path / f"Pulumi.{path.name}.yaml").is_file()
    ]
    return tuple(sorted(found, key=lambda environment: _rank(stacks_dir, environment)))
