"""``python -m platform_core.organisation``: see :mod:`platform_core.organisation.cli`."""

import sys

from platform_core.organisation.cli import main

sys.exit(main())
