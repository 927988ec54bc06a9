"""``python -m platform_core.preview``: see :mod:`platform_core.preview.cli`."""

import sys

from platform_core.preview.cli import main

sys.exit(main())
