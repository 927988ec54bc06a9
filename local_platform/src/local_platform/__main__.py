"""`python -m local_platform`: see `local_platform.cli`."""

import sys

from local_platform.cli import main

sys.exit(main())
