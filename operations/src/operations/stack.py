"""Where a deployed environment's names come from: its stack's outputs.

`pulumi stack output --json` (run in `stacks/<env>`, against that environment's backend) is the
source of truth: with an `environmentSuffix`, or a renamed organisation prefix, the names are
not derivable by hand. A saved copy of that JSON works too (`--outputs FILE`), and so does
naming a resource outright (`--table`, `--queue-url`, `--function`).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from operations.errors import OperationsError

__all__ = ["STACKS_DIR", "environments", "stack_outputs"]

STACKS_DIR = Path(__file__).resolve().parents[3] / "stacks"  # operations/src/operations/


def environments() -> list[str]:
    """The environments this checkout has a stack for (a project with its stack config)."""
    return sorted(
        path.parent.name
        for path in STACKS_DIR.glob("*/Pulumi.yaml")
        if (path.parent / f"Pulumi.{path.parent.name}.yaml").is_file()
    )


def _read(path: Path) -> Mapping[str, Any]:
    try:
        outputs = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise OperationsError(
            f"--outputs {path}: cannot read stack outputs JSON ({error})"
        ) from None
    if not isinstance(outputs, Mapping):
        raise OperationsError(
            f"--outputs {path}: expected the JSON object `pulumi stack output --json` prints"
        )
    return outputs


def stack_outputs(environment: str, outputs_file: Path | None = None) -> Mapping[str, Any]:
    """The outputs of ``environment``'s stack, from ``outputs_file`` or from the Pulumi CLI."""
    if outputs_file is not None:
        return _read(outputs_file)
    if environment not in environments():
        raise OperationsError(
            f"--environment {environment!r}: no stacks/{environment}/; "
            f"allowed: {', '.join(environments())}"
        )
    pulumi = shutil.which("pulumi")
    if pulumi is None:
        raise OperationsError(
            "the Pulumi CLI is not on PATH, so the stack's outputs cannot be read; pass "
            "--outputs FILE (saved from `pulumi stack output --json`) or name the resource"
        )
    completed = subprocess.run(
        [pulumi, "stack", "output", "--json", "--stack", environment],
        cwd=STACKS_DIR / environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if completed.returncode != 0:
        reason = (completed.stderr.strip().splitlines() or ["no output"])[-1]
        raise OperationsError(
            f"`pulumi stack output --json --stack {environment}` failed in stacks/{environment}: "
            f"{reason}"
        )
    try:
        outputs = json.loads(completed.stdout)
    except ValueError as error:
        raise OperationsError(f"`pulumi stack output --json` printed no JSON ({error})") from None
    if not isinstance(outputs, Mapping):
        raise OperationsError("`pulumi stack output --json` printed no JSON object")
    return outputs


def output(outputs: Mapping[str, Any], name: str, instead: str) -> str:
    """One output, or an error naming it and the option that can replace it."""
    value = outputs.get(name)
    if not isinstance(value, str) or not value:
        raise OperationsError(
            f"the stack has no output {name!r} (outputs: {', '.join(sorted(outputs)) or 'none'}); "
            f"give {instead}"
        )
    return value
