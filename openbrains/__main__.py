"""`python -m openbrains` is the `openbrains` command."""

import sys

from openbrains.app.cli import main

sys.exit(main())
