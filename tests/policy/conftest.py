"""Fixtures of the policy tests: the pack's package on the path, as the analyzer runs it."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
for path in (ROOT, ROOT / "policy"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))  # `tests.policy.views`, and `trading_policies` like __main__
