"""The offline engine leaves nothing behind: a render's threads and event loops end with it."""

from __future__ import annotations

import subprocess
import sys

from tests.repository import REPO_ROOT

# A refused setting, then a good render, in one interpreter that treats a resource left open
# (an event loop, its socket pair) as an error: collected at exit, it prints a traceback.
PROGRAM = """
import contextlib
from platform_core.offline import RenderError, close_event_loop, render_stack
from tests.repository import STACKS_DIR
with contextlib.suppress(RenderError):
    render_stack(STACKS_DIR / "dev", overrides={"platform:lambdaMemoryMb": "99999"})
render_stack(STACKS_DIR / "dev")
close_event_loop()
print("rendered")
"""


def test_renders_leave_no_event_loop_for_the_interpreter_to_collect():
    result = subprocess.run(
        [sys.executable, "-W", "error::ResourceWarning", "-c", PROGRAM],
        capture_output=True, text=True, check=False, cwd=REPO_ROOT, timeout=120,
    )  # fmt: skip
    assert (result.returncode, result.stdout) == (0, "rendered\n"), result.stderr
    assert "Exception ignored" not in result.stderr and "ResourceWarning" not in result.stderr
