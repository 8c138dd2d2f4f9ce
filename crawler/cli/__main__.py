"""``python -m crawler.cli``: what ``crawler run-due`` starts for each due portal."""

import sys

from crawler.cli.main import main

sys.exit(main())
