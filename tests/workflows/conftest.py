"""The bootstrap's package on the path: the pipelines must use the roles it trusts."""

from __future__ import annotations

import sys
from pathlib import Path

BOOTSTRAP = Path(__file__).resolve().parents[2] / "bootstrap"
if str(BOOTSTRAP) not in sys.path:
    sys.path.insert(0, str(BOOTSTRAP))
