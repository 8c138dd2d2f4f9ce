"""`python -m crawler.simulator …`: see `crawler.simulator.server.main`."""

import sys

from crawler.simulator.server import main

sys.exit(main())
