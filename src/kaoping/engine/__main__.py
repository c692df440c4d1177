"""``python -m kaoping.engine PACKAGE.json --out RESULT.json``."""

import sys

from .cli import main

sys.exit(main())
