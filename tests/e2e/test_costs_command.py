"""`python -m platform_core.costs` as a user runs it (its output: tests/render/test_costs_stacks.py)."""

from __future__ import annotations

import subprocess
import sys

from tests.repository import ENVIRONMENTS

COMMAND = [sys.executable, "-m", "platform_core.costs"]


def test_an_unknown_environment_is_refused_with_the_known_ones():
    result = subprocess.run(
        [*COMMAND, "--environment", "nowhere"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 2
    assert f"no such environment: nowhere (there are {', '.join(ENVIRONMENTS)})" in result.stderr
