"""`python -m app` is `openbrains`."""

import sys

from app.cli import main

sys.exit(main())
