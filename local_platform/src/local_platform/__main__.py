"""`python -m local_platform`: see `local_platform.run`."""

import sys

from local_platform.run import main

sys.exit(main())
